"""The supply-chain routes guard who writes what: a party cannot write events into another's
chain; products, live sessions and documents are guarded; out-of-range numbers are refused, not
crashed on."""

from __future__ import annotations

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
def http(factory, clock, store):
    with factory() as s:
        phone = stories.phone_case(s, clock, store, "h")
        nest = stories.birds_nest_case(s, clock, store, "h", buyers=1)
        keys = {
            name: access.create_key(s, clock, role, subject=subject)[1]
            for name, role, subject in [
                ("other_shop", "merchant", nest.refs["shop"]),
                ("maker", "manufacturer", nest.refs["maker"]),
                ("host", "host", phone.refs["host"]),
                ("supplier", "supplier", phone.refs["supplier"]),
                ("buyer", "buyer", "buyer:phone-fan"),
                ("stranger", "buyer", "buyer:x"),
                ("reviewer", "reviewer", "reviewer:1"),
            ]
        }
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory, store=store))

    def call(who, method, path, idem=None, **kw):
        headers = {"Authorization": f"Bearer {keys[who]}"}
        if idem:
            headers["Idempotency-Key"] = idem
        return client.request(method, path, headers=headers, **kw)

    return phone, nest, call


def test_a_party_cannot_write_events_into_someone_elses_chain(http, clock):
    phone, _nest, call = http
    exported = call(
        "reviewer", "GET", "/v1/provenance/epcis", params={"batch_id": phone.batch_id}
    ).json()
    event = dict(exported["epcisBody"]["eventList"][1])
    forged = event | {"eventID": "urn:uuid:00000000-0000-4000-8000-000000000001"}
    doc = exported | {"epcisBody": {"eventList": [forged]}}
    r = call("other_shop", "POST", "/v1/provenance/epcis", json=doc)
    assert r.status_code == 403 and "name it" in r.json()["detail"]
    # a party in the hand-over may record it; only its recorder may declare it erroneous
    assert call("supplier", "POST", "/v1/provenance/epcis", json=doc).status_code == 200
    declared = forged | {"errorDeclaration": {"declarationTime": clock.now().isoformat()}}
    doc2 = exported | {"epcisBody": {"eventList": [declared]}}
    assert call("other_shop", "POST", "/v1/provenance/epcis", json=doc2).status_code == 403


def test_products_live_sessions_and_documents_are_guarded(http):
    phone, nest, call = http
    brand = call("reviewer", "GET", "/v1/catalog/listings").json()[0]
    product = call("reviewer", "GET", f"/v1/catalog/products/{brand['product_id']}").json()
    r = call(
        "maker",
        "POST",
        "/v1/catalog/products",
        "p1",
        json={
            "brand_id": product["brand_id"],
            "manufacturer": nest.refs["maker"],
            "name": "fake",
            "category": "electronics",
        },
    )
    assert r.status_code == 403
    r = call(
        "host",
        "POST",
        "/v1/catalog/live-sessions",
        "ls1",
        json={
            "host": phone.refs["host"],
            "merchant": nest.refs["shop"],
            "title": "t",
            "starts_at": "2026-07-20T10:00:00+00:00",
            "ends_at": "2026-07-20T11:00:00+00:00",
        },
    )
    assert r.status_code == 403
    invoice = phone.docs["invoice"]
    assert call("stranger", "GET", f"/v1/documents/{invoice}").status_code == 404
    assert call("supplier", "GET", f"/v1/documents/{invoice}").status_code == 200
    who = call("buyer", "GET", f"/v1/orders/{phone.order_id}/parties").json()
    assert who["seller"]["legal_name"] and "payment_account" not in who["seller"]
    assert call("reviewer", "GET", f"/v1/orders/{phone.order_id}/parties").json()["seller"][
        "payment_account"
    ]


def test_out_of_range_numbers_are_refused_not_crashed(http):
    _, _, call = http
    r = call("reviewer", "GET", f"/v1/catalog/brands/{2**70}")
    assert r.status_code == 422 and "64-bit" in r.json()["detail"]
