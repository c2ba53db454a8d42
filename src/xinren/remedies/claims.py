"""Recovery claims (追偿): what a payer that paid first is owed by whoever answers for the
fault, collected at once from the debtor's available balance and deposit, then daily by a timer
(the handler is in `remedies.service`) until paid or written off by a recorded decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import Conflict, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import derived
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.parties.deposits import deposit_account
from xinren.remedies import model
from xinren.remedies.fund import balance_of, fund, fund_moved, move
from xinren.remedies.model import PLATFORM
from xinren.remedies.tables import recovery_claims
from xinren.timers import service as timers

COLLECT = "remedies.collect"
COLLECT_EVERY = timedelta(days=1)


def available(party: str) -> str:
    """A party's available balance account."""
    return f"{party}:available"


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
    to_fund = r.creditor == PLATFORM
    target = fund(r.currency) if to_fund else available(r.creditor)
    # the debtor's balances are read under their locks: a remedy or a penalty taking from
    # them at the same moment is then seen, not raced
    ledger.lock_accounts(session, [available(r.debtor), deposit_account(r.debtor), target])
    shares = model.split(
        outstanding,
        balance_of(session, available(r.debtor)),
        balance_of(session, deposit_account(r.debtor)),
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
                move(session, clock, move_key, source, target, amount, "recovery")
            if to_fund:
                fund_moved(
                    session, clock, move_key, r.currency, amount, "recovered", f"claim:{claim_id}"
                )
            got += amount
    if got:
        _collected(session, clock, r, got, outstanding)
    return got


def _collected(session: Session, clock: Clock, r: Any, got: int, outstanding: int) -> None:
    settled = got == outstanding
    session.execute(
        update(recovery_claims)
        .where(recovery_claims.c.id == r.id)
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
        {"claim": r.id, "amount": got, "settled": settled},
    )


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
