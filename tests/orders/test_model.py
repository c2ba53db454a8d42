"""The order state machine, exhaustively: every reachable state against every action."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinren.errors import ValidationFailed
from xinren.orders import model
from xinren.orders.diagram import page
from xinren.orders.model import (
    Action,
    AfterSales,
    Command,
    Countdown,
    Hold,
    IllegalTransition,
    Order,
    Refund,
    Settle,
    Status,
    decide,
)

STATES = model.reachable()


def identity_holds(order: Order) -> None:
    assert order.paid == order.refunded + order.released + order.held
    assert order.held >= 0 and order.refunded >= 0 and order.released >= 0
    assert order.paid in (0, order.total)
    if order.status in model.TERMINAL:
        assert order.held == 0 or (order.status is Status.CANCELLED and order.paid == 0)


def money_moved(effects) -> tuple[int, int, int]:
    hold = sum(e.amount for e in effects if isinstance(e, Hold))
    refund = sum(e.amount for e in effects if isinstance(e, Refund))
    settle = sum(e.amount for e in effects if isinstance(e, Settle))
    return hold, refund, settle


def test_the_state_space_is_explored():
    labels = {model.label(o) for o in STATES}
    assert {
        "created",
        "paid",
        "shipped",
        "delivered",
        "completed",
        "cancelled",
        "refunded",
        "shipped+refund_requested",
        "delivered+return_shipped",
        "paid+disputed",
    } <= labels


@pytest.mark.parametrize("order", STATES, ids=lambda o: f"{model.label(o)}-{o.refunded}")
def test_every_action_in_every_state(order):
    identity_holds(order)
    ok = model.allowed(order)
    for action in Action:
        if action not in ok:
            with pytest.raises(IllegalTransition) as info:
                decide(order, Command(action))
            err = info.value
            assert err.status == 409
            assert order.status.value in err.detail
            assert err.problem()["allowed"] == [a.value for a in ok]
            continue
        for cmd in model.sample_commands(order, action):
            new, effects = decide(order, cmd)
            identity_holds(new)
            hold, refund, settle = money_moved(effects)
            # effects move exactly the money the state change accounts for
            assert hold == new.paid - order.paid
            assert refund == new.refunded - order.refunded
            assert settle == new.released - order.released


def test_terminal_states_accept_nothing():
    for order in STATES:
        if order.status in model.TERMINAL:
            assert model.allowed(order) == []


def walk(*steps: Command, total: int = 10_000) -> tuple[Order, list[list[model.Effect]]]:
    order, seen = Order(total), []
    for cmd in steps:
        order, effects = decide(order, cmd)
        seen.append(effects)
    return order, seen


def test_normal_completion_settles_everything():
    order, effects = walk(
        Command(Action.PAY), Command(Action.SHIP), Command(Action.DELIVER), Command(Action.CONFIRM)
    )
    assert order.status is Status.COMPLETED and order.released == 10_000
    assert effects[0] == [Hold(10_000)]
    assert effects[1] == [Countdown.START]
    assert effects[3] == [Settle(10_000), Countdown.STOP]


def test_cancel_before_shipping_refunds_in_full():
    order, effects = walk(Command(Action.PAY), Command(Action.CANCEL))
    assert order.status is Status.CANCELLED and effects[-1] == [Refund(10_000)]
    unpaid, effects = walk(Command(Action.CANCEL))
    assert unpaid.status is Status.CANCELLED and effects[-1] == []
    with pytest.raises(IllegalTransition, match="allows: deliver, confirm"):
        walk(Command(Action.PAY), Command(Action.SHIP), Command(Action.CANCEL))


def test_refund_request_pauses_and_partial_refund_resumes_the_countdown():
    order, effects = walk(
        Command(Action.PAY),
        Command(Action.SHIP),
        Command(Action.REQUEST_REFUND, amount=3_000),
        Command(Action.APPROVE_REFUND),
    )
    assert effects[2] == [Countdown.PAUSE]
    assert effects[3] == [Refund(3_000), Countdown.RESUME]
    assert order.status is Status.SHIPPED and order.after_sales is AfterSales.NONE
    order, effects = decide(order, Command(Action.CONFIRM))
    assert effects == [Settle(7_000), Countdown.STOP] and order.released == 7_000


def test_rejected_or_withdrawn_request_resumes():
    for end in (Action.REJECT_REFUND, Action.WITHDRAW_REFUND):
        order, effects = walk(
            Command(Action.PAY), Command(Action.SHIP), Command(Action.REQUEST_REFUND), Command(end)
        )
        assert effects[-1] == [Countdown.RESUME]
        assert order.after_sales is AfterSales.NONE and order.refunded == 0


def test_return_and_refund_waits_for_the_goods():
    order, effects = walk(
        Command(Action.PAY),
        Command(Action.SHIP),
        Command(Action.DELIVER),
        Command(Action.REQUEST_REFUND, kind="return_and_refund"),
        Command(Action.APPROVE_REFUND),
        Command(Action.SHIP_RETURN),
    )
    assert effects[-2:] == [[], []] and order.refunded == 0
    with pytest.raises(IllegalTransition):
        decide(order, Command(Action.CONFIRM))
    order, effects = decide(order, Command(Action.RECEIVE_RETURN))
    assert order.status is Status.REFUNDED and effects == [Refund(10_000), Countdown.STOP]


def test_dispute_freezes_escrow_until_decided():
    order, _ = walk(Command(Action.PAY), Command(Action.SHIP), Command(Action.OPEN_DISPUTE))
    assert model.allowed(order) == [Action.DECIDE_DISPUTE]
    for action in (Action.CONFIRM, Action.CANCEL, Action.REQUEST_REFUND):
        with pytest.raises(IllegalTransition, match="disputed"):
            decide(order, Command(action))
    merchant_wins, effects = decide(order, Command(Action.DECIDE_DISPUTE, amount=0))
    assert merchant_wins.status is Status.SHIPPED and effects == [Countdown.RESUME]
    buyer_wins, effects = decide(order, Command(Action.DECIDE_DISPUTE, amount=10_000))
    assert buyer_wins.status is Status.REFUNDED and effects == [Refund(10_000), Countdown.STOP]


def test_extension_only_once():
    order, effects = walk(Command(Action.PAY), Command(Action.SHIP), Command(Action.EXTEND))
    assert effects[-1] == [Countdown.EXTEND] and order.extended
    with pytest.raises(IllegalTransition):
        decide(order, Command(Action.EXTEND))


def test_refund_amounts_are_checked():
    shipped, _ = walk(Command(Action.PAY), Command(Action.SHIP))
    for bad in (0, -1, 10_001):
        with pytest.raises(ValidationFailed) as info:
            decide(shipped, Command(Action.REQUEST_REFUND, amount=bad))
        assert info.value.field == "amount"
    paid, _ = walk(Command(Action.PAY))
    with pytest.raises(ValidationFailed, match="nothing was shipped"):
        decide(paid, Command(Action.REQUEST_REFUND, kind="return_and_refund"))
    disputed, _ = walk(Command(Action.PAY), Command(Action.OPEN_DISPUTE))
    with pytest.raises(ValidationFailed):
        decide(disputed, Command(Action.DECIDE_DISPUTE, amount=10_001))


def test_state_diagram_page_matches_the_model():
    committed = Path(__file__).parents[2] / "docs" / "orders-state-diagram.md"
    assert committed.read_text() == page(), (
        "regenerate: python -m xinren.orders.diagram > docs/orders-state-diagram.md"
    )
