"""7-day no-reason returns (七天无理由退货): the pure rule, and the service applying it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xinren import policies
from xinren.demo import samples
from xinren.errors import ReturnNotAllowed
from xinren.events import service as events
from xinren.orders import model
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits

NOW = datetime(2026, 6, 10, tzinfo=UTC)


def decide(reason="no_reason", category="default", days_ago=3.0, opened=False):
    p = policies.return_policy()
    delivered = None if days_ago is None else NOW - timedelta(days=days_ago)
    return model.return_eligibility(
        reason=reason,
        category=category,
        delivered_at=delivered,
        now=NOW,
        opened=opened,
        window=p.window,
        exempt=p.exempt,
        exempt_when_opened=p.exempt_when_opened,
        shipping_paid_by=p.shipping_paid_by,
    )


def test_within_seven_days_the_buyer_may_return_and_pays_shipping():
    d = decide(days_ago=7)
    assert d.allowed and d.shipping_paid_by == "buyer"


def test_after_seven_days_no_reason_is_refused():
    d = decide(days_ago=7.5)
    assert not d.allowed and "7-day" in d.why


@pytest.mark.parametrize("category", ["made_to_order", "fresh", "newspapers"])
def test_exempt_categories(category):
    assert not decide(category=category).allowed


def test_digital_goods_only_once_opened():
    assert decide(category="digital", opened=False).allowed is False  # exempt outright
    assert decide(category="software", opened=False).allowed
    assert not decide(category="software", opened=True).allowed


@pytest.mark.parametrize("reason", ["not_as_described", "defective"])
def test_faulty_goods_always_return_at_the_merchants_cost(reason):
    d = decide(reason=reason, category="fresh", days_ago=40, opened=True)
    assert d.allowed and d.shipping_paid_by == "merchant"


def test_not_delivered_cannot_be_returned_without_reason():
    assert not decide(days_ago=None).allowed


def delivered_order(session, clock, category="default"):
    samples.verified(session, clock, "merchant:42")
    deposits.pay_deposit(session, clock, "dep", "merchant:42", 1_000_000, "CNY")
    o = orders.create_order(
        session,
        clock,
        f"o-{category}",
        buyer="buyer:7",
        merchant="merchant:42",
        total=5_000,
        currency="CNY",
        category=category,
    )
    for action in (Action.PAY, Action.SHIP, Action.DELIVER):
        o = orders.act(session, clock, o.id, action, f"{o.id}-{action.value}", actor="t")
    return o


def test_service_applies_the_window_and_records_who_pays(session, clock):
    o = delivered_order(session, clock)
    clock.advance(days=8)
    with pytest.raises(ReturnNotAllowed, match="window closed"):
        orders.act(
            session,
            clock,
            o.id,
            Action.REQUEST_REFUND,
            "r1",
            actor="buyer:7",
            kind="return_and_refund",
            reason="no_reason",
        )
    o = orders.act(
        session,
        clock,
        o.id,
        Action.REQUEST_REFUND,
        "r2",
        actor="buyer:7",
        kind="return_and_refund",
        reason="defective",
    )
    last = events.read(session, subject=f"order:{o.id}")[-1]
    assert last.topic == "refund.requested"
    assert last.payload["return_shipping_payer"] == "merchant"


def test_service_refuses_no_reason_return_of_fresh_food(session, clock):
    o = delivered_order(session, clock, category="fresh")
    with pytest.raises(ReturnNotAllowed, match="perishable"):
        orders.act(
            session,
            clock,
            o.id,
            Action.REQUEST_REFUND,
            "r1",
            actor="buyer:7",
            kind="return_and_refund",
            reason="no_reason",
        )
