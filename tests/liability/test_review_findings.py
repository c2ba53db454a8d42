"""Holes found in review, each pinned by a test: who may write a chain, what the chain may
rely on, which evidence is admissible, and inputs that must be refused cleanly."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.catalog.model import Result
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta, Grant
from xinren.documents.store import FileStore
from xinren.errors import Conflict, ValidationFailed
from xinren.liability import model
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.provenance import chain as chains
from xinren.provenance.model import ChainFacts, GapKind, LabReport, trace


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "docs")


def facts(**kw):
    base = dict(
        sale_day=date(2026, 6, 1),
        sale_at=datetime(2026, 6, 1, tzinfo=UTC),
        seller="merchant:shop",
        manufacturer="manufacturer:m",
        brand_owner="brand_owner:o",
        brand_protected=True,
        batch_class="urn:b",
        events=(),
        grants=(),
        reports=(),
        party_refs={},
    )
    return ChainFacts(**(base | kw))


def grant(grantor, grantee, scope, start, end, ident=1):
    return Grant(ident, grantor, grantee, scope, start, end, "d" * 64, False)


def test_authority_passes_on_only_through_a_valid_distribute_grant():
    g = (
        grant("brand_owner:o", "supplier:d", "distribute", date(2026, 1, 1), date(2026, 3, 31), 1),
        grant("brand_owner:o", "supplier:d", "sell", date(2026, 1, 1), date(2026, 12, 31), 2),
        grant("supplier:d", "merchant:shop", "sell", date(2026, 2, 1), date(2026, 12, 31), 3),
    )
    chain = trace(facts(grants=g))
    assert (GapKind.MISSING_AUTHORIZATION, "merchant:shop") in {
        (x.kind, x.party) for x in chain.gaps
    }
    # in February, while d could still distribute, the shop was authorized
    february = trace(facts(grants=g, sale_day=date(2026, 2, 15)))
    assert GapKind.MISSING_AUTHORIZATION not in {x.kind for x in february.gaps}


def test_unaccredited_reports_are_not_admissible_even_alone():
    report = LabReport("r" * 64, "lab:x", "lab:x", date(2026, 5, 1), False, "bad", False, None)
    best, why = model.prevailing([report], frozenset(), liability.policy())
    assert best is None and "not admissible" in why[0]


def test_events_after_the_sale_do_not_change_the_chain(session, clock, store):
    case = stories.phone_case(session, clock, store, "pf")
    r = case.refs
    samples.verified(session, clock, "supplier:d-pf")
    line = chains.line_of(session, case.order_id)
    b = stories._Builder(session, clock, store, "pf2")
    clock.advance(days=3)
    b.event(
        "ObjectEvent",
        "shipping",
        clock.now(),
        line.batch.epc_class,
        source=r["shop"],
        dest="supplier:d-pf",
    )
    b.import_events(recorded_by=r["shop"])
    _, chain = chains.chain_of(session, case.order_id)
    assert chain.gaps == () and chain.custodians[-1] == r["shop"]


def test_a_broken_custody_chain_does_not_blame_the_maker_for_a_counterfeit(session, clock, store):
    """No events at all, unprotected brand, a failing report: the seller cannot show where the
    goods came from, so the maker is not presumed to have made the fake."""
    for ref in ("brand_owner:o", "manufacturer:m", "merchant:s"):
        samples.verified(session, clock, ref)
    samples.verified(session, clock, "lab:l", accreditation="CNAS L1")
    brand = catalog.create_brand(session, clock, name="Plain", owner="brand_owner:o")
    product = catalog.create_product(
        session, clock, brand_id=brand.id, manufacturer="manufacturer:m", name="p", category="food"
    )
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot="L1",
        production_date=date(2026, 7, 1),
        quantity=10,
        registered_by="manufacturer:m",
    )
    meta = DocumentMeta(
        DocType.SAMPLING_REPORT, "text/plain", "lab:l", f"batch:{batch.id}", accreditation="CNAS L1"
    )
    doc = documents.add(session, clock, store, b"fake", meta).sha256
    catalog.add_inspection(
        session,
        clock,
        batch_id=batch.id,
        document=doc,
        commissioned_by="lab:l",
        sampled_on=date(2026, 7, 10),
        result=Result.FAIL,
        finding="not genuine",
    )
    listing = catalog.create_listing(
        session,
        clock,
        merchant="merchant:s",
        product_id=product.id,
        batch_ids=[batch.id],
        title="t",
        price=100,
        currency="CNY",
    )
    deposits.pay_deposit(session, clock, "d", "merchant:s", 1_000_000, "CNY")
    o = orders.create_order(
        session,
        clock,
        "o",
        buyer="buyer:1",
        merchant="merchant:s",
        total=100,
        currency="CNY",
        category="food",
        listing_id=listing.id,
    )
    result, chain = liability.assess(session, clock, o.id, Finding.COUNTERFEIT, assessed_by="r")
    assert not chain.custody_evidenced
    assert result.rule == "seller-default" and [x.party for x in result.primary] == ["merchant:s"]
    cleared = {x.party: x.facts for x in result.cleared}
    assert any("no commissioning event" in f for f in cleared["manufacturer:m"])


def test_batches_are_registered_by_their_maker_or_an_authorized_trader(session, clock, store):
    case = stories.phone_case(session, clock, store, "rb")
    samples.verified(session, clock, "supplier:stranger-rb")
    line = chains.line_of(session, case.order_id)
    with pytest.raises(Conflict) as err:
        catalog.create_batch(
            session,
            clock,
            product_id=line.product.id,
            lot="X1",
            production_date=date(2026, 7, 1),
            quantity=1,
            registered_by="supplier:stranger-rb",
        )
    assert err.value.field == "registered_by"
    # the authorized distributor may
    assert (
        catalog.create_batch(
            session,
            clock,
            product_id=line.product.id,
            lot="X2",
            production_date=date(2026, 7, 1),
            quantity=1,
            registered_by=case.refs["supplier"],
        ).lot
        == "X2"
    )


def test_reports_must_be_about_the_batch_and_facts_finite(session, clock, store):
    case = stories.phone_case(session, clock, store, "rs")
    meta = DocumentMeta(
        DocType.INSPECTION_REPORT,
        "text/plain",
        case.refs["lab"],
        "batch:999999",
        accreditation="CNAS L0125",
    )
    doc = documents.add(session, clock, store, b"other", meta).sha256
    with pytest.raises(ValidationFailed, match="not this batch"):
        catalog.add_inspection(
            session,
            clock,
            batch_id=case.batch_id,
            document=doc,
            commissioned_by=case.refs["lab"],
            sampled_on=date(2026, 7, 1),
            result=Result.PASS,
            finding="ok",
        )
    brand = catalog.create_brand(session, clock, name="N", owner=case.refs["owner"])
    for bad in (math.nan, math.inf, 2**60):
        with pytest.raises(ValidationFailed) as err:
            catalog.create_product(
                session,
                clock,
                brand_id=brand.id,
                manufacturer=case.refs["maker"],
                name="n",
                category="food",
                facts={"weight_g": bad},
            )
        assert err.value.field == "facts.weight_g"


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
