"""Pay a buyer what a decision or a recall says it is owed: lock the order, read the facts once
(what is still owed, what earlier remedies paid, the escrow and the payer's balances, under
their locks), let `model.plan_payment` decide every move, then write the plan.

Every movement goes through the ledger with a key derived from the remedy's key, in the
caller's transaction: a retried decision pays once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import IdempotencyKeyReused, NotFound
from xinren.events import service as events
from xinren.ids import derived
from xinren.ledger import service as ledger
from xinren.money import check_amount
from xinren.orders import service as orders
from xinren.orders.model import OPEN, Action, AfterSales
from xinren.parties import deposits
from xinren.parties.deposits import deposit_account, psp
from xinren.remedies import model
from xinren.remedies.claims import available, open_claim
from xinren.remedies.fund import balance_of, fund, fund_moved, move, open_fund
from xinren.remedies.model import (
    AVAILABLE,
    DEPOSIT,
    ESCROW,
    GUARANTEE_FUND,
    PLATFORM,
    PaymentPlan,
)
from xinren.remedies.tables import recovery_claims, remedies, remedy_payments


@dataclass(frozen=True, slots=True)
class Payment:
    kind: str
    source: str
    paid_by: str
    amount: int


@dataclass(frozen=True, slots=True)
class Remedy:
    id: int
    order_id: int
    buyer: str
    currency: str
    refund: int
    compensation: int
    payer: str
    basis: str
    origin: str
    payments: tuple[Payment, ...]
    claims: tuple[int, ...]
    replayed: bool = False

    @property
    def fund_paid(self) -> int:
        return sum(p.amount for p in self.payments if p.source == GUARANTEE_FUND)


def get_remedy(session: Session, remedy_id: int, replayed: bool = False) -> Remedy:
    r = session.execute(select(remedies).where(remedies.c.id == remedy_id)).first()
    if r is None:
        raise NotFound(f"no remedy {remedy_id}", field="remedy_id")
    pays = session.execute(
        select(remedy_payments)
        .where(remedy_payments.c.remedy_id == remedy_id)
        .order_by(remedy_payments.c.id)
    )
    claims = session.execute(
        select(recovery_claims.c.id)
        .where(recovery_claims.c.origin == r.origin)
        .order_by(recovery_claims.c.id)
    ).scalars()
    return Remedy(
        r.id,
        r.order_id,
        r.buyer,
        r.currency,
        r.refund,
        r.compensation,
        r.payer,
        r.basis,
        r.origin,
        tuple(Payment(p.kind, p.source, p.paid_by, p.amount) for p in pays),
        tuple(claims),
        replayed,
    )


def paid_on_order(
    session: Session, order_id: int, kind: str, *, outside_escrow: bool = False
) -> int:
    """What remedies already paid the buyer of an order (refund or compensation)."""
    q = (
        select(func.coalesce(func.sum(remedy_payments.c.amount), 0))
        .select_from(remedy_payments.join(remedies))
        .where(remedies.c.order_id == order_id)
        .where(remedy_payments.c.kind == kind)
    )
    if outside_escrow:
        q = q.where(remedy_payments.c.source != ESCROW)
    return int(session.execute(q).scalar_one())


def still_owed(session: Session, order: orders.OrderView) -> int:
    """What the buyer paid and has not had back: refunds through the order itself, and refunds
    paid by remedies after the escrow was settled."""
    back = order.state.refunded + paid_on_order(session, order.id, "refund", outside_escrow=True)
    return max(0, order.state.paid - back)


def pay_buyer(
    session: Session,
    clock: Clock,
    key: str,
    *,
    order_id: int,
    refund: int,
    compensation_due: int,
    payer: str,
    recover_from: Sequence[str] = (),
    basis: str,
    origin: str,
    cumulative: bool = True,
) -> Remedy:
    """Pay the buyer `refund` + `compensation_due`: escrow first, then the payer's available
    balance and deposit; the guarantee fund covers any shortfall (or all of it when the payer
    is the platform) and holds a recovery claim for what it laid out."""
    check_amount(refund, "refund")
    check_amount(compensation_due, "compensation")
    # The order first (the global lock order), then what is owed, read under that lock: two
    # remedies on one order (a decision and a recall, two recall runs) are serialised, and the
    # second sees what the first paid.
    order = orders.lock(session, order_id)
    done = session.execute(select(remedies).where(remedies.c.idempotency_key == key)).first()
    if done is not None:
        if (done.order_id, done.refund) != (order_id, refund):
            raise IdempotencyKeyReused(
                f"remedy key {key!r} paid another amount on order {done.order_id}",
                field="idempotency_key",
            )
        return get_remedy(session, done.id, replayed=True)
    due = model.Due(refund, compensation_due, payer, tuple(recover_from), cumulative)
    plan = model.plan_payment(due, _balances(session, clock, order, due))
    return get_remedy(session, _write(session, clock, key, order, due, plan, basis, origin))


def _balances(
    session: Session, clock: Clock, order: orders.OrderView, due: model.Due
) -> model.Balances:
    """The facts the plan needs, read once; the payer's balances under the accounts' locks."""
    owed = still_owed(session, order)
    paid = paid_on_order(session, order.id, "compensation") if due.cumulative else 0
    cur = order.currency
    ledger.create_account(session, clock, psp(cur), cur)
    debtors = [p for p in (due.payer, *due.recover_from) if p != PLATFORM]
    ledger.lock_accounts(
        session,
        [orders.escrow(order.id), psp(cur), fund(cur)]
        + [code for p in debtors for code in (available(p), deposit_account(p))],
    )
    escrow = order.state.held if order.state.status in OPEN else 0
    if due.payer == PLATFORM:
        return model.Balances(order.merchant, owed, paid, escrow, 0, 0)
    return model.Balances(
        order.merchant,
        owed,
        paid,
        escrow,
        balance_of(session, available(due.payer)),
        balance_of(session, deposit_account(due.payer)),
    )


def _escrow_refund(
    session: Session, clock: Clock, key: str, order: orders.OrderView, amount: int
) -> None:
    """Refund from the order's escrow through the order itself (so its own figures stay
    right): a dispute opened if none is, then decided for the buyer by `amount`."""
    if order.state.after_sales is not AfterSales.DISPUTED:
        orders.act(
            session,
            clock,
            order.id,
            Action.OPEN_DISPUTE,
            derived(key, "dispute"),
            actor="platform",
            system=True,
        )
    orders.act(
        session,
        clock,
        order.id,
        Action.DECIDE_DISPUTE,
        derived(key, "award"),
        actor="platform",
        amount=amount,
        system=True,
    )


def _pay(
    session: Session, clock: Clock, move_key: str, cur: str, origin: str, m: model.Move
) -> None:
    """One move of the plan out of the payer's available balance, deposit or the fund."""
    if m.source == DEPOSIT:
        deposits.take(
            session, clock, move_key, m.paid_by, m.amount, to=psp(cur), kind="remedy", ref=origin
        )
    elif m.source == AVAILABLE:
        move(session, clock, move_key, available(m.paid_by), psp(cur), m.amount, f"remedy {m.kind}")
    else:
        code = open_fund(session, clock, cur)
        move(session, clock, move_key, code, psp(cur), m.amount, f"remedy {m.kind}", from_fund=cur)
        fund_moved(session, clock, move_key, cur, -m.amount, "paid_first", origin)


def _write(
    session: Session,
    clock: Clock,
    key: str,
    order: orders.OrderView,
    due: model.Due,
    plan: PaymentPlan,
    basis: str,
    origin: str,
) -> int:
    """Carry the plan out: the moves in order, the remedy and its payments, the claims."""
    cur = order.currency
    if plan.paid_from(ESCROW):
        _escrow_refund(session, clock, key, order, plan.paid_from(ESCROW))
    paying = [m for m in plan.moves if m.source != ESCROW]
    for n, m in enumerate(paying, start=1):
        _pay(session, clock, derived(key, "pay", n), cur, origin, m)
    remedy_id = session.execute(
        remedies.insert().returning(remedies.c.id),
        dict(
            idempotency_key=key,
            order_id=order.id,
            buyer=order.buyer,
            merchant=order.merchant,
            currency=cur,
            refund=plan.refund,
            compensation=plan.compensation,
            payer=due.payer,
            basis=basis,
            origin=origin,
            created_at=clock.now(),
        ),
    ).scalar_one()
    if plan.moves:
        session.execute(
            remedy_payments.insert(),
            [
                dict(
                    remedy_id=remedy_id,
                    kind=m.kind,
                    source=m.source,
                    paid_by=m.paid_by,
                    amount=m.amount,
                )
                for m in plan.moves
            ],
        )
    _open_claims(session, clock, key, order, plan, origin)
    events.append(
        session,
        clock,
        "remedy.paid",
        order.buyer,
        {
            "remedy": remedy_id,
            "order": order.id,
            "refund": plan.refund,
            "compensation": plan.compensation,
            "currency": cur,
            "payer": due.payer,
            "fund_paid": plan.fund_paid,
            "basis": basis,
        },
    )
    return int(remedy_id)


def _open_claims(
    session: Session,
    clock: Clock,
    key: str,
    order: orders.OrderView,
    plan: PaymentPlan,
    origin: str,
) -> None:
    """The recovery claims the plan opens, each collected at once where the debtor can pay."""
    for claim in plan.claims:
        open_claim(
            session,
            clock,
            derived(key, "claim", claim.tag),
            creditor=claim.creditor,
            debtor=claim.debtor,
            amount=claim.amount,
            currency=order.currency,
            origin=origin,
            reason=_claim_reason(claim, order.id),
        )


def _claim_reason(claim: model.Claim, order_id: int) -> str:
    if claim.tag == "fund":
        return f"the guarantee fund paid the buyer of order {order_id} first"
    return f"{claim.creditor} paid the buyer of order {order_id} for {claim.debtor}'s fault"
