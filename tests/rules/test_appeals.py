"""What an appeal may do and what it undoes: another party cannot replay an appellant's key; an
overturn re-levels the ladder and lifts the steps the points no longer reach, but a listing or
a frozen settlement another decision still holds stays held (holes a review of enforcement
found, each pinned here)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.rules.test_enforcement import counterfeit
from tests.rules.test_enforcement import world as world
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.errors import Forbidden
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def test_appeal_replay_by_another_party_is_refused(session, clock, world):
    """Another party replaying an appellant's Idempotency-Key got the appellant's appeal
    (and its grounds) back instead of a refusal."""
    _, shop, _, report = world
    v = counterfeit(session, clock, shop, report, "v")
    rules.file_appeal(session, clock, "ap", v.id, appellant=shop, grounds="secret grounds")
    with pytest.raises(Forbidden):
        rules.file_appeal(session, clock, "ap", v.id, appellant="merchant:other", grounds="x")


def test_overturning_an_early_violation_lifts_later_ladder_steps(session, clock, world):
    """Overturning an early violation left the ladder steps the remaining points no longer
    reach (clearance at 48) in force."""
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


def test_a_listing_stays_removed_while_another_sanction_removes_it(session, clock, world):
    """Overturning one removal re-activated a listing that another decision's sanction still
    removes."""
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
    """Overturning the shorter of two overlapping settlement freezes released the money the
    longer one still holds; the hold is handed over instead."""
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
