"""Abusive buyers and reporters weigh less; fake reviews stop counting and can be appealed;
rating manipulation found by detection becomes a violation a reviewer decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.cases.test_stories import completed_order
from tests.detect.farm import farm_reviews
from xinren.cases import service as cases
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.detect import abuse, buyers
from xinren.detect import service as detect
from xinren.documents.store import FileStore
from xinren.errors import ValidationFailed
from xinren.events import service as events
from xinren.events.tables import outbox
from xinren.parties import deposits
from xinren.reviews import service as reviews_service
from xinren.reviews.tables import reviews as review_rows
from xinren.rules import notices
from xinren.rules import service as rules
from xinren.rules.model import Source
from xinren.timers import service as timers

SHOP = "merchant:honest"


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def notice(session, clock, key, reporter, target=SHOP):
    return notices.file_notice(
        session,
        clock,
        key,
        reporter=reporter,
        target=target,
        category="misrepresentation",
        text="the goods were not as described",
    )


def unfounded(session, clock, reporter, n, prefix, target=SHOP):
    """`n` notices from `reporter`, each decided manifestly unfounded."""
    for i in range(n):
        filed = notice(session, clock, f"{prefix}{i}", reporter, target)
        notices.decide(
            session,
            clock,
            f"{prefix}d{i}",
            filed.id,
            outcome="manifestly_unfounded",
            reason="the order shows the goods matched the listing",
            decided_by="reviewer:ann",
        )


def test_identifiers_are_kept_as_digests_and_link_accounts(session, clock):
    assert buyers.add_identifier(session, clock, "buyer:a", "device", "  Pixel-9 #A1 ")
    assert not buyers.add_identifier(session, clock, "buyer:a", "device", "pixel-9 #a1")
    assert buyers.add_identifier(session, clock, "buyer:b", "device", "PIXEL-9 #A1")
    assert buyers.record_of(session, "buyer:a").shared_with_others == 1
    assert buyers.record_of(session, "buyer:c").shared_with_others == 0
    with pytest.raises(ValidationFailed) as e:
        buyers.add_identifier(session, clock, "buyer:a", "email", "x@y")
    assert e.value.field == "kind"
    with pytest.raises(ValidationFailed):
        buyers.add_identifier(session, clock, "buyer:a", "address", "   ")


def test_an_abusive_reporter_weighs_less_and_waits_behind_honest_reporters(session, clock):
    samples.verified(session, clock, SHOP)
    unfounded(session, clock, "buyer:troll", 3, "t")
    late = notice(session, clock, "t-late", "buyer:troll")
    honest = notice(session, clock, "h1", "buyer:honest")
    assert late.weight < honest.weight <= 1.0
    expected = abuse.score(buyers.record_of(session, "buyer:troll")).weight
    assert late.weight == pytest.approx(expected)
    queue = [n.id for n in notices.queue(session)]
    assert queue.index(honest.id) < queue.index(late.id)  # filed later, decided first
    record = notices.record(session, clock, "buyer:troll").as_dict()
    assert record["abuse"]["record"]["notices_unfounded"] == 3
    assert "unfounded notices" in record["abuse"]["reasons"]


def test_accounts_sharing_a_device_with_flagged_accounts_are_flagged_once(session, clock):
    samples.verified(session, clock, SHOP)
    for n in range(4):  # four accounts warned for manifestly unfounded notices
        unfounded(session, clock, f"buyer:ring{n}", 3, f"r{n}-")
        buyers.add_identifier(session, clock, f"buyer:ring{n}", "device", "shared-phone")
    buyers.add_identifier(session, clock, "buyer:new", "device", "shared-phone")
    buyers.add_identifier(session, clock, "buyer:new", "payment_account", "6222 0000 1111")
    found = buyers.assess(session, "buyer:new")
    assert found.score >= abuse.FLAG_AT
    assert "identifiers shared with flagged accounts" in found.reasons
    first = notice(session, clock, "n1", "buyer:new")
    notice(session, clock, "n2", "buyer:new")
    assert first.weight == pytest.approx(found.weight) and first.weight < 0.2
    flagged = session.execute(
        select(outbox.c.payload).where(
            outbox.c.topic == "abuse.flagged", outbox.c.subject == "buyer:new"
        )
    ).all()
    assert len(flagged) == 1 and flagged[0].payload["reasons"]
    # an honest account on its own device is untouched
    assert buyers.assess(session, "buyer:someone").weight > 0.9


def test_a_silent_merchant_is_not_condemned_by_default_on_an_abusive_buyers_word(session, clock):
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 500_000, "CNY")
    honest_order = completed_order(session, clock, "merchant:tea", "ok", 12_800, "tea")
    abusive_order = completed_order(session, clock, "merchant:tea", "ab", 12_800, "tea")
    samples.verified(session, clock, SHOP)
    for n in range(4):
        unfounded(session, clock, f"buyer:ring{n}", 3, f"r{n}-")
        buyers.add_identifier(session, clock, f"buyer:ring{n}", "address", "Room 1, 8 Lane")
    buyers.add_identifier(session, clock, abusive_order.buyer, "address", "room 1,  8 lane")
    filed = {}
    for o in (honest_order, abusive_order):
        filed[o.buyer] = cases.file_case(
            session,
            clock,
            f"c-{o.id}",
            order_id=o.id,
            buyer=o.buyer,
            kind="counterfeit",
            statement="fake tea",
        )
    weight = {
        b: cases.get_case(session, c["id"], staff=True)["buyer_weight"] for b, c in filed.items()
    }
    assert weight[honest_order.buyer] > 0.9 and weight[abusive_order.buyer] < 0.5
    clock.advance(timedelta(hours=49))
    for t in [t for t in timers.pending(session) if t.kind == cases.MERCHANT_DEADLINE]:
        cases._merchant_deadline(session, clock, t)
    honest_case = cases.get_case(session, filed[honest_order.buyer]["id"])
    held = cases.get_case(session, filed[abusive_order.buyer]["id"])
    assert honest_case["outcome"] == "for_buyer" and honest_case["by_default"]
    assert held["outcome"] is None and held["state"] == "in_mediation"
    topics = [e.topic for e in events.read(session, limit=10_000)]
    assert "case.held_for_review" in topics


def _farm(session, clock, tmp_path):
    case = stories.phone_case(session, clock, FileStore(tmp_path / "d"), "ap")
    shop = case.refs["shop"]
    listing = catalog.list_listings(session, merchant=shop)[0]
    reviews_service.add_many(session, clock, farm_reviews(listing.id, clock.now()))
    return shop


def test_rating_manipulation_is_proposed_and_a_reviewer_decides_it_on_that_evidence(
    session, clock, tmp_path
):
    shop = _farm(session, clock, tmp_path)
    detect.rate_merchant(session, clock, shop)
    detect.rate_merchant(session, clock, shop)  # nothing new: no second proposal
    proposals = session.execute(
        select(outbox.c.id, outbox.c.payload).where(
            outbox.c.topic == "violation.proposed", outbox.c.subject == shop
        )
    ).all()
    assert len(proposals) == 1
    [(event_id, payload)] = proposals
    assert payload["rule"] == "RM-1" and len(payload["evidence"]) == 50
    first = int(payload["evidence"][0].split(":")[1])
    assert session.execute(
        select(review_rows.c.excluded).where(review_rows.c.id == first)
    ).scalar_one()
    violation = rules.decide(
        session,
        clock,
        "rm",
        subject=shop,
        rule_id="RM-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts=payload["facts"],
        evidence=[f"event:{event_id}"],
        source=Source.AUTOMATED_DETECTION,
        decided_by="reviewer:li",
        automated_detection=True,
        points_given=12,
    )
    assert violation.rule_id == "RM-1" and violation.points == 12
