"""Pay buyers what they are owed, first from the order's escrow, then from whoever pays first
(the merchant's available balance and deposit), and where that falls short from the platform's
guarantee fund (先行赔付), opening a recovery claim (追偿) for what the fund laid out.

Every movement goes through the ledger with a key derived from the remedy's key, in the
caller's transaction: a retried decision pays once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xinren import policies
from xinren.clock import Clock
from xinren.errors import Conflict, IdempotencyKeyReused, LimitExceeded, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key, derived
from xinren.ledger import service as ledger
from xinren.ledger.model import disagreements
from xinren.money import Money, check_amount
from xinren.orders import service as orders
from xinren.orders.model import OPEN, Action, AfterSales
from xinren.parties import deposits
from xinren.parties.deposits import deposit_account, psp
from xinren.remedies import model
from xinren.remedies.tables import fund_movements, recovery_claims, remedies, remedy_payments
from xinren.timers import service as timers
from xinren.timers.model import Timer


def fund(currency: str) -> str:
    """The guarantee fund's account for a currency (money is never converted)."""
    return f"platform:guarantee_fund:{currency.lower()}"


ledger.reserve("remedies", r"platform:guarantee_fund:[a-z]{3}", "the guarantee fund")


PLATFORM = "platform"
COLLECT = "remedies.collect"
COLLECT_EVERY = timedelta(days=1)


@cache
def compensation_policy() -> model.CompensationPolicy:
    p = policies.load("compensation")
    return model.parse_policy(p.version, p.body)


def compensation(finding: str, category: str, price: int) -> model.Compensation:
    return model.compensation(compensation_policy(), finding, category, price)


# --- accounts ---


def _balance(session: Session, code: str) -> int:
    try:
        return ledger.get_account(session, code).balance.available
    except NotFound:
        return 0


def available(party: str) -> str:
    return f"{party}:available"


def fund_balance(session: Session, currency: str = "CNY") -> int:
    return _balance(session, fund(currency))


def top_up_fund(session: Session, clock: Clock, key: str, amount: int, currency: str) -> int:
    """The platform pays money into the guarantee fund; returns the fund's balance."""
    check_idempotency_key(key)
    check_amount(amount, "amount", positive=True)
    ledger.create_account(session, clock, psp(currency), currency)
    ledger.create_account(
        session, clock, fund(currency), currency, debits_must_not_exceed_credits=True, internal=True
    )
    result = ledger.move(
        session,
        clock,
        key,
        psp(currency),
        fund(currency),
        amount,
        reason="guarantee fund top-up",
        internal=True,
    )
    if not result.replayed:
        _fund_moved(session, clock, key, currency, amount, "top_up", "top-up")
    return fund_balance(session, currency)


def _fund_moved(
    session: Session, clock: Clock, key: str, currency: str, amount: int, kind: str, ref: str
) -> None:
    """Record a movement of the guarantee fund with what it was for (see `reconcile_fund`)."""
    session.execute(
        fund_movements.insert(),
        dict(
            currency=currency,
            amount=amount,
            kind=kind,
            ref=ref[:100],
            ledger_key=key,
            created_at=clock.now(),
        ),
    )


def reconcile_fund(session: Session) -> list[str]:
    """The guarantee fund's balance in each currency against the movements recorded for it."""
    held = {a.currency: a.balance.net for a in ledger.owned_accounts(session, "remedies")}
    recorded = {
        currency: int(total)
        for currency, total in session.execute(
            select(fund_movements.c.currency, func.sum(fund_movements.c.amount)).group_by(
                fund_movements.c.currency
            )
        )
    }
    return disagreements(held, recorded, lambda currency: f"guarantee fund ({currency})")


def _move(
    session: Session, clock: Clock, key: str, debit: str, credit: str, amount: int, reason: str
) -> None:
    try:
        ledger.move(session, clock, key, debit, credit, amount, reason=reason, system=True)
    except LimitExceeded as err:
        if debit.startswith("platform:guarantee_fund:"):
            cur = debit.rsplit(":", 1)[1].upper()
            raise Conflict(
                f"the guarantee fund holds {Money(_balance(session, debit), cur)}, less than "
                f"{Money(amount, cur)}: top it up (xinren remedies top-up) and retry",
                field="guarantee_fund",
            ) from err
        raise


# --- paying a buyer ---


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
        return sum(p.amount for p in self.payments if p.source == "guarantee_fund")


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
        q = q.where(remedy_payments.c.source != "escrow")
    return int(session.execute(q).scalar_one())


def still_owed(session: Session, order: orders.OrderView) -> int:
    """What the buyer paid and has not had back: refunds through the order itself, and refunds
    paid by remedies after the escrow was settled."""
    back = order.state.refunded + paid_on_order(session, order.id, "refund", outside_escrow=True)
    return max(0, order.state.paid - back)


def _escrow_refund(
    session: Session, clock: Clock, key: str, order: orders.OrderView, amount: int
) -> int:
    """Refund what the order's escrow still holds through the order itself (so the order's own
    figures stay right); returns how much came from escrow."""
    take = min(amount, order.state.held)
    if take <= 0 or order.state.status not in OPEN:
        return 0
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
        amount=take,
        system=True,
    )
    return take


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
    owed = still_owed(session, order)
    if refund > owed:
        raise ValidationFailed(
            f"a refund is at most what the buyer paid and has not had back ({owed})",
            field="refund",
        )
    if cumulative:  # compensation already paid on this order counts against what is due now
        compensation_due = max(
            0, compensation_due - paid_on_order(session, order.id, "compensation")
        )
    cur = order.currency
    ledger.create_account(session, clock, psp(cur), cur)
    debtors = [p for p in (payer, *recover_from) if p != PLATFORM]
    ledger.lock_accounts(
        session,
        [orders.escrow(order.id), psp(cur), fund(cur)]
        + [code for p in debtors for code in (available(p), deposit_account(p))],
    )
    payments: list[Payment] = []
    from_escrow = _escrow_refund(session, clock, key, order, refund)
    if from_escrow:
        payments.append(Payment("refund", "escrow", order.merchant, from_escrow))
    due = {"refund": refund - from_escrow, "compensation": compensation_due}
    total_due = sum(due.values())
    n = 0

    def pay(kind: str, source: str, account: str, who: str, amount: int) -> None:
        nonlocal n
        if amount <= 0:
            return
        if source == "guarantee_fund":
            ledger.create_account(
                session, clock, account, cur, debits_must_not_exceed_credits=True, internal=True
            )
        n += 1
        move_key = derived(key, "pay", n)
        if source == "deposit":
            deposits.take(
                session, clock, move_key, who, amount, to=psp(cur), kind="remedy", ref=origin
            )
        else:
            _move(session, clock, move_key, account, psp(cur), amount, f"remedy {kind}")
        if source == "guarantee_fund":
            _fund_moved(session, clock, move_key, cur, -amount, "paid_first", origin)
        payments.append(Payment(kind, source, who, amount))

    if payer == PLATFORM:
        shares = model.Split(0, 0, total_due)
    else:
        shares = model.split(
            total_due,
            _balance(session, available(payer)),
            _balance(session, deposit_account(payer)),
        )
    # pay in order: the refund first, then compensation, each from the sources in turn
    sources = [
        ("available", available(payer), payer, shares.from_available),
        ("deposit", deposit_account(payer), payer, shares.from_deposit),
        ("guarantee_fund", fund(cur), PLATFORM, shares.shortfall),
    ]
    for kind in ("refund", "compensation"):
        left = due[kind]
        for i, (source, account, who, room) in enumerate(sources):
            take = min(left, room)
            pay(kind, source, account, who, take)
            sources[i] = (source, account, who, room - take)
            left -= take
    now = clock.now()
    remedy_id = session.execute(
        remedies.insert().returning(remedies.c.id),
        dict(
            idempotency_key=key,
            order_id=order.id,
            buyer=order.buyer,
            merchant=order.merchant,
            currency=cur,
            refund=refund,
            compensation=compensation_due,
            payer=payer,
            basis=basis,
            origin=origin,
            created_at=now,
        ),
    ).scalar_one()
    if payments:
        session.execute(
            remedy_payments.insert(),
            [
                dict(
                    remedy_id=remedy_id,
                    kind=p.kind,
                    source=p.source,
                    paid_by=p.paid_by,
                    amount=p.amount,
                )
                for p in payments
            ],
        )
    # the fund recovers what it laid out: from the payer that fell short, or, when the platform
    # paid first, from whoever the liability resolution names
    if shares.shortfall:
        debtor = payer if payer != PLATFORM else (recover_from[0] if recover_from else None)
        if debtor is not None:
            open_claim(
                session,
                clock,
                derived(key, "claim", "fund"),
                creditor=PLATFORM,
                debtor=debtor,
                amount=shares.shortfall,
                currency=cur,
                origin=origin,
                reason=f"the guarantee fund paid the buyer of order {order.id} first",
            )
    # a payer that paid for someone else's fault recovers from them
    paid_by_payer = shares.from_available + shares.from_deposit
    others = [p for p in recover_from if p != payer]
    if payer != PLATFORM and paid_by_payer and others:
        open_claim(
            session,
            clock,
            derived(key, "claim", "payer"),
            creditor=payer,
            debtor=others[0],
            amount=paid_by_payer,
            currency=cur,
            origin=origin,
            reason=f"{payer} paid the buyer of order {order.id} for {others[0]}'s fault",
        )
    events.append(
        session,
        clock,
        "remedy.paid",
        order.buyer,
        {
            "remedy": remedy_id,
            "order": order.id,
            "refund": refund,
            "compensation": compensation_due,
            "currency": cur,
            "payer": payer,
            "fund_paid": shares.shortfall,
            "basis": basis,
        },
    )
    return get_remedy(session, remedy_id)


# --- recovery claims ---


def open_claim(
    session: Session,
    clock: Clock,
    key: str,
    *,
    creditor: str,
    debtor: str,
    amount: int,
    currency: str,
    origin: str,
    reason: str,
) -> dict[str, Any]:
    """Open a claim and collect at once what the debtor's balance and deposit allow; the rest
    stays a receivable, collected by a daily timer until paid or written off."""
    done = session.execute(
        select(recovery_claims).where(recovery_claims.c.idempotency_key == key)
    ).first()
    if done is not None:
        return _claim(done)
    now = clock.now()
    claim_id = session.execute(
        recovery_claims.insert().returning(recovery_claims.c.id),
        dict(
            idempotency_key=key,
            creditor=creditor,
            debtor=debtor,
            currency=currency,
            amount=amount,
            recovered=0,
            written_off=0,
            status="open",
            origin=origin,
            reason=reason,
            created_at=now,
            updated_at=now,
        ),
    ).scalar_one()
    events.append(
        session,
        clock,
        "recovery.opened",
        debtor,
        {"claim": claim_id, "creditor": creditor, "debtor": debtor, "amount": amount},
    )
    collect(session, clock, claim_id)
    claim = get_claim(session, claim_id)
    if claim["status"] == "open":
        timers.schedule(session, clock, COLLECT, str(claim_id), now + COLLECT_EVERY)
    return claim


def _claim(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "creditor": r.creditor,
        "debtor": r.debtor,
        "currency": r.currency,
        "amount": r.amount,
        "recovered": r.recovered,
        "written_off": r.written_off,
        "outstanding": r.amount - r.recovered - r.written_off,
        "status": r.status,
        "origin": r.origin,
        "reason": r.reason,
        "write_off_reason": r.write_off_reason,
    }


def get_claim(session: Session, claim_id: int) -> dict[str, Any]:
    r = session.execute(select(recovery_claims).where(recovery_claims.c.id == claim_id)).first()
    if r is None:
        raise NotFound(f"no recovery claim {claim_id}", field="claim_id")
    return _claim(r)


def list_claims(session: Session, *, debtor: str | None = None) -> list[dict[str, Any]]:
    q = select(recovery_claims).order_by(recovery_claims.c.id)
    if debtor is not None:
        q = q.where(recovery_claims.c.debtor == debtor)
    return [_claim(r) for r in session.execute(q)]


def collect(session: Session, clock: Clock, claim_id: int) -> int:
    """Take what the debtor can pay now (available, then deposit); returns the amount."""
    r = session.execute(
        select(recovery_claims).where(recovery_claims.c.id == claim_id).with_for_update()
    ).first()
    if r is None or r.status != "open":
        return 0
    outstanding = r.amount - r.recovered - r.written_off
    target = fund(r.currency) if r.creditor == PLATFORM else available(r.creditor)
    # the debtor's balances are read under their locks: a remedy or a penalty taking from
    # them at the same moment is then seen, not raced
    ledger.lock_accounts(session, [available(r.debtor), deposit_account(r.debtor), target])
    shares = model.split(
        outstanding,
        _balance(session, available(r.debtor)),
        _balance(session, deposit_account(r.debtor)),
    )
    ledger.create_account(
        session, clock, target, r.currency, debits_must_not_exceed_credits=True, internal=True
    )
    got = 0
    for source, amount in (
        (available(r.debtor), shares.from_available),
        (deposit_account(r.debtor), shares.from_deposit),
    ):
        if amount > 0:
            move_key = derived("claim", claim_id, r.recovered + got, source)
            if source == deposit_account(r.debtor):
                deposits.take(
                    session,
                    clock,
                    move_key,
                    r.debtor,
                    amount,
                    to=target,
                    kind="recovery",
                    ref=f"claim:{claim_id}",
                )
            else:
                _move(session, clock, move_key, source, target, amount, "recovery")
            if target == fund(r.currency):
                _fund_moved(
                    session, clock, move_key, r.currency, amount, "recovered", f"claim:{claim_id}"
                )
            got += amount
    if got:
        settled = got == outstanding
        session.execute(
            update(recovery_claims)
            .where(recovery_claims.c.id == claim_id)
            .values(
                recovered=r.recovered + got,
                status="settled" if settled else "open",
                updated_at=clock.now(),
            )
        )
        events.append(
            session,
            clock,
            "recovery.collected",
            r.debtor,
            {"claim": claim_id, "amount": got, "settled": settled},
        )
    return got


@timers.handler(COLLECT)
def _collect_due(session: Session, clock: Clock, timer: Timer) -> None:
    """Try again every day: money arriving in the debtor's account pays the claim off."""
    claim_id = int(timer.subject)
    collect(session, clock, claim_id)
    if get_claim(session, claim_id)["status"] == "open":
        timers.schedule(session, clock, COLLECT, str(claim_id), clock.now() + COLLECT_EVERY)


def write_off(
    session: Session, clock: Clock, claim_id: int, *, reason: str, decided_by: str
) -> dict[str, Any]:
    """Give up the rest of a claim: only by a recorded decision with its reason."""
    if not reason or not reason.strip():
        raise ValidationFailed("a write-off states its reason", field="reason")
    row = session.execute(
        select(recovery_claims).where(recovery_claims.c.id == claim_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no recovery claim {claim_id}", field="claim_id")
    claim = _claim(row)
    if claim["status"] != "open":
        raise Conflict(f"claim {claim_id} is {claim['status']}", field="claim_id")
    session.execute(
        update(recovery_claims)
        .where(recovery_claims.c.id == claim_id)
        .values(
            written_off=claim["outstanding"],
            status="written_off",
            write_off_reason=reason,
            written_off_by=decided_by,
            updated_at=clock.now(),
        )
    )
    timers.cancel(session, COLLECT, str(claim_id))
    events.append(
        session,
        clock,
        "recovery.written_off",
        claim["debtor"],
        {"claim": claim_id, "amount": claim["outstanding"], "reason": reason, "by": decided_by},
    )
    return get_claim(session, claim_id)


def fund_position(session: Session, currency: str = "CNY") -> dict[str, int]:
    """The guarantee fund at any moment: its balance, what it paid, recovered and is owed."""
    fund_claims = select(
        func.coalesce(func.sum(recovery_claims.c.amount), 0),
        func.coalesce(func.sum(recovery_claims.c.recovered), 0),
        func.coalesce(func.sum(recovery_claims.c.written_off), 0),
    ).where(recovery_claims.c.creditor == PLATFORM, recovery_claims.c.currency == currency)
    claimed, recovered, written_off = session.execute(fund_claims).one()
    paid = session.execute(
        select(func.coalesce(func.sum(remedy_payments.c.amount), 0))
        .select_from(remedy_payments.join(remedies))
        .where(remedy_payments.c.source == "guarantee_fund", remedies.c.currency == currency)
    ).scalar_one()
    return {
        "balance": fund_balance(session, currency),
        "paid_first": int(paid),
        "claimed": int(claimed),
        "recovered": int(recovered),
        "written_off": int(written_off),
        "receivable": int(claimed) - int(recovered) - int(written_off),
    }


def execute_recall(
    session: Session, clock: Clock, recall_id: int, *, decided_by: str
) -> list[Remedy]:
    """Pay every pending remedy task of a recall: the refund and compensation the recall
    computed, by whoever the liability resolution says pays first, recovering from the liable."""
    from xinren.liability import service as liability
    from xinren.provenance.tables import remedy_tasks
    from xinren.recalls import service as recalls

    recall = recalls.get_recall(session, recall_id)
    pending = (
        select(remedy_tasks)
        .where(remedy_tasks.c.recall_id == recall_id)
        .where(remedy_tasks.c.status == "pending")
        .order_by(remedy_tasks.c.order_id, remedy_tasks.c.id)
    )
    # Lock every order first, in id order, then read the tasks again under those locks: a
    # concurrent run of this recall (or a decision on one of its orders) then finds the tasks
    # it paid already paid, and what is still owed as it is now.
    orders.lock_many(session, [t.order_id for t in session.execute(pending)])
    tasks = session.execute(pending.with_for_update()).all()
    paid = []
    for task in tasks:
        result, _ = liability.assess(
            session, clock, task.order_id, recall.finding, assessed_by=decided_by
        )
        order = orders.get_order(session, task.order_id)
        remedy = pay_buyer(
            session,
            clock,
            f"{SYSTEM_PREFIX}recall_task:{task.id}",
            order_id=task.order_id,
            refund=min(task.refund, still_owed(session, order)),
            compensation_due=task.compensation,
            payer=result.pays_first.party,
            recover_from=[x.party for x in result.recover_from],
            basis=f"recall {recall_id}: {task.basis}; liability rule {result.rule}",
            origin=f"recall_task:{task.id}",
        )
        session.execute(
            update(remedy_tasks).where(remedy_tasks.c.id == task.id).values(status="paid")
        )
        paid.append(remedy)
    if paid:
        events.append(
            session,
            clock,
            "recall.remedied",
            f"batch:{recall.batch_id}",
            {"recall": recall_id, "orders": len(paid)},
        )
    return paid
