"""Holes a review found in enforcement, each pinned by a test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.rules.test_enforcement import counterfeit
from tests.rules.test_enforcement import world as world
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import Forbidden, NotFound, ValidationFailed
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def test_a_sanction_falls_only_on_the_subject_and_is_asked_once(session, clock, world):
    _, shop, _, report = world
    samples.verified(session, clock, "merchant:victim")
    with pytest.raises(ValidationFailed, match="falls on the decision's subject"):
        counterfeit(
            session,
            clock,
            shop,
            report,
            "t1",
            sanctions=[Requested(SanctionKind.SETTLEMENT_FREEZE, 7, None, "merchant:victim")],
        )
    with pytest.raises(ValidationFailed, match="asked twice"):
        counterfeit(
            session,
            clock,
            shop,
            report,
            "t2",
            sanctions=[Requested(SanctionKind.PENALTY_PAYMENT)] * 2,
        )
    with pytest.raises(ValidationFailed, match="needs its length in days"):
        counterfeit(
            session,
            clock,
            shop,
            report,
            "t3",
            sanctions=[Requested(SanctionKind.SETTLEMENT_FREEZE)],
        )
    assert parties.get(session, "merchant:victim").restrictions == {}
    assert rules.list_violations(session) == []


def test_the_rulebook_is_chosen_by_the_utc_day_of_the_conduct(session, clock, world):
    _, shop, _, report = world
    late_2025 = datetime(2025, 12, 31, 15, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=14)))
    assert late_2025.date().year == 2026  # the caller's zone says 2026 ...
    v = rules.decide(
        session,
        clock,
        "tz",
        subject=shop,
        rule_id="CF-1",
        conduct_at=late_2025,
        facts="f",
        evidence=[report],
        source="inspection",
        decided_by="reviewer:a",
    )
    assert v.rule_version == "2025.1" and v.points == 6  # ... the conduct was in 2025


def test_evidence_must_concern_the_subject_and_ids_are_checked(session, clock, world):
    case, _shop, _, _ = world
    samples.verified(session, clock, "merchant:unrelated")
    with pytest.raises(ValidationFailed, match="not merchant:unrelated"):
        rules.decide(
            session,
            clock,
            "ev",
            subject="merchant:unrelated",
            rule_id="AS-1",
            conduct_at=clock.now(),
            facts="f",
            evidence=[f"order:{case.order_id}"],
            source="complaint",
            decided_by="reviewer:a",
            points_given=2,
        )
    for bad in ("order:²", "order:abc", "listing:1e3"):
        with pytest.raises(ValidationFailed):
            rules.evidence_type(session, bad)
    with pytest.raises(NotFound):
        rules.evidence_type(session, "order:999999")


def test_appeal_replay_by_another_party_is_refused(session, clock, world):
    _, shop, _, report = world
    v = counterfeit(session, clock, shop, report, "v")
    rules.file_appeal(session, clock, "ap", v.id, appellant=shop, grounds="secret grounds")
    with pytest.raises(Forbidden):
        rules.file_appeal(session, clock, "ap", v.id, appellant="merchant:other", grounds="x")


def test_overturning_an_early_violation_lifts_later_ladder_steps(session, clock, world):
    _, shop, listing, report = world
    made = []
    for n in range(4):
        made.append(counterfeit(session, clock, shop, report, f"cf{n}"))
        clock.advance(days=1)
    assert "clearance" in parties.get(session, shop).restrictions
    appeal = rules.file_appeal(session, clock, "ap", made[0].id, appellant=shop, grounds="g")
    rules.decide_appeal(
        session,
        clock,
        appeal["id"],
        outcome="overturned",
        reasons="wrong lot",
        reviewer="reviewer:b",
    )
    # 36 points remain: the clearance (48) goes, the 36 step stays
    restrictions = parties.get(session, shop).restrictions
    assert "clearance" not in restrictions and "settlement_freeze" in restrictions
    assert catalog.get_listing(session, listing).status == "active"


def test_decisions_out_of_conduct_order_climb_the_ladder_in_decision_order(session, clock, world):
    _, shop, _, report = world
    counterfeit(session, clock, shop, report, "later-conduct", ago=timedelta(hours=1))
    second = counterfeit(session, clock, shop, report, "earlier-conduct", ago=timedelta(days=20))
    assert {s.ladder for s in second.sanctions if s.cause == "ladder"} == {"serious 24"}


def test_a_listing_stays_removed_while_another_sanction_removes_it(session, clock, world):
    _, shop, listing, report = world
    removal = [Requested(SanctionKind.LISTING_REMOVAL, target=f"listing:{listing}")]
    first = counterfeit(session, clock, shop, report, "r1", sanctions=removal)
    counterfeit(session, clock, shop, report, "r2", sanctions=removal)
    appeal = rules.file_appeal(session, clock, "ap", first.id, appellant=shop, grounds="g")
    rules.decide_appeal(
        session, clock, appeal["id"], outcome="overturned", reasons="r", reviewer="reviewer:b"
    )
    assert catalog.get_listing(session, listing).status == "removed"


def test_overlapping_freezes_keep_the_money_held_until_the_last_ends(session, clock, world):
    _, shop, _, report = world
    ledger.create_account(
        session, clock, f"{shop}:available", "CNY", debits_must_not_exceed_credits=True
    )
    ledger.create_account(session, clock, "bank:in", "CNY")
    ledger.move(session, clock, "income", "bank:in", f"{shop}:available", 1_000_000)
    short = counterfeit(
        session, clock, shop, report, "f1", sanctions=[Requested(SanctionKind.SETTLEMENT_FREEZE, 7)]
    )
    counterfeit(
        session,
        clock,
        shop,
        report,
        "f2",
        sanctions=[Requested(SanctionKind.SETTLEMENT_FREEZE, 30)],
    )
    appeal = rules.file_appeal(session, clock, "ap", short.id, appellant=shop, grounds="g")
    rules.decide_appeal(
        session, clock, appeal["id"], outcome="overturned", reasons="r", reviewer="reviewer:b"
    )
    assert ledger.get_account(session, f"{shop}:available").balance.available == 0
    assert "settlement_freeze" in parties.get(session, shop).restrictions
    assert deposits.deposit_balance(session, shop) > 0
