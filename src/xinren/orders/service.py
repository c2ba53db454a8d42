"""Order use cases: each action runs the state machine and carries out its effects (ledger
movements, countdown timers, events) in the caller's one transaction: all or nothing.

Money: the payment goes from the payment provider's clearing account into the order's escrow
account, which may never go below zero; refunds go back the same way; settlement is one
transfer from escrow to the merchant, the platform's commission and the host's commission.
For every order at every moment: paid = released + refunded + held (the escrow balance).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren import policies
from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.errors import (
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    PriceMismatch,
    ReturnNotAllowed,
    ValidationFailed,
)
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key, derived, payload_hash
from xinren.ledger import model as ledger_model
from xinren.ledger import service as ledger
from xinren.money import MAX_AMOUNT, Money, check_amount, check_currency
from xinren.orders import model
from xinren.orders.model import Action, AfterSales, Command, Countdown, Order, Status
from xinren.orders.tables import order_actions, orders
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.deposits import psp
from xinren.timers import service as timers
from xinren.timers.model import Timer

AUTO_CONFIRM = "orders.auto_confirm"
AUTO_CANCEL = "orders.auto_cancel"
REFUND_DEADLINE = "orders.refund_deadline"
RELEASE_SETTLEMENT = "orders.release_settlement"
_PARTY = re.compile(r"^(buyer|merchant|host):[a-z0-9_-]{1,64}$")

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


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    buyer: str
    merchant: str
    host: str | None
    currency: str
    category: str
    delivery_method: str
    state: Order
    countdown_due_at: datetime | None
    created_at: datetime
    replayed: bool = False
    listing_id: int | None = None
    batch_id: int | None = None
    live_session_id: int | None = None
    quantity: int = 1

    @property
    def allowed(self) -> list[str]:
        return [a.value for a in model.allowed(self.state)]


def escrow(order_id: int) -> str:
    return f"escrow:order:{order_id}"


ledger.reserve("orders", r"escrow:order:\d+", "orders' escrow")
ledger.reserve("orders", r".+:pending_settlement", "merchants' pending settlements")


def _party(value: str, field: str, role: str) -> str:
    if not _PARTY.match(value) or not value.startswith(role + ":"):
        raise ValidationFailed(f"{field} is '{role}:<id>', e.g. '{role}:42'", field=field)
    return value


def _view(row: Any, replayed: bool = False) -> OrderView:
    state = Order(
        total=row.total,
        status=Status(row.status),
        after_sales=AfterSales(row.after_sales),
        paid=row.paid,
        refunded=row.refunded,
        released=row.released,
        requested=row.requested,
        request_kind=row.request_kind,
        extended=row.extended,
    )
    return OrderView(
        row.id,
        row.buyer,
        row.merchant,
        row.host,
        row.currency,
        row.category,
        row.delivery_method,
        state,
        row.countdown_due_at,
        row.created_at,
        replayed,
        listing_id=row.listing_id,
        batch_id=row.batch_id,
        live_session_id=row.live_session_id,
        quantity=row.quantity,
    )


def create_order(
    session: Session,
    clock: Clock,
    key: str,
    *,
    buyer: str,
    merchant: str,
    total: int | None = None,
    currency: str | None = None,
    category: str | None = None,
    delivery_method: str = "express",
    host: str | None = None,
    host_rate_bp: int = 0,
    listing_id: int | None = None,
    batch_id: int | None = None,
    live_session_id: int | None = None,
    quantity: int = 1,
    discount: int = 0,
    discount_reason: str | None = None,
) -> OrderView:
    """Create an order (status created); the key makes a retry return the same order.

    With a listing, the order takes the unit price, currency and category from it (a total or
    category the caller sends must agree; a discount is explicit and recorded with its reason),
    takes its units from the listing's stock, and records which batch was sold in which live
    session, so a recall reaches the buyer and the chain of custody starts from the sale.
    Without one, the caller names the total, currency and category.
    """
    check_idempotency_key(key)
    request = dict(
        buyer=buyer,
        merchant=merchant,
        total=total,
        currency=currency,
        category=category,
        delivery_method=delivery_method,
        host=host,
        host_rate_bp=host_rate_bp,
        listing_id=listing_id,
        batch_id=batch_id,
        live_session_id=live_session_id,
        quantity=quantity,
        discount=discount,
        discount_reason=discount_reason,
    )
    digest = payload_hash(request)
    existing = session.execute(select(orders).where(orders.c.idempotency_key == key)).first()
    if existing is not None:
        if existing.request_hash not in (None, digest):  # None: made before 0017
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} created order {existing.id} with other details",
                field="idempotency_key",
            )
        return _view(existing, replayed=True)
    _party(buyer, "buyer", "buyer")
    _party(merchant, "merchant", "merchant")
    if host is not None:
        _party(host, "host", "host")
    if not 0 <= host_rate_bp <= 5_000:
        raise ValidationFailed("host_rate_bp is between 0 and 5000 (50%)", field="host_rate_bp")
    timer_policy = policies.order_timers()
    timer_policy.receipt_period(delivery_method)
    check_amount(quantity, "quantity", positive=True)
    if quantity > model.MAX_QUANTITY:
        raise ValidationFailed(f"quantity is at most {model.MAX_QUANTITY}", field="quantity")
    unit_price: int | None = None
    if listing_id is not None:
        listing, batch_id, listed_category = _check_line(
            session, merchant, host, listing_id, batch_id, live_session_id
        )
        total, currency, category = _priced(
            listing, listed_category, request, model.Line(listing.price, quantity, discount)
        )
        unit_price = listing.price
    else:
        if batch_id is not None or live_session_id is not None:
            raise ValidationFailed(
                "batch_id and live_session_id need the listing_id they belong to",
                field="listing_id",
            )
        if discount:
            raise ValidationFailed(
                "a discount is granted on a listing's price: name the listing_id",
                field="discount",
            )
        if total is None:
            raise ValidationFailed("an order without a listing_id names its total", field="total")
        if currency is None:
            raise ValidationFailed(
                "an order without a listing_id names its currency", field="currency"
            )
        category = category or "default"
    check_amount(total, "total", positive=True)
    check_currency(currency)
    if not isinstance(category, str) or not 1 <= len(category) <= 50:
        raise ValidationFailed("category is 1-50 characters", field="category")
    if discount and not (isinstance(discount_reason, str) and discount_reason.strip()):
        raise ValidationFailed("a discount states its reason", field="discount_reason")
    if discount_reason is not None and len(discount_reason) > 200:
        raise ValidationFailed("discount_reason is at most 200 characters", field="discount_reason")
    parties.require_verified(session, merchant, "take orders")
    if host is not None:
        parties.require_verified(session, host, "sell on an order as its host")
    deposits.check_deposit(session, merchant, category)
    if listing_id is not None:
        catalog.take_stock(session, listing_id, quantity)
    now = clock.now()
    order_id = session.execute(
        orders.insert().returning(orders.c.id),
        dict(
            listing_id=listing_id,
            batch_id=batch_id,
            live_session_id=live_session_id,
            quantity=quantity,
            buyer=buyer,
            merchant=merchant,
            host=host,
            host_rate_bp=host_rate_bp,
            category=category,
            delivery_method=delivery_method,
            currency=currency,
            total=total,
            unit_price=unit_price,
            discount=discount,
            discount_reason=discount_reason if discount else None,
            request_hash=digest,
            idempotency_key=key,
            status=Status.CREATED.value,
            after_sales=AfterSales.NONE.value,
            policy_version=timer_policy.version,
            created_at=now,
            updated_at=now,
        ),
    ).scalar_one()
    ledger.create_account(
        session,
        clock,
        escrow(order_id),
        currency,
        debits_must_not_exceed_credits=True,
        internal=True,
    )
    events.append(
        session,
        clock,
        "order.created",
        f"order:{order_id}",
        {"order": order_id, "total": total, "currency": currency, "discount": discount},
    )
    return get_order(session, order_id)


def _priced(
    listing: catalog.Listing, listed_category: str, request: dict[str, Any], line: model.Line
) -> tuple[int, str, str]:
    """The total, currency and category an order line takes from its listing; what the caller
    sent must agree with them."""
    problem = model.line_problem(line, MAX_AMOUNT)
    if problem is not None:
        raise ValidationFailed(problem[1], field=problem[0])
    sent_total, sent_currency, sent_category = (
        request["total"],
        request["currency"],
        request["category"],
    )
    if sent_currency is not None and sent_currency != listing.currency:
        raise ValidationFailed(
            f"listing {listing.id} is priced in {listing.currency}", field="currency"
        )
    if sent_total is not None and sent_total != line.total:
        price = Money(listing.price, listing.currency)
        less = (
            f" less a discount of {Money(line.discount, listing.currency)}" if line.discount else ""
        )
        raise PriceMismatch(
            f"{line.quantity} x {price}{less} is {Money(line.total, listing.currency)}; the "
            f"order says {Money(sent_total, listing.currency)} (leave total out to take the "
            "listing's price, or grant a discount with its reason)",
            field="total",
            expected=line.total,
        )
    if sent_category is not None and sent_category != listed_category:
        raise ValidationFailed(
            f"listing {listing.id} sells a product of category {listed_category!r}",
            field="category",
        )
    return line.total, listing.currency, listed_category


def pending_settlement(merchant: str) -> str:
    """Where a merchant's share waits after settlement until it is paid out to `available`."""
    return f"{merchant}:pending_settlement"


def available(merchant: str) -> str:
    return f"{merchant}:available"


def _check_line(
    session: Session,
    merchant: str,
    host: str | None,
    listing_id: int,
    batch_id: int | None,
    live_session_id: int | None,
) -> tuple[catalog.Listing, int, str]:
    """The listing, the batch the line sells and the product's category, after checking the
    listing, batch and session agree."""
    listing = catalog.get_listing(session, listing_id)
    if listing.status != "active":
        raise Conflict(f"listing {listing_id} is {listing.status}", field="listing_id")
    if listing.merchant != merchant:
        raise ValidationFailed(f"listing {listing_id} is not {merchant}'s", field="listing_id")
    if batch_id is None:
        if len(listing.batch_ids) != 1:
            raise ValidationFailed(
                f"listing {listing_id} sells several batches; say which one (batch_id)",
                field="batch_id",
            )
        batch_id = listing.batch_ids[0]
    elif batch_id not in listing.batch_ids:
        raise ValidationFailed(
            f"batch {batch_id} is not sold by listing {listing_id}", field="batch_id"
        )
    if live_session_id is not None:
        live = catalog.get_live_session(session, live_session_id)
        if listing_id not in live.listing_ids:
            raise ValidationFailed(
                f"listing {listing_id} was not shown in live session {live_session_id}",
                field="live_session_id",
            )
        if live.host != host:
            raise ValidationFailed(
                f"live session {live_session_id} was hosted by {live.host}; the order names "
                f"{host or 'no host'}",
                field="host",
            )
    category = catalog.get_product(session, listing.product_id).category
    return listing, batch_id, category


def get_order(session: Session, order_id: int) -> OrderView:
    row = session.execute(select(orders).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return _view(row)


def lock(session: Session, order_id: int) -> OrderView:
    """Lock the order's row until the transaction ends, and read it as it is now.

    Every use case that moves money for an order (its own actions, a remedy, a recall, a
    complaint's filing) takes this lock first, before any ledger lock (the global order is in
    `xinren.unit_of_work.LOCK_ORDER`), and only then reads the key it replays and the amounts
    it may pay: two requests on one order are then serialised, and the second one sees the
    first one's effects (a refund already paid, a key already used) instead of stale figures.
    """
    return _view(_locked_row(session, order_id))


def lock_many(session: Session, order_ids: Iterable[int]) -> None:
    """Lock several orders, in ascending id (the global lock order within a kind)."""
    for order_id in sorted(set(order_ids)):
        _locked_row(session, order_id)


def _locked_row(session: Session, order_id: int) -> Any:
    row = session.execute(select(orders).where(orders.c.id == order_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return row


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
) -> OrderView:
    """Run `action` on the order with its effects, once per idempotency key.

    The order is locked before the key is looked up, so a duplicate sent while the first
    request is still running waits for it and then replays it instead of being refused.
    """
    check_idempotency_key(key, system=system)
    row = _locked_row(session, order_id)
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
        return replace(get_order(session, done.order_id), replayed=True)
    before = _view(row)
    after, effects = model.decide(before.state, Command(action, amount, kind))
    now = clock.now()
    extra: dict[str, Any] = {}
    if action is Action.DELIVER:
        extra["delivered_at"] = now
    if action is Action.REQUEST_REFUND and kind == "return_and_refund":
        extra.update(_return_terms(row, reason or "not_as_described", opened, now))
    due, left = row.countdown_due_at, row.countdown_left_ms
    for n, effect in enumerate(effects):
        ledger_key = derived("order", order_id, key, n)
        if isinstance(effect, model.Hold):
            ledger.create_account(session, clock, psp(row.currency), row.currency)
            _move(
                session,
                clock,
                ledger_key,
                psp(row.currency),
                escrow(order_id),
                effect.amount,
                "payment",
                order_id,
            )
        elif isinstance(effect, model.Refund):
            _move(
                session,
                clock,
                ledger_key,
                escrow(order_id),
                psp(row.currency),
                effect.amount,
                "refund",
                order_id,
            )
        elif isinstance(effect, model.Settle):
            _settle(session, clock, ledger_key, row, effect.amount)
        else:
            due, left = _countdown(session, clock, row, effect, due, left)
    _other_timers(session, clock, order_id, before.state, after, now)
    if row.listing_id is not None and model.returns_stock(before.state, after):
        catalog.return_stock(session, row.listing_id, row.quantity)
    session.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(
            status=after.status.value,
            after_sales=after.after_sales.value,
            paid=after.paid,
            refunded=after.refunded,
            released=after.released,
            requested=after.requested,
            request_kind=after.request_kind,
            extended=after.extended,
            countdown_due_at=due,
            countdown_left_ms=left,
            updated_at=now,
            **extra,
        )
    )
    session.execute(
        order_actions.insert(),
        dict(
            order_id=order_id,
            action=action.value,
            idempotency_key=key,
            payload_hash=digest,
            from_state=model.label(before.state),
            to_state=model.label(after),
            actor=actor,
            created_at=now,
        ),
    )
    events.append(
        session,
        clock,
        TOPICS[action],
        f"order:{order_id}",
        {
            "order": order_id,
            "from": model.label(before.state),
            "to": model.label(after),
            "actor": actor,
            "refunded": after.refunded,
            "released": after.released,
            **{k: v for k, v in extra.items() if k.startswith("return_")},
        },
    )
    return get_order(session, order_id)


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


def _move(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    reason: str,
    order_id: int,
) -> None:
    op = ledger_model.TransferOp(
        ledger_model.Meta(key, reason, {"order": str(order_id)}),
        (
            ledger_model.Leg(debit, ledger_model.Side.DEBIT, amount),
            ledger_model.Leg(credit, ledger_model.Side.CREDIT, amount),
        ),
    )
    ledger.submit_one(session, clock, op, system=True)


def _settle(session: Session, clock: Clock, key: str, row: Any, amount: int) -> None:
    """One transfer: escrow -> merchant share + platform commission + host commission."""
    platform_fee = amount * policies.platform_rate_bp(row.category) // 10_000
    host_fee = amount * row.host_rate_bp // 10_000 if row.host else 0
    legs = [ledger_model.Leg(escrow(row.id), ledger_model.Side.DEBIT, amount)]
    credits = [
        (pending_settlement(row.merchant), amount - platform_fee - host_fee),
        (f"platform:commission:{row.currency.lower()}", platform_fee),
        (f"{row.host}:available" if row.host else "", host_fee),
    ]
    for code, share in credits:
        if share > 0:
            ledger.create_account(
                session,
                clock,
                code,
                row.currency,
                debits_must_not_exceed_credits=True,
                internal=True,
            )
            legs.append(ledger_model.Leg(code, ledger_model.Side.CREDIT, share))
    op = ledger_model.TransferOp(
        ledger_model.Meta(key, "settlement", {"order": str(row.id)}), tuple(legs)
    )
    ledger.submit_one(session, clock, op, system=True)
    share = amount - platform_fee - host_fee
    if share > 0:
        due = clock.now() + policies.order_timers().settlement_hold
        timers.schedule(session, clock, RELEASE_SETTLEMENT, str(row.id), due, {"amount": share})


def _countdown(
    session: Session,
    clock: Clock,
    row: Any,
    effect: Countdown,
    due: datetime | None,
    left: int | None,
) -> tuple[datetime | None, int | None]:
    now = clock.now()
    subject = str(row.id)
    timer_policy = policies.order_timers()
    if effect is Countdown.START:
        due = now + timer_policy.receipt_period(row.delivery_method)
        timers.schedule(session, clock, AUTO_CONFIRM, subject, due)
        return due, None
    if effect is Countdown.PAUSE and due is not None:
        timers.cancel(session, AUTO_CONFIRM, subject)
        return None, int(max(due - now, timedelta(0)) / timedelta(milliseconds=1))
    if effect is Countdown.RESUME and left is not None:
        due = now + timedelta(milliseconds=left)
        timers.schedule(session, clock, AUTO_CONFIRM, subject, due)
        return due, None
    if effect is Countdown.EXTEND and due is not None:
        due = due + timer_policy.extension
        timers.reschedule(session, AUTO_CONFIRM, subject, due)
        return due, None
    if effect is Countdown.STOP:
        timers.cancel(session, AUTO_CONFIRM, subject)
        return None, None
    return due, left


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
        order = get_order(session, int(timer.subject))
        if action not in model.allowed(order.state):
            return  # the order moved on (e.g. shipped) after the timer was set
        act(
            session,
            clock,
            order.id,
            action,
            f"{SYSTEM_PREFIX}{timer.kind}:{timer.id}",
            actor="system",
            system=True,
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
    ledger.create_account(
        session, clock, available(row.merchant), row.currency, debits_must_not_exceed_credits=True
    )
    _move(
        session,
        clock,
        f"{SYSTEM_PREFIX}release:{row.id}",
        pending_settlement(row.merchant),
        available(row.merchant),
        amount,
        "settlement_release",
        row.id,
    )
    events.append(
        session,
        clock,
        "settlement.released",
        f"order:{row.id}",
        {"order": row.id, "merchant": row.merchant, "amount": amount},
    )


def reconcile(session: Session) -> list[str]:
    """The accounts orders own against what the orders say: each escrow holds exactly what its
    order paid and has neither refunded nor released, and each merchant's pending settlement
    holds exactly the settled shares still waiting for their release timer."""
    problems = []
    held = {
        r.id: r.paid - r.refunded - r.released
        for r in session.execute(
            select(orders.c.id, orders.c.paid, orders.c.refunded, orders.c.released)
        )
    }
    merchant_of = dict(session.execute(select(orders.c.id, orders.c.merchant)).all())
    waiting: dict[str, int] = {}
    for t in timers.pending(session, RELEASE_SETTLEMENT):
        merchant = merchant_of.get(int(t.subject))
        if merchant is not None:
            waiting[merchant] = waiting.get(merchant, 0) + int((t.payload or {})["amount"])
    for account in ledger.owned_accounts(session, "orders"):
        code, net = account.code, account.balance.net
        if code.startswith("escrow:order:"):
            order_id = int(code.rsplit(":", 1)[1])
            says = held.pop(order_id, None)
            if says is None:
                problems.append(f"{code} holds {net} but order {order_id} does not exist")
            elif says != net:
                problems.append(f"{code} holds {net}; order {order_id} says it holds {says}")
        elif code.endswith(":pending_settlement"):
            merchant = code.removesuffix(":pending_settlement")
            due = waiting.pop(merchant, 0)
            if net != due:
                problems.append(
                    f"{code} holds {net}; settled shares waiting for release add up to {due}"
                )
    for order_id, says in sorted(held.items()):
        if says:
            problems.append(f"order {order_id} says it holds {says} but has no escrow account")
    return problems


def parties_of(session: Session, order_id: int) -> dict[str, dict[str, Any] | None]:
    """The real identity of the order's seller and host (legal name, address, contact,
    registration number, payment account), as the platform must be able to produce them."""
    order = get_order(session, order_id)
    return parties.identities(session, {"seller": order.merchant, "host": order.host})
