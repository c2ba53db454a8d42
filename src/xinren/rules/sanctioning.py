"""Carrying sanctions out: apply one (read its facts, plan it with `model.plan_sanction`,
write the plan), end one (undo what `model.undoes` says), and keep the party's restrictions
equal to its active restricting sanctions. Everything runs in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.errors import NotFound
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, derived
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.rules import model
from xinren.rules.model import (
    HoldBalance,
    RemoveListings,
    Requested,
    SanctionFacts,
    SanctionKind,
    SanctionPlan,
    TakePenalty,
)
from xinren.rules.tables import sanctions
from xinren.timers import service as timers
from xinren.timers.model import Timer

SANCTION_END = "rules.sanction_end"
PENALTIES = "platform:penalties"


def frozen_account(merchant: str) -> str:
    return f"{merchant}:frozen"


ledger.reserve("rules", r".+:frozen", "balances frozen by a sanction")


# --- applying ---


def apply(
    session: Session,
    clock: Clock,
    violation_id: int,
    subject: str,
    r: Requested,
    *,
    cause: str,
    ladder: str | None = None,
) -> None:
    """Apply one checked sanction of a violation: facts, plan, then the writes."""
    facts = _facts(session, clock, violation_id, subject, r.kind)
    plan = model.plan_sanction(r, facts)
    key = derived("violation", violation_id, cause, plan.kind.value, plan.target)
    hold_id = _carry_out(session, clock, key, violation_id, subject, plan)
    sanction_id = session.execute(
        sanctions.insert().returning(sanctions.c.id),
        dict(
            violation_id=violation_id,
            subject=subject,
            kind=plan.kind.value,
            target=plan.target,
            cause=cause,
            ladder=ladder,
            amount=plan.amount,
            hold_id=hold_id,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            status=plan.status,
        ),
    ).scalar_one()
    if plan.timed:
        assert plan.ends_at is not None
        timers.schedule(session, clock, SANCTION_END, str(sanction_id), plan.ends_at)
    events.append(
        session,
        clock,
        "sanction.applied",
        subject,
        {
            "sanction": sanction_id,
            "violation": violation_id,
            "kind": plan.kind.value,
            "target": plan.target,
            "ends_at": plan.ends_at.isoformat() if plan.ends_at else None,
            "amount": plan.amount,
        },
    )


def _facts(
    session: Session, clock: Clock, violation_id: int, subject: str, kind: SanctionKind
) -> SanctionFacts:
    """What the kind's plan depends on, read after the locks it needs."""
    facts = SanctionFacts(violation_id, subject, clock.now())
    if kind is SanctionKind.PENALTY_PAYMENT:
        # lock before reading: a remedy paid from the deposit at the same moment must not
        # leave this penalty taking more than is there
        ledger.lock_accounts(session, [deposits.deposit_account(subject), PENALTIES])
        return SanctionFacts(
            violation_id, subject, facts.now, deposit=deposits.deposit_balance(session, subject)
        )
    if kind is SanctionKind.SETTLEMENT_FREEZE:
        return SanctionFacts(
            violation_id, subject, facts.now, available=_freezable(session, subject)
        )
    if kind is SanctionKind.CLEARANCE:
        active = tuple(
            x.id for x in catalog.list_listings(session, merchant=subject) if x.status == "active"
        )
        return SanctionFacts(violation_id, subject, facts.now, active_listings=active)
    return facts


def _carry_out(
    session: Session, clock: Clock, key: str, violation_id: int, subject: str, plan: SanctionPlan
) -> int | None:
    """Do the plan's effects; the freeze's hold id, if it held anything."""
    hold_id: int | None = None
    for effect in plan.effects:
        if isinstance(effect, RemoveListings):
            for listing_id in effect.listing_ids:
                catalog.set_listing_status(
                    session, clock, listing_id, "removed", reason=effect.reason
                )
        elif isinstance(effect, TakePenalty):
            currency = ledger.get_account(session, deposits.deposit_account(subject)).currency
            ledger.create_account(session, clock, PENALTIES, currency)
            deposits.take(
                session,
                clock,
                key,
                subject,
                effect.amount,
                to=PENALTIES,
                kind="penalty",
                ref=f"violation:{violation_id}",
            )
        elif isinstance(effect, HoldBalance):
            hold_id = _hold(session, clock, key, subject, violation_id, effect.amount)
    return hold_id


def _freezable(session: Session, subject: str) -> int:
    """The merchant's available balance, locked against a concurrent payout (0: no account)."""
    ledger.lock_accounts(session, [f"{subject}:available", frozen_account(subject)])
    try:
        return ledger.get_account(session, f"{subject}:available").balance.available
    except NotFound:
        return 0


def _hold(
    session: Session, clock: Clock, key: str, subject: str, violation_id: int, amount: int
) -> int:
    """Hold `amount` of the merchant's available balance until the freeze ends (a ledger hold,
    so the money stays the merchant's and the freeze is visible in its balance)."""
    currency = ledger.get_account(session, f"{subject}:available").currency
    ledger.create_account(session, clock, frozen_account(subject), currency, internal=True)
    result = ledger.hold(
        session,
        clock,
        key,
        f"{subject}:available",
        frozen_account(subject),
        amount,
        reason="settlement freeze",
        refs={"violation": str(violation_id)},
        system=True,
    )
    assert result.hold_id is not None
    return result.hold_id


def sync_restrictions(session: Session, clock: Clock, subject: str) -> None:
    """The party's restrictions are exactly its active restricting sanctions (latest end wins)."""
    rows = session.execute(
        select(sanctions.c.kind, sanctions.c.ends_at)
        .where(sanctions.c.target == subject)
        .where(sanctions.c.status == "active")
    )
    parties.set_restrictions(session, clock, subject, model.restrictions(rows))


# --- ending ---


def end(session: Session, clock: Clock, s: Any, status: str, reason: str) -> None:
    """End one sanction and undo what it still holds (the hold, the listing removal)."""
    if s.status != "active":
        return
    undo = model.undoes(SanctionKind(s.kind), status, held=s.hold_id is not None)
    if "void_hold" in undo:
        ledger.void(
            session,
            clock,
            f"{SYSTEM_PREFIX}sanction:{s.id}:void",
            s.hold_id,
            reason="settlement freeze lifted",
            system=True,
        )
    if "hand_over" in undo:
        _hand_over_freeze(session, clock, s)
    if "restore_listings" in undo:
        _restore_listings(session, clock, s)
    session.execute(
        update(sanctions)
        .where(sanctions.c.id == s.id)
        .values(status=status, ended_at=clock.now(), end_reason=reason)
    )
    timers.cancel(session, SANCTION_END, str(s.id))
    events.append(
        session,
        clock,
        "sanction.ended" if status == "ended" else "sanction.reversed",
        s.subject,
        {"sanction": s.id, "kind": s.kind, "target": s.target, "reason": reason},
    )


def _hand_over_freeze(session: Session, clock: Clock, ended: Any) -> None:
    """Another freeze of the same merchant still runs: it takes over the hold (the first
    freeze held everything, so the later one had nothing left to hold)."""
    other = session.execute(
        select(sanctions)
        .where(sanctions.c.subject == ended.subject)
        .where(sanctions.c.kind == SanctionKind.SETTLEMENT_FREEZE.value)
        .where(sanctions.c.status == "active")
        .where(sanctions.c.id != ended.id)
        .order_by(sanctions.c.ends_at.desc())
    ).first()
    if other is None:
        return
    if other.hold_id is not None:  # one hold per merchant: fold the other's into a new one
        ledger.void(
            session,
            clock,
            f"{SYSTEM_PREFIX}sanction:{other.id}:fold:{ended.id}",
            other.hold_id,
            reason="settlement freeze handed over",
            system=True,
        )
    amount = _freezable(session, ended.subject)
    if amount <= 0:
        return
    hold_id = _hold(
        session,
        clock,
        f"{SYSTEM_PREFIX}sanction:{other.id}:takeover:{ended.id}",
        ended.subject,
        other.violation_id,
        amount,
    )
    session.execute(
        update(sanctions).where(sanctions.c.id == other.id).values(hold_id=hold_id, amount=amount)
    )


def _restore_listings(session: Session, clock: Clock, s: Any) -> None:
    """Put listings back, except those another active sanction still removes (a listing
    removal aimed at it, or a clearance of its merchant)."""
    others = session.execute(
        select(sanctions.c.kind, sanctions.c.target)
        .where(sanctions.c.subject == s.subject)
        .where(sanctions.c.status == "active")
        .where(sanctions.c.id != s.id)
    ).all()
    if any(kind == SanctionKind.CLEARANCE.value for kind, _ in others):
        return
    mine: list[int] = []
    if not s.target.startswith("listing:"):  # a reversed clearance restores what it removed
        mine = [x.id for x in catalog.list_listings(session, merchant=s.subject)]
    pairs = [(kind, target) for kind, target in others]
    for listing_id in model.listings_to_restore(s.target, mine, pairs):
        catalog.set_listing_status(
            session, clock, listing_id, "active", reason=f"sanction {s.id} lifted"
        )


@timers.handler(SANCTION_END)
def _sanction_end(session: Session, clock: Clock, timer: Timer) -> None:
    """A sanction's end date came: lift it (no one has to remember to)."""
    s = session.execute(select(sanctions).where(sanctions.c.id == int(timer.subject))).first()
    if s is None or s.status != "active":
        return
    end(session, clock, s, "ended", "its period ended")
    sync_restrictions(session, clock, s.subject)
