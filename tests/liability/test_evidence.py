"""What a liability assessment may rely on: authority passes only through a valid distribute
grant, only accredited reports are admissible, events after the sale and a broken custody chain
do not shift the blame, batches are registered by their maker or an authorized trader, reports
are about the batch and facts are finite."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import pytest

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
