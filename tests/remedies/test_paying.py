"""Paying a buyer through remedies: an appeal's variation the fund pays first is claimed back,
and the fund keeps one account per currency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.complaints import decide, file
from tests.cases.test_stories import balanced, completed_order
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import ValidationFailed
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.remedies import service as remedies


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def test_appeal_variation_paid_by_the_fund_is_recovered(session, clock):
    samples.verified(session, clock, "merchant:gone")
    deposits.pay_deposit(session, clock, "dep", "merchant:gone", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 10_000_000, "CNY")
    order = completed_order(session, clock, "merchant:gone", "g1", 10_000, "digital")
    parties.decide(
        session,
        clock,
        "x",
        "merchant:gone",
        Status.REJECTED,
        reason="vanished",
        decided_by="reviewer:li",
    )
    case = cases.file_case(
        session,
        clock,
        "c",
        order_id=order.id,
        buyer=order.buyer,
        kind="scam",
        statement="never delivered",
    )
    clock.advance(hours=49)
    decide(session, clock, case["id"], order.id, finding="scam")
    cases.appeal(session, clock, case["id"], by=order.buyer, grounds="more losses")
    with pytest.raises(ValidationFailed, match="between 1 and"):
        cases.decide_appeal(
            session,
            clock,
            case["id"],
            reviewer="reviewer:wang",
            outcome="varied",
            reasons="r",
            extra_compensation=10**9,
        )
    cases.decide_appeal(
        session,
        clock,
        case["id"],
        reviewer="reviewer:wang",
        outcome="varied",
        reasons="proven losses",
        extra_compensation=20_000,
    )
    position = remedies.fund_position(session)
    assert position["claimed"] == position["paid_first"]  # every fund payment has its claim
    balanced(session)


def test_the_fund_keeps_one_account_per_currency(session, clock):
    samples.verified(session, clock, "merchant:usd")
    deposits.pay_deposit(session, clock, "dep", "merchant:usd", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 1_000_000, "CNY")
    o = orders.create_order(
        session,
        clock,
        "u",
        buyer="buyer:u",
        merchant="merchant:usd",
        total=5_000,
        currency="USD",
        category="default",
    )
    orders.act(session, clock, o.id, Action.PAY, "p", actor="platform")
    orders.act(session, clock, o.id, Action.SHIP, "s", actor="merchant:usd")
    case = file(session, clock, orders.get_order(session, o.id), kind="not_as_described")
    done = decide(session, clock, case["id"], o.id, finding="not_as_described")
    assert done["refund"] == 5_000  # from the USD escrow; the CNY fund is untouched
    assert remedies.fund_balance(session, "CNY") == 1_000_000
