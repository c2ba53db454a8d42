"""The order state machine, pure: no I/O, no ledger, no clock.

An order has a main status and an after-sales status (a refund request, a return, a dispute)
that runs alongside it. `decide` takes a state and an action and returns the new state plus the
effects the service must carry out in the same transaction: money movements through the ledger
and changes to the receipt countdown. Every rule about what may happen when lives here, so it
can be tested exhaustively without a database.

Money identity, true in every state: paid = released + refunded + held, where `released` is
what settlement paid out (merchant share plus fees) and `held` is what escrow still holds.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from xinren.errors import Conflict, ValidationFailed


class Status(enum.StrEnum):
    CREATED = "created"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"  # receipt confirmed and settled
    CANCELLED = "cancelled"  # before shipment, fully refunded if it was paid
    REFUNDED = "refunded"  # closed after the whole price went back to the buyer


class AfterSales(enum.StrEnum):
    NONE = "none"
    REFUND_REQUESTED = "refund_requested"  # awaiting the merchant (auto-approved at deadline)
    RETURN_APPROVED = "return_approved"  # the buyer is to send the goods back
    RETURN_SHIPPED = "return_shipped"  # the goods are on their way back
    DISPUTED = "disputed"  # escalated to the platform: escrow frozen until a decision


TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.REFUNDED})
OPEN = frozenset({Status.PAID, Status.SHIPPED, Status.DELIVERED})


class Action(enum.StrEnum):
    PAY = "pay"
    CANCEL = "cancel"
    SHIP = "ship"
    DELIVER = "deliver"
    CONFIRM = "confirm"  # the buyer confirms receipt, or the countdown does
    EXTEND = "extend"  # the buyer extends the countdown (once)
    REQUEST_REFUND = "request_refund"
    WITHDRAW_REFUND = "withdraw_refund"
    APPROVE_REFUND = "approve_refund"  # the merchant, or the 48-hour timer
    REJECT_REFUND = "reject_refund"
    SHIP_RETURN = "ship_return"
    RECEIVE_RETURN = "receive_return"
    OPEN_DISPUTE = "open_dispute"
    DECIDE_DISPUTE = "decide_dispute"


RefundKind = Literal["refund_only", "return_and_refund"]


@dataclass(frozen=True, slots=True)
class Order:
    """What the state machine needs to know about an order (amounts in minor units)."""

    total: int
    status: Status = Status.CREATED
    after_sales: AfterSales = AfterSales.NONE
    paid: int = 0
    refunded: int = 0
    released: int = 0
    requested: int = 0  # amount of the open refund request
    request_kind: RefundKind | None = None
    extended: bool = False

    @property
    def held(self) -> int:
        """What escrow still holds: paid minus everything that left it."""
        return self.paid - self.refunded - self.released


# --- effects ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hold:
    """Put the payment in escrow."""

    amount: int


@dataclass(frozen=True, slots=True)
class Refund:
    """Pay `amount` from escrow back to the buyer."""

    amount: int


@dataclass(frozen=True, slots=True)
class Settle:
    """Release what escrow holds: merchant share, platform and host commissions."""

    amount: int


class Countdown(enum.StrEnum):
    """What happens to the receipt countdown (auto-confirmation timer)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "extend"
    STOP = "stop"


Effect = Hold | Refund | Settle | Countdown


@dataclass(frozen=True, slots=True)
class Command:
    action: Action
    amount: int | None = None  # refund request amount; dispute decision: refund to the buyer
    kind: RefundKind | None = None


class IllegalTransition(Conflict):
    slug = "illegal-transition"
    title = "The order cannot do that in its current state"


# --- rules ------------------------------------------------------------------------------------


def allowed(order: Order) -> list[Action]:
    """The actions the order accepts now, in a stable order (for error messages and docs)."""
    s, a = order.status, order.after_sales
    out: list[Action] = []
    if s is Status.CREATED:
        return [Action.PAY, Action.CANCEL]
    if s in TERMINAL:
        return []
    if a is AfterSales.NONE:
        if s is Status.PAID:
            out += [Action.CANCEL, Action.SHIP]
        if s is Status.SHIPPED:
            out.append(Action.DELIVER)
        if s in (Status.SHIPPED, Status.DELIVERED):
            out.append(Action.CONFIRM)
            if not order.extended:
                out.append(Action.EXTEND)
        out += [Action.REQUEST_REFUND, Action.OPEN_DISPUTE]
        return out
    if a is AfterSales.REFUND_REQUESTED:
        return [
            Action.APPROVE_REFUND,
            Action.REJECT_REFUND,
            Action.WITHDRAW_REFUND,
            Action.OPEN_DISPUTE,
        ]
    if a is AfterSales.RETURN_APPROVED:
        return [Action.SHIP_RETURN, Action.WITHDRAW_REFUND, Action.OPEN_DISPUTE]
    if a is AfterSales.RETURN_SHIPPED:
        return [Action.RECEIVE_RETURN, Action.OPEN_DISPUTE]
    return [Action.DECIDE_DISPUTE]  # DISPUTED


def _refund(order: Order, amount: int) -> tuple[Order, list[Effect]]:
    """Refund `amount`; the whole remainder closes the order, a part resumes it."""
    refunded = order.refunded + amount
    effects: list[Effect] = [Refund(amount)] if amount else []
    base = replace(
        order, refunded=refunded, after_sales=AfterSales.NONE, requested=0, request_kind=None
    )
    if refunded == order.paid:
        return replace(base, status=Status.REFUNDED), [*effects, Countdown.STOP]
    return base, [*effects, *_resume(order)]


def _counting(order: Order) -> bool:
    return order.status in (Status.SHIPPED, Status.DELIVERED)


def _resume(order: Order) -> list[Effect]:
    return [Countdown.RESUME] if _counting(order) else []


def _pause(order: Order) -> list[Effect]:
    return [Countdown.PAUSE] if _counting(order) and order.after_sales is AfterSales.NONE else []


def decide(order: Order, cmd: Command) -> tuple[Order, list[Effect]]:
    """Apply `cmd`, or raise `IllegalTransition` naming the state and what it allows."""
    ok = allowed(order)
    if cmd.action not in ok:
        names = ", ".join(a.value for a in ok) or "nothing (the order is closed)"
        raise IllegalTransition(
            f"cannot {cmd.action.value} an order that is {order.status.value}"
            + (
                f" with {order.after_sales.value}"
                if order.after_sales is not AfterSales.NONE
                else ""
            )
            + f"; it allows: {names}",
            order_status=order.status.value,
            after_sales=order.after_sales.value,
            allowed=[a.value for a in ok],
        )
    a = cmd.action
    if a is Action.PAY:
        return replace(order, status=Status.PAID, paid=order.total), [Hold(order.total)]
    if a is Action.CANCEL:
        held = order.held
        effects: list[Effect] = [Refund(held)] if held else []
        return replace(order, status=Status.CANCELLED, refunded=order.refunded + held), effects
    if a is Action.SHIP:
        return replace(order, status=Status.SHIPPED), [Countdown.START]
    if a is Action.DELIVER:
        return replace(order, status=Status.DELIVERED), []
    if a is Action.CONFIRM:
        return (
            replace(order, status=Status.COMPLETED, released=order.held),
            [Settle(order.held), Countdown.STOP],
        )
    if a is Action.EXTEND:
        return replace(order, extended=True), [Countdown.EXTEND]
    if a is Action.REQUEST_REFUND:
        amount = order.held if cmd.amount is None else cmd.amount
        if not 0 < amount <= order.held:
            raise ValidationFailed(
                f"a refund is between 1 and {order.held} (what escrow holds), got {amount}",
                field="amount",
            )
        kind: RefundKind = cmd.kind or "refund_only"
        if kind == "return_and_refund" and order.status is Status.PAID:
            raise ValidationFailed(
                "nothing was shipped, so there is nothing to return", field="kind"
            )
        paused = _pause(order)
        return (
            replace(
                order, after_sales=AfterSales.REFUND_REQUESTED, requested=amount, request_kind=kind
            ),
            paused,
        )
    if a is Action.WITHDRAW_REFUND or a is Action.REJECT_REFUND:
        return (
            replace(order, after_sales=AfterSales.NONE, requested=0, request_kind=None),
            _resume(order),
        )
    if a is Action.APPROVE_REFUND:
        if order.request_kind == "return_and_refund":
            return replace(order, after_sales=AfterSales.RETURN_APPROVED), []
        return _refund(order, order.requested)
    if a is Action.SHIP_RETURN:
        return replace(order, after_sales=AfterSales.RETURN_SHIPPED), []
    if a is Action.RECEIVE_RETURN:
        return _refund(order, order.requested)
    if a is Action.OPEN_DISPUTE:
        return replace(order, after_sales=AfterSales.DISPUTED), _pause(order)
    # DECIDE_DISPUTE: the amount the platform awards the buyer (0: the merchant wins)
    amount = cmd.amount or 0
    if not 0 <= amount <= order.held:
        raise ValidationFailed(
            f"a dispute can award between 0 and {order.held} (what escrow holds), got {amount}",
            field="amount",
        )
    return _refund(order, amount)


def transitions() -> Iterable[tuple[str, Action, str]]:
    """Every (from, action, to) edge between named states, for the generated diagram."""
    seen: set[tuple[str, Action, str]] = set()
    for order in reachable():
        for action in allowed(order):
            for cmd in sample_commands(order, action):
                new, _ = decide(order, cmd)
                edge = (label(order), action, label(new))
                if edge not in seen:
                    seen.add(edge)
                    yield edge


def label(order: Order) -> str:
    if order.after_sales is AfterSales.NONE:
        return order.status.value
    return f"{order.status.value}+{order.after_sales.value}"


def sample_commands(order: Order, action: Action) -> list[Command]:
    """Representative commands per action: full and partial amounts, both refund kinds."""
    if action is Action.REQUEST_REFUND:
        kinds: list[RefundKind] = ["refund_only"]
        if order.status is not Status.PAID:
            kinds.append("return_and_refund")
        amounts = sorted({order.held, max(order.held // 2, 1)})
        return [Command(action, amount=n, kind=k) for k in kinds for n in amounts]
    if action is Action.DECIDE_DISPUTE:
        return [Command(action, amount=n) for n in sorted({0, max(order.held // 2, 1), order.held})]
    return [Command(action)]


def reachable(total: int = 10_000) -> list[Order]:
    """Every state reachable from a new order with the sample commands (breadth first)."""
    start = Order(total)
    seen = {start}
    queue = [start]
    while queue:
        order = queue.pop(0)
        for action in allowed(order):
            for cmd in sample_commands(order, action):
                new, _ = decide(order, cmd)
                if new not in seen:
                    seen.add(new)
                    queue.append(new)
    return sorted(seen, key=lambda o: (label(o), o.refunded, o.requested, o.extended))


#: Who may take which action on an order they are party to (platform and admin: all).
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    "buyer": frozenset(
        {
            Action.CANCEL,
            Action.CONFIRM,
            Action.EXTEND,
            Action.REQUEST_REFUND,
            Action.WITHDRAW_REFUND,
            Action.SHIP_RETURN,
            Action.OPEN_DISPUTE,
        }
    ),
    "merchant": frozenset(
        {
            Action.CANCEL,
            Action.SHIP,
            Action.DELIVER,
            Action.APPROVE_REFUND,
            Action.REJECT_REFUND,
            Action.RECEIVE_RETURN,
            Action.OPEN_DISPUTE,
        }
    ),
    "reviewer": frozenset({Action.DECIDE_DISPUTE}),
}


def returns_stock(before: Order, after: Order) -> bool:
    """The order's units go back on sale when it closes without the goods ever leaving the
    merchant (cancelled, or refunded in full before shipment)."""
    never_shipped = before.status in (Status.CREATED, Status.PAID)
    return never_shipped and after.status in (Status.CANCELLED, Status.REFUNDED)


def may_act(role: str, action: Action) -> bool:
    """Whether `role` may take `action` on an order it is party to (platform and admin: all)."""
    return role in ("admin", "platform") or action in ROLE_ACTIONS.get(role, frozenset())
