"""Orders through the services on a real database: escrow, settlement, timers and events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from xinren.demo import samples
from xinren.errors import IdempotencyKeyReused, ValidationFailed
from xinren.events import service as events
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action, IllegalTransition, Status
from xinren.parties import deposits
from xinren.timers import service as timers


def new_order(session, clock, key="o1", total=19_900, **kw):
    samples.verified(session, clock, "merchant:42")
    samples.verified(session, clock, "host:9")
    deposits.pay_deposit(session, clock, "deposit-42", "merchant:42", 1_000_000, "CNY")
    args = dict(
        buyer="buyer:7",
        merchant="merchant:42",
        total=total,
        currency="CNY",
        category="default",
        delivery_method="express",
    )
    args.update(kw)
    return orders.create_order(session, clock, key, **args)


def escrow_balance(session, order_id) -> int:
    return ledger.get_account(session, orders.escrow(order_id)).balance.net


def check_identity(session, view) -> None:
    s = view.state
    assert s.paid == s.released + s.refunded + s.held
    assert escrow_balance(session, view.id) == s.held


def run(session, clock, order, action, key, **kw):
    view = orders.act(session, clock, order.id, action, key, actor="test", **kw)
    check_identity(session, view)
    return view


def test_normal_completion_settles_in_one_transfer(session, clock, factory):
    o = new_order(session, clock, host="host:9", host_rate_bp=1_000)
    o = run(session, clock, o, Action.PAY, "pay")
    assert escrow_balance(session, o.id) == 19_900
    o = run(session, clock, o, Action.SHIP, "ship")
    o = run(session, clock, o, Action.CONFIRM, "confirm")
    assert o.state.status is Status.COMPLETED
    # 5% platform (default category), 10% host, the rest to the merchant: into the order's
    # clearing shards, not yet into the accounts themselves
    k = f"s{o.id % 32:02d}"
    assert ledger.get_account(session, f"platform:commission:cny:{k}").balance.net == 995
    assert ledger.get_account(session, f"host:9:available:{k}").balance.net == 1_990
    assert ledger.get_account(session, f"merchant:42:pending_settlement:{k}").balance.net == 16_915
    assert ledger.get_account(session, "platform:commission:cny").balance.net == 0
    assert ledger.family_balance(session, "platform:commission:cny").net == 995
    assert ledger.family_balance(session, "merchant:42:pending_settlement").net == 16_915
    assert ledger.sweep(session, clock) == 3  # the provider's, the platform's, the host's
    assert ledger.get_account(session, "platform:commission:cny").balance.net == 995
    assert ledger.get_account(session, "host:9:available").balance.net == 1_990
    assert ledger.get_account(session, "psp:cny").balance.net == -1_000_000 - 19_900  # + deposit
    assert ledger.get_account(session, f"host:9:available:{k}").balance.net == 0
    session.commit()
    clock.advance(days=1)
    assert timers.run_due(factory, clock) == 1
    assert ledger.family_balance(session, "merchant:42:pending_settlement").net == 0
    assert ledger.get_account(session, "merchant:42:available").balance.net == 16_915
    topics = [e.topic for e in events.read(session, subject=f"order:{o.id}")]
    assert topics == [
        "order.created",
        "order.paid",
        "order.shipped",
        "order.completed",
        "settlement.released",
    ]
    assert journal.verify(session).ok


def test_receipt_is_confirmed_automatically_after_ten_days(session, clock, factory):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    run(session, clock, o, Action.SHIP, "ship")
    session.commit()
    clock.advance(days=9, hours=23)
    assert timers.run_due(factory, clock) == 0
    clock.advance(hours=1)
    assert timers.run_due(factory, clock) == 1
    assert orders.get_order(session, o.id).state.status is Status.COMPLETED


def test_refund_request_pauses_the_countdown(session, clock, factory):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    run(session, clock, o, Action.SHIP, "ship")
    clock.advance(days=4)
    o = run(session, clock, o, Action.REQUEST_REFUND, "ask", amount=5_000)
    assert o.countdown_due_at is None
    clock.advance(days=1)
    o = run(session, clock, o, Action.REJECT_REFUND, "no")
    assert o.countdown_due_at == clock.now() + timedelta(days=6)
    session.commit()
    clock.advance(days=5, hours=23)
    assert timers.run_due(factory, clock) == 0
    clock.advance(hours=1)
    assert timers.run_due(factory, clock) == 1
    assert orders.get_order(session, o.id).state.status is Status.COMPLETED


def test_unanswered_refund_is_approved_after_48_hours(session, clock, factory):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    run(session, clock, o, Action.SHIP, "ship")
    run(session, clock, o, Action.REQUEST_REFUND, "ask", amount=5_000)
    session.commit()
    clock.advance(hours=47)
    assert timers.run_due(factory, clock) == 0
    clock.advance(hours=1)
    assert timers.run_due(factory, clock) == 1
    o = orders.get_order(session, o.id)
    assert o.state.refunded == 5_000 and o.state.status is Status.SHIPPED
    check_identity(session, o)


def test_unshipped_order_is_cancelled_and_refunded_after_5_days(session, clock, factory):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    session.commit()
    clock.advance(days=5)
    assert timers.run_due(factory, clock) == 1
    o = orders.get_order(session, o.id)
    assert o.state.status is Status.CANCELLED and o.state.refunded == 19_900
    check_identity(session, o)


def test_shipping_stops_the_cancel_timer(session, clock, factory):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    run(session, clock, o, Action.SHIP, "ship")
    session.commit()
    clock.advance(days=6)
    timers.run_due(factory, clock)
    assert orders.get_order(session, o.id).state.status is Status.SHIPPED


def test_return_and_refund(session, clock):
    o = new_order(session, clock)
    for action, key in ((Action.PAY, "pay"), (Action.SHIP, "ship"), (Action.DELIVER, "got")):
        o = run(session, clock, o, action, key)
    o = run(session, clock, o, Action.REQUEST_REFUND, "ask", kind="return_and_refund")
    o = run(session, clock, o, Action.APPROVE_REFUND, "ok")
    o = run(session, clock, o, Action.SHIP_RETURN, "back")
    o = run(session, clock, o, Action.RECEIVE_RETURN, "received")
    assert o.state.status is Status.REFUNDED and escrow_balance(session, o.id) == 0


def test_dispute_freezes_escrow_until_decided(session, clock):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    run(session, clock, o, Action.SHIP, "ship")
    o = run(session, clock, o, Action.OPEN_DISPUTE, "dispute")
    with pytest.raises(IllegalTransition) as info:
        orders.act(session, clock, o.id, Action.CONFIRM, "c", actor="buyer:7")
    assert info.value.problem()["allowed"] == ["decide_dispute"]
    assert escrow_balance(session, o.id) == 19_900
    o = run(session, clock, o, Action.DECIDE_DISPUTE, "decide", amount=8_000)
    assert o.state.refunded == 8_000 and o.state.status is Status.SHIPPED


def test_actions_are_idempotent(session, clock):
    o = new_order(session, clock)
    run(session, clock, o, Action.PAY, "pay")
    again = orders.act(session, clock, o.id, Action.PAY, "pay", actor="test")
    assert again.replayed and escrow_balance(session, o.id) == 19_900
    with pytest.raises(IdempotencyKeyReused):
        orders.act(session, clock, o.id, Action.SHIP, "pay", actor="test")
    assert new_order(session, clock).replayed
    with pytest.raises(IdempotencyKeyReused):
        new_order(session, clock, total=1)


def test_bad_input_is_refused(session, clock):
    with pytest.raises(ValidationFailed) as info:
        new_order(session, clock, key="x1", buyer="7")
    assert info.value.field == "buyer"
    with pytest.raises(ValidationFailed) as info:
        new_order(session, clock, key="x2", delivery_method="pigeon")
    assert info.value.field == "delivery_method"
    with pytest.raises(ValidationFailed):
        new_order(session, clock, key="x3", total=0)
    with pytest.raises(ValidationFailed):
        new_order(session, clock, key="x4", total=1.5)


def test_merchant_below_its_deposit_cannot_take_orders(session, clock):
    from xinren.errors import DepositTooLow

    args = dict(buyer="buyer:7", merchant="merchant:50", total=100, currency="CNY", category="food")
    samples.verified(session, clock, "merchant:50")
    with pytest.raises(DepositTooLow, match=r"requires ¥5,000\.00") as info:
        orders.create_order(session, clock, "d1", **args)
    assert info.value.problem()["required"] == 500_000
    deposits.pay_deposit(session, clock, "dep-50-a", "merchant:50", 100_000, "CNY")
    with pytest.raises(DepositTooLow, match=r"holds a deposit of ¥1,000\.00"):
        orders.create_order(session, clock, "d1", **args)
    deposits.pay_deposit(session, clock, "dep-50-b", "merchant:50", 400_000, "CNY")
    assert orders.create_order(session, clock, "d1", **args).state.status is Status.CREATED
    assert deposits.deposit_balance(session, "merchant:50") == 500_000
    with pytest.raises(ValidationFailed):
        deposits.pay_deposit(session, clock, "dep-50-c", "merchant:50", 100, "USD")
