"""What a due-process decision may rest on and fall on: its sanctions fall on its subject only
and each is asked once, the rulebook is the one in force on the conduct's UTC day, its evidence
concerns the subject, and the ladder climbs in the order decisions are made (holes a review of
enforcement found, each pinned here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.rules.test_enforcement import counterfeit
from tests.rules.test_enforcement import world as world
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import NotFound, ValidationFailed
from xinren.parties import service as parties
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def test_a_sanction_falls_only_on_the_subject_and_is_asked_once(session, clock, world):
    """A decision could put a sanction on a party other than its subject, ask the same
    sanction twice, and time a settlement freeze without its days."""
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
    """The rulebook in force was chosen by the conduct's date in the caller's time zone:
    late on 31 December 2025 UTC, a +14:00 offset judged it under 2026's rules."""
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
    """A decision could rest on another party's order, and malformed evidence ids (order:²,
    order:abc, listing:1e3) or unknown ones were not refused."""
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


def test_decisions_out_of_conduct_order_climb_the_ladder_in_decision_order(session, clock, world):
    """The ladder counted points by conduct date, so a decision on older conduct made after
    a newer one did not climb it: it counts on the decision day."""
    _, shop, _, report = world
    counterfeit(session, clock, shop, report, "later-conduct", ago=timedelta(hours=1))
    second = counterfeit(session, clock, shop, report, "earlier-conduct", ago=timedelta(days=20))
    assert {s.ladder for s in second.sanctions if s.cause == "ladder"} == {"serious 24"}
