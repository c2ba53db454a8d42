"""Acting on an order: the state machine decides (`model.decide`), then its effects are carried
out in the caller's one transaction: ledger movements (payment into escrow, refunds, the
settlement split of `model.settle_shares`), the auto-confirm countdown (`model.plan_countdown`)
and the other order timers, the stock, the row, the action log and the event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Update, literal, select, update
from sqlalchemy.orm import Session

from xinren import policies
from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import IdempotencyKeyReused, NotFound, ReturnNotAllowed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key, derived, payload_hash
from xinren.ledger import model as ledger_model
from xinren.ledger import service as ledger
from xinren.orders import model
from xinren.orders.model import Action, AfterSales, Command, Countdown, Order, Status, TimerChange
from xinren.orders.tables import order_actions, orders
from xinren.orders.views import (
    OrderView,
    _locked_row,
    _view,
    available,
    commission,
    escrow,
    pending_settlement,
    shard,
)
from xinren.parties.deposits import psp
from xinren.timers import service as timers
from xinren.timers.model import Timer

AUTO_CONFIRM = "orders.auto_confirm"
AUTO_CANCEL = "orders.auto_cancel"
REFUND_DEADLINE = "orders.refund_deadline"
RELEASE_SETTLEMENT = "orders.release_settlement"

TOPICS = {
    Action.PAY: "order.paid",
    Action.CANCEL: "order.cancelled",
    Action.SHIP: "order.shipped",
    Action.DELIVER: "order.delivered",
    Action.CONFIRM: "order.completed",
    Action.EXTEND: "order.countdown_extended",
    Action.REQUEST_REFUND: "refund.requested",
    Action.WITHDRAW_REFUND: "refund.withdrawn",
    Action.APPROVE_REFUND: "refund.approved",
    Action.REJECT_REFUND: "refund.rejected",
    Action.SHIP_RETURN: "return.shipped",
    Action.RECEIVE_RETURN: "return.received",
    Action.OPEN_DISPUTE: "dispute.opened",
    Action.DECIDE_DISPUTE: "dispute.decided",
}


def act(
    session: Session,
    clock: Clock,
    order_id: int,
    action: Action,
    key: str,
    *,
    actor: str,
    amount: int | None = None,
    kind: model.RefundKind | None = None,
    reason: model.ReturnReason | None = None,
    opened: bool = False,
    system: bool = False,
    locked: Any | None = None,
    admit: Callable[[OrderView], None] | None = None,
) -> OrderView:
    """Run `action` on the order with its effects, once per idempotency key.

    The order is locked before the key is looked up, so a duplicate sent while the first
    request is still running waits for it and then replays it instead of being refused.
    The row is read once, under that lock (``locked``: a caller that already holds it passes
    the row it read) and carried through: the view returned is built from it and the new
    state, not read again. ``admit`` raises if the caller may not act on the order (the HTTP
    API's checks, made on that row).
    """
    check_idempotency_key(key, system=system)
    row = locked if locked is not None else _locked_row(session, order_id)
    if admit is not None:
        admit(_view(row))
    digest = payload_hash(
        {
            "order": order_id,
            "action": action.value,
            "amount": amount,
            "kind": kind,
            "reason": reason,
            "opened": opened,
        }
    )
    done = session.execute(
        select(order_actions).where(order_actions.c.idempotency_key == key)
    ).first()
    if done is not None:
        if done.payload_hash != digest:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was used for {done.action} on order {done.order_id}",
                field="idempotency_key",
            )
        return _view(row, replayed=True)  # same hash: the same order, read under its lock
    before = _view(row)
    after, effects = model.decide(before.state, Command(action, amount, kind))
    now = clock.now()
    extra: dict[str, Any] = {}
    if action is Action.DELIVER:
        extra["delivered_at"] = now
    if action is Action.REQUEST_REFUND and kind == "return_and_refund":
        extra.update(_return_terms(row, reason or "not_as_described", opened, now))
    countdown = _carry_out(session, clock, row, key, effects)
    _other_timers(session, clock, order_id, before.state, after, now)
    if row.listing_id is not None and model.returns_stock(before.state, after):
        catalog.return_stock(session, row.listing_id, row.quantity)
    change = (before.state, after, countdown, now)
    _record(session, clock, row, action, key, digest, actor, change, extra)
    return replace(before, state=after, countdown_due_at=countdown.due)


def _carry_out(
    session: Session, clock: Clock, row: Any, key: str, effects: list[model.Effect]
) -> model.CountdownState:
    """Do the decision's effects in order; the countdown they leave."""
    countdown = model.CountdownState(row.countdown_due_at, row.countdown_left_ms)
    for n, effect in enumerate(effects):
        ledger_key = derived("order", row.id, key, n)
        if isinstance(effect, model.Hold):
            clearing = shard(psp(row.currency), row.id)
            _move(
                session,
                clock,
                ledger_key,
                clearing,
                escrow(row.id),
                effect.amount,
                "payment",
                row.id,
                opens=[_Opening(clearing, row.currency, limited=False, internal=False, swept=True)],
            )
        elif isinstance(effect, model.Refund):
            clearing = shard(psp(row.currency), row.id)
            _move(
                session,
                clock,
                ledger_key,
                escrow(row.id),
                clearing,
                effect.amount,
                "refund",
                row.id,
                opens=[_Opening(clearing, row.currency, limited=False, internal=False, swept=True)],
            )
        elif isinstance(effect, model.Settle):
            _settle(session, clock, ledger_key, row, effect.amount)
        else:
            countdown = _countdown(session, clock, row, effect, countdown)
    return countdown


def _record(
    session: Session,
    clock: Clock,
    row: Any,
    action: Action,
    key: str,
    digest: str,
    actor: str,
    change: tuple[Order, Order, model.CountdownState, datetime],
    extra: dict[str, Any],
) -> None:
    """Write the order's new state (`change`: before, after, the countdown, the action's
    time), log the action and announce it."""
    before, after, countdown, now = change
    write = (
        update(orders)
        .where(orders.c.id == row.id)
        .values(
            status=after.status.value,
            after_sales=after.after_sales.value,
            paid=after.paid,
            refunded=after.refunded,
            released=after.released,
            requested=after.requested,
            request_kind=after.request_kind,
            extended=after.extended,
            countdown_due_at=countdown.due,
            countdown_left_ms=countdown.left_ms,
            updated_at=now,
            **extra,
        )
    )
    logged = dict(
        order_id=row.id,
        action=action.value,
        idempotency_key=key,
        payload_hash=digest,
        from_state=model.label(before),
        to_state=model.label(after),
        actor=actor,
        created_at=now,
    )
    if is_postgres(session):
        session.execute(_write_and_log(write, logged))
    else:
        session.execute(write)
        session.execute(order_actions.insert(), logged)
    events.append(
        session,
        clock,
        TOPICS[action],
        f"order:{row.id}",
        {
            "order": row.id,
            "from": model.label(before),
            "to": model.label(after),
            "actor": actor,
            "refunded": after.refunded,
            "released": after.released,
            **{k: v for k, v in extra.items() if k.startswith("return_")},
        },
    )


def _write_and_log(write: Update, logged: dict[str, Any]) -> Insert:
    """The order's update and its action's log as one statement (PostgreSQL: a data-modifying
    CTE), one round trip instead of two; the log row is written only if the update was."""
    changed = write.returning(orders.c.id).cte("changed")
    columns = [
        changed.c.id.label(name)
        if name == "order_id"
        else literal(value, type_=order_actions.c[name].type).label(name)
        for name, value in logged.items()
    ]
    return (
        order_actions.insert()
        .add_cte(changed)
        .from_select(list(logged), select(*columns).select_from(changed))
    )


def _return_terms(
    row: Any, reason: model.ReturnReason, opened: bool, now: datetime
) -> dict[str, Any]:
    """Check a return against the 7-day policy; say who pays the return shipping."""
    p = policies.return_policy()
    decision = model.return_eligibility(
        reason=reason,
        category=row.category,
        delivered_at=row.delivered_at,
        now=now,
        opened=opened,
        window=p.window,
        exempt=p.exempt,
        exempt_when_opened=p.exempt_when_opened,
        shipping_paid_by=p.shipping_paid_by,
    )
    if not decision.allowed:
        raise ReturnNotAllowed(
            f"no-reason return refused: {decision.why}", field="reason", policy_version=p.version
        )
    return {"return_reason": reason, "return_shipping_payer": decision.shipping_paid_by}


@dataclass(frozen=True, slots=True, order=True)
class _Opening:
    """An account a movement may be the first to use, and how it is opened: a clearing shard
    (``shard`` names one, ``swept``: into its account by the ledger's sweep, else released
    order by order) is opened with its account."""

    code: str
    currency: str
    limited: bool = True  # debits must not exceed credits
    internal: bool = True  # a code another context reserved (orders open them themselves)
    swept: bool | None = None  # a shard: swept (True) or emptied by its orders (False)


def _submit(
    session: Session, clock: Clock, op: ledger_model.Operation, opens: Sequence[_Opening]
) -> None:
    """Submit `op`; the first time one of the accounts in `opens` does not exist yet, open them
    and submit again. Accounts are opened with the first movement that needs them, never looked
    up beforehand: a refused operation writes nothing, so the retry is the same operation.
    They are opened in code order, so two first movements opening the same accounts cannot wait
    on each other's inserts in opposite orders."""
    try:
        ledger.submit_one(session, clock, op, system=True)
    except NotFound:
        if not opens:
            raise
        for o in sorted(set(opens)):
            if o.swept is None:
                ledger.create_account(
                    session,
                    clock,
                    o.code,
                    o.currency,
                    debits_must_not_exceed_credits=o.limited,
                    internal=o.internal,
                )
            else:
                ledger.open_shards(
                    session,
                    clock,
                    ledger_model.shard_parent(o.code),
                    model.CLEARING_SHARDS,
                    o.currency,
                    limited=o.limited,
                    internal=o.internal,
                    swept=o.swept,
                )
        ledger.submit_one(session, clock, op, system=True)


def _move(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    reason: str,
    order_id: int,
    opens: Sequence[_Opening] = (),
) -> None:
    op = ledger_model.TransferOp(
        ledger_model.Meta(key, reason, {"order": str(order_id)}),
        (
            ledger_model.Leg(debit, ledger_model.Side.DEBIT, amount),
            ledger_model.Leg(credit, ledger_model.Side.CREDIT, amount),
        ),
    )
    _submit(session, clock, op, opens)


def _settle(session: Session, clock: Clock, key: str, row: Any, amount: int) -> None:
    """One transfer: escrow -> merchant share + platform commission + host commission, each
    into the order's clearing shard of its account (`xinren.ledger.shards`), so the orders of
    one flash sale do not queue on one merchant's, the platform's or the host's row."""
    shares = model.settle_shares(
        amount, policies.platform_rate_bp(row.category), row.host_rate_bp, host=bool(row.host)
    )
    legs = [ledger_model.Leg(escrow(row.id), ledger_model.Side.DEBIT, amount)]
    pending = shard(pending_settlement(row.merchant), row.id)
    credits = [
        (pending, shares.merchant, False),
        (shard(commission(row.currency), row.id), shares.platform, True),
        (shard(available(row.host), row.id) if row.host else "", shares.host, True),
    ]
    opens = []
    for code, share, swept in credits:
        if share > 0:
            opens.append(_Opening(code, row.currency, swept=swept))
            legs.append(ledger_model.Leg(code, ledger_model.Side.CREDIT, share))
    op = ledger_model.TransferOp(
        ledger_model.Meta(key, "settlement", {"order": str(row.id)}), tuple(legs)
    )
    _submit(session, clock, op, opens)
    if shares.merchant > 0:
        due = clock.now() + policies.order_timers().settlement_hold
        payload = {"amount": shares.merchant, "from": pending}
        timers.schedule(session, clock, RELEASE_SETTLEMENT, str(row.id), due, payload)


def _countdown(
    session: Session, clock: Clock, row: Any, effect: Countdown, was: model.CountdownState
) -> model.CountdownState:
    """Move the auto-confirm countdown as `model.plan_countdown` says, and its timer with it."""
    timer_policy = policies.order_timers()
    period = timer_policy.receipt_period(row.delivery_method) if effect is Countdown.START else None
    now = clock.now()
    plan = model.plan_countdown(
        effect,
        now=now,
        due=was.due,
        left_ms=was.left_ms,
        receipt_period=period,
        extension=timer_policy.extension,
    )
    subject = str(row.id)
    if plan.timer is TimerChange.SCHEDULE and plan.due is not None:
        timers.schedule(session, clock, AUTO_CONFIRM, subject, plan.due)
    elif plan.timer is TimerChange.RESCHEDULE and plan.due is not None:
        timers.reschedule(session, AUTO_CONFIRM, subject, plan.due)
    elif plan.timer is TimerChange.CANCEL:
        timers.cancel(session, AUTO_CONFIRM, subject)
    return plan


def _other_timers(
    session: Session, clock: Clock, order_id: int, before: Order, after: Order, now: datetime
) -> None:
    """Unshipped orders cancel themselves; unanswered refund requests approve themselves."""
    subject = str(order_id)
    timer_policy = policies.order_timers()
    if before.status is Status.CREATED and after.status is Status.PAID:
        timers.schedule(session, clock, AUTO_CANCEL, subject, now + timer_policy.unshipped_cancel)
    elif before.status is Status.PAID and after.status is not Status.PAID:
        timers.cancel(session, AUTO_CANCEL, subject)
    waiting_before = before.after_sales is AfterSales.REFUND_REQUESTED
    waiting_after = after.after_sales is AfterSales.REFUND_REQUESTED
    if waiting_after and not waiting_before:
        timers.schedule(
            session, clock, REFUND_DEADLINE, subject, now + timer_policy.refund_response
        )
    elif waiting_before and not waiting_after:
        timers.cancel(session, REFUND_DEADLINE, subject)


def _timer_action(action: Action) -> Any:
    def run(session: Session, clock: Clock, timer: Timer) -> None:
        row = _locked_row(session, int(timer.subject))  # locked first, then read once
        if action not in model.allowed(_view(row).state):
            return  # the order moved on (e.g. shipped) after the timer was set
        act(
            session,
            clock,
            row.id,
            action,
            f"{SYSTEM_PREFIX}{timer.kind}:{timer.id}",
            actor="system",
            system=True,
            locked=row,
        )

    return run


timers.handler(AUTO_CONFIRM)(_timer_action(Action.CONFIRM))
timers.handler(AUTO_CANCEL)(_timer_action(Action.CANCEL))
timers.handler(REFUND_DEADLINE)(_timer_action(Action.APPROVE_REFUND))


@timers.handler(RELEASE_SETTLEMENT)
def _release_settlement(session: Session, clock: Clock, timer: Timer) -> None:
    """Move an order's settled share from pending settlement to the merchant's available."""
    row = session.execute(select(orders).where(orders.c.id == int(timer.subject))).one()
    amount = int((timer.payload or {})["amount"])
    # the shard it was settled into (settlements from before the shards: the account itself)
    source = str((timer.payload or {}).get("from") or pending_settlement(row.merchant))
    _move(
        session,
        clock,
        f"{SYSTEM_PREFIX}release:{row.id}",
        source,
        available(row.merchant),
        amount,
        "settlement_release",
        row.id,
        opens=[_Opening(available(row.merchant), row.currency, internal=False)],
    )
    events.append(
        session,
        clock,
        "settlement.released",
        f"order:{row.id}",
        {"order": row.id, "merchant": row.merchant, "amount": amount},
    )
