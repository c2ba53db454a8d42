"""Accountability over HTTP: parties, catalog, evidence, EPCIS, chain, liability, recalls,
with the role matrix (a supplier sees its own batches, a brand owner its brand's listings,
reviewers everything)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "docs")


@pytest.fixture
def world(factory, clock, store):
    with factory() as s:
        phone = stories.phone_case(s, clock, store, "api")
        nest = stories.birds_nest_case(s, clock, store, "api", buyers=3)
        keys = {}
        for name, role, subject in [
            ("reviewer", "reviewer", "reviewer:1"),
            ("auditor", "auditor", None),
            ("supplier", "supplier", phone.refs["supplier"]),
            ("maker", "manufacturer", phone.refs["maker"]),
            ("owner", "brand_owner", phone.refs["owner"]),
            ("shop", "merchant", phone.refs["shop"]),
            ("other_shop", "merchant", nest.refs["shop"]),
            ("buyer", "buyer", "buyer:phone-fan"),
            ("stranger", "buyer", "buyer:nobody"),
            ("platform", "platform", None),
        ]:
            keys[name] = access.create_key(s, clock, role, subject=subject)[1]
        s.commit()
    return phone, nest, keys


@pytest.fixture
def client(factory, clock, store):
    return TestClient(create_app(clock=clock, sessions=factory, store=store))


def call(client, key, method, path, idem=None, **kw):
    headers = {"Authorization": f"Bearer {key}"} | kw.pop("headers", {})
    if idem:
        headers["Idempotency-Key"] = idem
    return client.request(method, path, headers=headers, **kw)


def test_role_matrix_for_batches_and_listings(client, world):
    phone, nest, keys = world
    ids = lambda r: sorted(x["id"] for x in r.json())  # noqa: E731
    everything = ids(call(client, keys["reviewer"], "GET", "/v1/catalog/batches"))
    assert phone.batch_id in everything and nest.batch_id in everything
    assert ids(call(client, keys["maker"], "GET", "/v1/catalog/batches")) == [phone.batch_id]
    assert call(client, keys["supplier"], "GET", "/v1/catalog/batches").json() == []
    assert (
        call(client, keys["maker"], "GET", f"/v1/catalog/batches/{nest.batch_id}").status_code
        == 404
    )
    assert call(client, keys["buyer"], "GET", "/v1/catalog/batches").status_code == 403
    # a brand owner sees the listings of its brands only
    own = call(client, keys["owner"], "GET", "/v1/catalog/listings").json()
    assert own and all(x["merchant"] == phone.refs["shop"] for x in own)
    all_listings = call(client, keys["reviewer"], "GET", "/v1/catalog/listings").json()
    assert len(all_listings) > len(own)
    assert (
        call(client, keys["other_shop"], "GET", "/v1/catalog/listings").json()[0]["merchant"]
        == nest.refs["shop"]
    )


def test_chain_liability_and_parties_over_http(client, world):
    phone, _, keys = world
    chain = call(client, keys["shop"], "GET", f"/v1/orders/{phone.order_id}/chain")
    assert chain.status_code == 200 and chain.json()["complete"] is True
    assert (
        call(client, keys["other_shop"], "GET", f"/v1/orders/{phone.order_id}/chain").status_code
        == 404
    )
    r = call(
        client,
        keys["shop"],
        "POST",
        f"/v1/orders/{phone.order_id}/liability",
        "a1",
        json={"finding": "not_as_described"},
    )
    assert r.status_code == 403, r.text
    r = call(
        client,
        keys["reviewer"],
        "POST",
        f"/v1/orders/{phone.order_id}/liability",
        "a2",
        json={"finding": "not_as_described"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["rule"] == "misrepresentation-by-host"
    assert r.json()["pays_first"]["party"] == phone.refs["shop"]
    r = call(
        client,
        keys["reviewer"],
        "POST",
        f"/v1/orders/{phone.order_id}/liability",
        "a3",
        json={"finding": "lies"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "finding"
    # the buyer gets the seller's and host's real identity; a stranger does not
    who = call(client, keys["buyer"], "GET", f"/v1/orders/{phone.order_id}/parties").json()
    assert who["seller"]["legal_name"] and who["host"]["registration_number"]
    assert (
        call(client, keys["stranger"], "GET", f"/v1/orders/{phone.order_id}/parties").status_code
        == 403
    )
    # public vs full identity
    public = call(client, keys["stranger"], "GET", f"/v1/parties/{phone.refs['shop']}").json()
    assert "payment_account" not in public and public["legal_name"]
    assert (
        "payment_account"
        in call(client, keys["shop"], "GET", f"/v1/parties/{phone.refs['shop']}").json()
    )


def test_trader_verification_over_http(client, world):
    _, _, keys = world
    info = {
        "legal_name": "Grey Goods Ltd",
        "address": "1 Road",
        "registration_number": "91330100MA0000001X",
        "payment_account": "CN-1",
        "contact_phone": "+86 571 1234 5678",
        "self_certified": True,
    }
    r = call(
        client,
        keys["platform"],
        "POST",
        "/v1/parties",
        json={"ref": "supplier:grey", "display_name": "Grey"},
    )
    assert r.status_code == 201 and r.json()["status"] == "unverified"
    r = call(
        client,
        keys["platform"],
        "PUT",
        "/v1/parties/supplier:grey/trader-info",
        "i1",
        json=info | {"self_certified": False},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "self_certified"
    r = call(
        client, keys["platform"], "PUT", "/v1/parties/supplier:grey/trader-info", "i1", json=info
    )
    assert r.json()["status"] == "pending"
    r = call(
        client,
        keys["platform"],
        "POST",
        "/v1/parties/supplier:grey/decisions",
        "d1",
        json={"status": "verified", "reason": "ok"},
    )
    assert r.status_code == 403
    r = call(
        client,
        keys["reviewer"],
        "POST",
        "/v1/parties/supplier:grey/decisions",
        "d1",
        json={"status": "verified", "reason": "licence checked"},
    )
    assert r.json()["status"] == "verified"
    hist = call(client, keys["reviewer"], "GET", "/v1/parties/supplier:grey/history").json()
    assert [h["to"] for h in hist] == ["pending", "verified"] and hist[1][
        "decided_by"
    ] == "reviewer:1"


def test_catalog_creates_are_idempotent_and_checked(client, world):
    phone, _, keys = world
    listing = call(client, keys["reviewer"], "GET", "/v1/catalog/listings").json()[0]
    body = {
        "merchant": phone.refs["shop"],
        "product_id": listing["product_id"],
        "batch_ids": [phone.batch_id],
        "title": "Huamei P50 again",
        "price": 299_900,
        "currency": "CNY",
    }
    first = call(client, keys["shop"], "POST", "/v1/catalog/listings", "l-1", json=body)
    again = call(client, keys["shop"], "POST", "/v1/catalog/listings", "l-1", json=body)
    assert first.status_code == 201 and again.status_code == 200 and again.json() == first.json()
    reused = call(
        client, keys["shop"], "POST", "/v1/catalog/listings", "l-1", json=body | {"price": 1}
    )
    assert reused.status_code == 409
    other = call(client, keys["other_shop"], "POST", "/v1/catalog/listings", "l-2", json=body)
    assert other.status_code == 403
    bad = call(
        client, keys["shop"], "POST", "/v1/catalog/listings", "l-3", json=body | {"batch_ids": []}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "batch_ids"
    count = len(call(client, keys["reviewer"], "GET", "/v1/catalog/listings").json())
    assert count == 3  # the two cases' listings and the one created once above


def test_documents_epcis_and_recall_over_http(client, world, clock):
    _, nest, keys = world
    content = b"sampling report: sugar water"
    r = call(
        client,
        keys["reviewer"],
        "POST",
        "/v1/documents",
        content=content,
        params={
            "doc_type": "sampling_report",
            "issuer": nest.refs["lab"],
            "subject": f"batch:{nest.batch_id}",
            "accreditation": "CNAS L0889",
        },
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 201 and r.json()["sha256"] == hashlib.sha256(content).hexdigest()
    got = call(client, keys["auditor"], "GET", f"/v1/documents/{r.json()['sha256']}")
    assert got.content == content and got.headers["content-type"].startswith("text/plain")
    no_lab = call(
        client,
        keys["reviewer"],
        "POST",
        "/v1/documents",
        content=b"x",
        params={"doc_type": "inspection_report", "issuer": "lab:x", "subject": "batch:1"},
    )
    assert no_lab.status_code == 422 and no_lab.json()["errors"][0]["field"] == "accreditation"

    exported = call(
        client, keys["reviewer"], "GET", "/v1/provenance/epcis", params={"batch_id": nest.batch_id}
    )
    assert exported.headers["content-type"].startswith("application/ld+json")
    doc = json.loads(exported.content)
    assert len(doc["epcisBody"]["eventList"]) == 3
    back = call(client, keys["platform"], "POST", "/v1/provenance/epcis", json=doc)
    assert back.json()["replayed"] == 3 and back.json()["created"] == 0
    bad = call(
        client, keys["platform"], "POST", "/v1/provenance/epcis", json={"type": "EPCISDocument"}
    )
    assert bad.status_code == 422
    assert call(client, keys["buyer"], "POST", "/v1/provenance/epcis", json=doc).status_code == 403

    body = {
        "batch_id": nest.batch_id,
        "finding": "counterfeit",
        "reason": "no bird's nest",
        "evidence": [nest.docs["independent_report"]],
    }
    assert (
        call(client, keys["shop"], "POST", "/v1/provenance/recalls", "rc", json=body).status_code
        == 403
    )
    r = call(client, keys["reviewer"], "POST", "/v1/provenance/recalls", "rc", json=body)
    assert r.status_code == 201 and r.json()["buyers"] == 3
    assert (
        call(
            client, keys["reviewer"], "POST", "/v1/provenance/recalls", "rc", json=body
        ).status_code
        == 200
    )
    assert (
        call(client, keys["auditor"], "GET", f"/v1/provenance/recalls/{r.json()['id']}").json()[
            "buyers"
        ]
        == 3
    )
