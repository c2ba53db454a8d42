"""The guarantee fund pays first (先行赔付) when the seller cannot: it claims back what it
advanced, collects what money arrives later, writes off only by a reasoned decision, and
refuses to pay more than it holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.test_stories import balanced, completed_order
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import Conflict, ValidationFailed
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.remedies import service as remedies
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def test_vanished_host_course_the_fund_pays_first_and_recovers(session, clock):
    samples.verified(session, clock, "merchant:course")
    deposits.pay_deposit(session, clock, "dep", "merchant:course", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 10_000_000, "CNY")
    order = completed_order(session, clock, "merchant:course", "course1", 29_900, "digital")
    # the seller withdraws everything it earned, then vanishes
    ledger.create_account(session, clock, "bank:payouts", "CNY")
    earned = ledger.get_account(session, "merchant:course:available").balance.available
    ledger.move(session, clock, "payout", "merchant:course:available", "bank:payouts", earned)
    parties.decide(
        session,
        clock,
        "gone",
        "merchant:course",
        Status.REJECTED,
        reason="the host vanished; address and phone no longer valid",
        decided_by="reviewer:li",
    )
    case = cases.file_case(
        session,
        clock,
        "c1",
        order_id=order.id,
        buyer=order.buyer,
        kind="scam",
        statement="paid for 12 live lessons; the host vanished after the first",
    )
    clock.advance(hours=49)  # the seller does not answer
    decided = cases.decide(
        session,
        clock,
        "d1",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="scam",
        reasons="the course was never delivered",
        relied_on=[f"order:{order.id}"],
    )
    owed = 29_900 + 89_700  # refund + 3x
    assert decided["payer"] == "platform" and decided["compensation"] == 89_700
    position = remedies.fund_position(session)
    assert position["paid_first"] == owed
    [claim] = remedies.list_claims(session, debtor="merchant:course")
    assert claim["amount"] == owed and claim["recovered"] == 100_000  # its whole deposit
    assert claim["status"] == "open" and claim["outstanding"] == owed - 100_000
    assert position["receivable"] == owed - 100_000
    assert remedies.fund_balance(session) == 10_000_000 - owed + 100_000
    # money arriving later is collected by the daily timer
    ledger.move(session, clock, "late-income", "bank:payouts", "merchant:course:available", 5_000)
    clock.advance(days=1)
    due = [t for t in timers.pending(session) if t.kind == remedies.COLLECT]
    remedies._collect_due(session, clock, due[0])
    assert remedies.get_claim(session, claim["id"])["recovered"] == 105_000
    # the rest is written off only by a decision with its reason
    with pytest.raises(ValidationFailed):
        remedies.write_off(session, clock, claim["id"], reason=" ", decided_by="reviewer:li")
    off = remedies.write_off(
        session, clock, claim["id"], reason="seller untraceable", decided_by="reviewer:li"
    )
    assert off["status"] == "written_off" and remedies.fund_position(session)["receivable"] == 0
    balanced(session)


def test_the_fund_must_hold_enough(session, clock):
    samples.verified(session, clock, "merchant:x")
    deposits.pay_deposit(session, clock, "dep", "merchant:x", 100_000, "CNY")
    order = completed_order(session, clock, "merchant:x", "x1", 10_000, "default")
    parties.decide(
        session, clock, "gone", "merchant:x", Status.REJECTED, reason="fake licence", decided_by="r"
    )
    case = cases.file_case(
        session, clock, "c", order_id=order.id, buyer=order.buyer, kind="scam", statement="x"
    )
    clock.advance(hours=49)
    with pytest.raises(Conflict, match="top it up"):
        cases.decide(
            session,
            clock,
            "d",
            case["id"],
            decided_by="r2",
            outcome="for_buyer",
            finding="scam",
            reasons="r",
            relied_on=[f"order:{order.id}"],
        )
