"""Notices (DSA Art. 16), trusted flaggers (Art. 22) and abusive reporters (Art. 23)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from xinren.catalog import service as catalog
from xinren.demo import samples
from xinren.errors import Conflict, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.events.tables import outbox
from xinren.rules import notices
from xinren.rules.model import ReporterStanding
from xinren.rules.tables import notices as notices_table
from xinren.rules.tables import reporters

SHOP = "merchant:honest"
TROLL = "buyer:troll"


@pytest.fixture
def shop(session, clock):
    return samples.verified(session, clock, SHOP)


def file(session, clock, key, reporter=TROLL, target=SHOP, category="misrepresentation", **kw):
    return notices.file_notice(
        session,
        clock,
        key,
        reporter=reporter,
        target=target,
        category=category,
        text=kw.pop("text", "the goods were not as described"),
    )


def decide(session, clock, key, notice_id, outcome="manifestly_unfounded", **kw):
    return notices.decide(
        session,
        clock,
        key,
        notice_id,
        outcome=outcome,
        reason=kw.pop("reason", "the order shows the goods matched the listing"),
        decided_by=kw.pop("decided_by", "reviewer:ann"),
        **kw,
    )


def topics(session, topic):
    return [e for e in events.read(session, limit=1000) if e.topic == topic]


def counts(session):
    return tuple(
        session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (notices_table, reporters, outbox)
    )


def test_abusive_reporter_is_warned_then_suspended_then_heard_again(session, clock, shop):
    """The article's case: a buyer files report after report against an honest shop."""
    for i in range(1, 6):
        n = file(session, clock, f"troll-{i}")
        assert n.status == "open" and not n.trusted
        clock.advance(hours=1)
        decide(session, clock, f"troll-{i}-d", n.id)
        rec = notices.record(session, clock, TROLL)
        if i < 3:
            assert rec.standing is ReporterStanding.GOOD and rec.warned_at is None
        elif i < 5:
            assert rec.standing is ReporterStanding.WARNED and rec.suspended_until is None
    assert len(topics(session, "reporter.warned")) == 1  # at the 3rd, not again at the 4th
    [suspended] = topics(session, "reporter.suspended")
    rec = notices.record(session, clock, TROLL)
    assert rec.standing is ReporterStanding.SUSPENDED
    assert rec.suspended_until == clock.now() + timedelta(days=30)
    assert rec.warned_at is not None and rec.manifestly_unfounded_in_window == 5
    assert suspended.subject == TROLL and suspended.payload["manifestly_unfounded"] == 5

    sixth = file(session, clock, "troll-6")
    assert sixth.status == "not_processed"
    assert rec.suspended_until.isoformat() in (sixth.reason or "")
    assert sixth.id not in [n.id for n in notices.queue(session)]
    assert topics(session, "notice.filed")[-1].payload["status"] == "not_processed"
    with pytest.raises(Conflict) as err:
        decide(session, clock, "troll-6-d", sixth.id)
    assert err.value.field == "notice_id"
    assert notices.record(session, clock, TROLL).notices == {
        "founded": 0,
        "unfounded": 0,
        "manifestly_unfounded": 5,
        "open": 0,
        "not_processed": 1,
    }

    clock.advance(days=30)  # the suspension ends on its own
    rec = notices.record(session, clock, TROLL)
    assert rec.standing is ReporterStanding.WARNED
    seventh = file(session, clock, "troll-7")
    assert seventh.status == "open" and seventh.reason is None
    assert [n.id for n in notices.queue(session)] == [seventh.id]


def test_suspension_counts_only_notices_within_the_window(session, clock, shop):
    for i in range(4):
        decide(session, clock, f"old-{i}-d", file(session, clock, f"old-{i}").id)
    clock.advance(days=181)
    decide(session, clock, "new-d", file(session, clock, "new").id)
    rec = notices.record(session, clock, TROLL)
    assert rec.manifestly_unfounded_in_window == 1
    assert rec.standing is ReporterStanding.GOOD and rec.suspended_until is None


def test_trusted_flaggers_come_first_then_the_oldest(session, clock, shop):
    first = file(session, clock, "q1", reporter="buyer:a")
    clock.advance(minutes=1)
    second = file(session, clock, "q2", reporter="buyer:b")
    notices.set_trusted(session, clock, "lab:cti", True, decided_by="reviewer:ann")
    clock.advance(minutes=1)
    flagged = file(session, clock, "q3", reporter="lab:cti", category="counterfeit")
    assert flagged.trusted and not first.trusted
    assert [n.id for n in notices.queue(session)] == [flagged.id, first.id, second.id]
    assert [n.id for n in notices.queue(session, limit=1)] == [flagged.id]
    assert notices.record(session, clock, "lab:cti").trusted
    [changed] = topics(session, "reporter.trust_changed")
    assert changed.payload == {"reporter": "lab:cti", "trusted": True, "decided_by": "reviewer:ann"}
    # setting it again changes nothing; withdrawing it is recorded
    notices.set_trusted(session, clock, "lab:cti", True, decided_by="reviewer:ann")
    assert len(topics(session, "reporter.trust_changed")) == 1
    assert not notices.set_trusted(
        session, clock, "lab:cti", False, decided_by="reviewer:bo"
    ).trusted
    assert not file(session, clock, "q4", reporter="lab:cti", category="counterfeit").trusted


def test_founded_malicious_orders_count_against_the_buyer(session, clock, shop):
    n = file(
        session,
        clock,
        "mo-1",
        reporter=SHOP,
        target="buyer:fraud",
        category="malicious_orders",
        text="twelve orders refused on delivery in a week, each after the goods were opened",
    )
    decide(session, clock, "mo-1-d", n.id, outcome="founded", reason="the delivery records agree")
    other = file(
        session, clock, "mo-2", reporter=SHOP, target="buyer:fraud", category="malicious_reports"
    )
    decide(session, clock, "mo-2-d", other.id, outcome="unfounded", reason="no pattern found")
    rec = notices.record(session, clock, "buyer:fraud")
    assert [x.id for x in rec.founded_against] == [n.id]
    assert rec.founded_against[0].category == "malicious_orders"
    assert rec.standing is ReporterStanding.GOOD and rec.notices["founded"] == 0
    shop_rec = notices.record(session, clock, SHOP)
    assert shop_rec.notices["founded"] == 1 and shop_rec.notices["unfounded"] == 1
    assert shop_rec.founded_against == ()


def test_founded_notices_about_a_listing_count_against_its_merchant(session, clock, shop):
    for ref in ("brand_owner:acme", "manufacturer:m1"):
        samples.verified(session, clock, ref)
    brand = catalog.create_brand(
        session,
        clock,
        name="Acme",
        owner="brand_owner:acme",
        protected=False,
        ref_price_min=100,
        ref_price_max=200,
        keywords=["acme"],
    )
    product = catalog.create_product(
        session,
        clock,
        brand_id=brand.id,
        manufacturer="manufacturer:m1",
        name="Acme kettle",
        category="appliances",
        facts={"volume_l": 1.7},
    )
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot="K-1",
        production_date=date(2025, 12, 1),
        quantity=100,
        registered_by="manufacturer:m1",
    )
    listing = catalog.create_listing(
        session,
        clock,
        merchant=SHOP,
        product_id=product.id,
        batch_ids=[batch.id],
        title="Acme kettle",
        price=150,
        currency="CNY",
    )
    n = file(session, clock, "l-1", target=f"listing:{listing.id}", category="counterfeit")
    decide(session, clock, "l-1-d", n.id, outcome="founded", reason="the lab report says so")
    assert [x.id for x in notices.record(session, clock, SHOP).founded_against] == [n.id]
    with pytest.raises(NotFound) as err:
        file(session, clock, "l-2", target=f"listing:{listing.id + 1000}")
    assert err.value.field == "target"


@pytest.mark.parametrize(
    ("reporter", "category", "field"),
    [
        ("buyer:a", "malicious_orders", "target"),
        ("host:star", "malicious_reports", "target"),
        ("lab:cti", "malicious_orders", "target"),
        (SHOP, "counterfeit", "category"),
        (SHOP, "other", "category"),
    ],
)
def test_only_merchants_complain_about_buyers(session, clock, shop, reporter, category, field):
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        file(session, clock, "b-1", reporter=reporter, target="buyer:x", category=category)
    assert err.value.field == field
    assert counts(session) == before
    ok = file(session, clock, "b-2", reporter=SHOP, target="buyer:x", category="malicious_reports")
    assert ok.status == "open"


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"category": "rudeness"}, ValidationFailed, "category"),
        ({"target": "shop:honest"}, ValidationFailed, "target"),
        ({"target": "listing:abc"}, ValidationFailed, "target"),
        ({"target": "merchant:nobody"}, NotFound, "target"),
        ({"target": "listing:999999"}, NotFound, "target"),
        ({"text": "   "}, ValidationFailed, "text"),
        ({"text": "x" * 5001}, ValidationFailed, "text"),
        ({"reporter": "nobody"}, ValidationFailed, "reporter"),
        ({"key": "has space"}, ValidationFailed, "idempotency_key"),
    ],
)
def test_bad_notices_name_the_field_and_write_nothing(session, clock, shop, change, error, field):
    before = counts(session)
    with pytest.raises(error) as err:
        file(session, clock, change.pop("key", "bad-1"), **change)
    assert err.value.field == field
    assert counts(session) == before


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"outcome": "rejected"}, ValidationFailed, "outcome"),
        ({"reason": ""}, ValidationFailed, "reason"),
        ({"reason": "  "}, ValidationFailed, "reason"),
        ({"outcome": "unfounded", "violation_id": 1}, ValidationFailed, "violation_id"),
        ({"outcome": "founded", "violation_id": 999999}, NotFound, "violation_id"),
        ({"notice_id": 999999}, NotFound, "notice_id"),
    ],
)
def test_bad_decisions_name_the_field_and_write_nothing(session, clock, shop, change, error, field):
    n = file(session, clock, "d-1")
    before = counts(session)
    with pytest.raises(error) as err:
        decide(session, clock, "d-1-d", change.pop("notice_id", n.id), **change)
    assert err.value.field == field
    assert counts(session) == before
    assert notices.get(session, n.id).status == "open"


def test_deciding_twice_is_refused(session, clock, shop):
    n = file(session, clock, "t-1")
    decide(session, clock, "t-1-d", n.id, outcome="unfounded")
    before = counts(session)
    with pytest.raises(Conflict) as err:
        decide(session, clock, "t-1-e", n.id, outcome="founded")
    assert err.value.field == "notice_id" and "unfounded" in err.value.detail
    assert counts(session) == before
    assert notices.get(session, n.id).status == "unfounded"


def test_filing_and_deciding_are_idempotent(session, clock, shop):
    n = file(session, clock, "i-1")
    again = file(session, clock, "i-1")
    assert again.id == n.id and again.replayed and not n.replayed
    assert len(topics(session, "notice.filed")) == 1
    with pytest.raises(IdempotencyKeyReused) as err:
        file(session, clock, "i-1", text="something else")
    assert err.value.field == "idempotency_key"
    with pytest.raises(IdempotencyKeyReused):
        file(session, clock, "i-1", reporter="buyer:other")

    d = decide(session, clock, "i-1-d", n.id)
    clock.advance(hours=1)
    replay = decide(session, clock, "i-1-d", n.id)
    assert replay.replayed and replay.decided_at == d.decided_at
    assert len(topics(session, "notice.decided")) == 1
    assert notices.record(session, clock, TROLL).manifestly_unfounded_in_window == 1
    with pytest.raises(IdempotencyKeyReused):
        decide(session, clock, "i-1-d", n.id, reason="another reason")


def test_record_of_an_unknown_party_is_empty_and_refs_are_checked(session, clock):
    rec = notices.record(session, clock, "buyer:new")
    assert rec.standing is ReporterStanding.GOOD and not rec.trusted
    assert sum(rec.notices.values()) == 0 and rec.founded_against == ()
    with pytest.raises(ValidationFailed) as err:
        notices.record(session, clock, "no ref")
    assert err.value.field == "ref"
    with pytest.raises(ValidationFailed) as err:
        notices.queue(session, limit=0)
    assert err.value.field == "limit"
