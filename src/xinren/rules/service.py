"""Violation decisions, the sanctions they carry, the points ladder, and appeals.

A decision is refused unless the rule was in force when the conduct happened, the evidence the
rule requires is on record, and every sanction asked for is one the rule permits. Everything a
decision does (points, sanctions, ledger movements, listing and merchant status, events) is
written in the caller's one transaction; an overturned appeal reverses all of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.tables import live_claims
from xinren.clock import Clock
from xinren.documents import service as documents
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.events.tables import outbox
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key, derived
from xinren.ledger import service as ledger
from xinren.orders.tables import orders
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import check_ref
from xinren.rules import model, rulebooks
from xinren.rules.model import (
    Automation,
    Requested,
    SanctionKind,
    SanctionRecord,
    Scored,
    Severity,
    Source,
    ViolationRecord,
)
from xinren.rules.tables import appeals, sanctions, violations
from xinren.timers import service as timers
from xinren.timers.model import Timer

SANCTION_END = "rules.sanction_end"
PENALTIES = "platform:penalties"
#: Sanctions that restrict the merchant (kept on the party) rather than a listing.
RESTRICTING = frozenset(
    {
        SanctionKind.TRAFFIC_RESTRICTION,
        SanctionKind.NEW_LISTING_BAN,
        SanctionKind.SETTLEMENT_FREEZE,
        SanctionKind.SUSPENSION,
        SanctionKind.CLEARANCE,
    }
)


def frozen_account(merchant: str) -> str:
    return f"{merchant}:frozen"


ledger.reserve("rules", r".+:frozen", "balances frozen by a sanction")


# --- reading ---


def _sanction(r: Any) -> SanctionRecord:
    return SanctionRecord(
        r.id,
        SanctionKind(r.kind),
        r.target,
        r.cause,
        r.ladder,
        r.amount,
        r.starts_at,
        r.ends_at,
        r.status,
    )


def get_violation(session: Session, violation_id: int) -> ViolationRecord:
    r = session.execute(select(violations).where(violations.c.id == violation_id)).first()
    if r is None:
        raise NotFound(f"no violation {violation_id}", field="violation_id")
    rows = session.execute(
        select(sanctions).where(sanctions.c.violation_id == r.id).order_by(sanctions.c.id)
    )
    return ViolationRecord(
        r.id,
        r.subject,
        r.rule_id,
        r.rule_version,
        r.category,
        Severity(r.severity),
        r.points,
        r.conduct_at,
        r.decided_at,
        r.facts,
        tuple(r.evidence),
        Source(r.source),
        r.source_identity,
        r.automated_detection,
        Automation(r.automated_decision),
        r.decided_by,
        r.status,
        tuple(_sanction(s) for s in rows),
    )


def list_violations(
    session: Session, *, subject: str | None = None, after: int = 0, limit: int = 100
) -> list[ViolationRecord]:
    q = select(violations.c.id).where(violations.c.id > after).order_by(violations.c.id)
    if subject is not None:
        q = q.where(violations.c.subject == subject)
    return [get_violation(session, i) for i in session.execute(q.limit(limit)).scalars()]


def points(session: Session, subject: str, day: datetime) -> dict[str, int]:
    """The subject's counted points on `day`, serious and general separately."""
    book = rulebooks.in_force_on(day.date())
    scored = _scored(session, subject)
    return {s.value: model.total(book, scored, s, day.date()) for s in Severity}


def _scored(session: Session, subject: str, exclude: int | None = None) -> list[Scored]:
    rows = session.execute(
        select(violations.c.id, violations.c.conduct_at, violations.c.severity, violations.c.points)
        .where(violations.c.subject == subject)
        .where(violations.c.status != "overturned")
    )
    return [
        Scored(r.id, r.conduct_at, Severity(r.severity), r.points) for r in rows if r.id != exclude
    ]


# --- evidence ---


_ID = re.compile(r"^[0-9]{1,18}$")


def evidence_type(session: Session, ref: str, about: str | None = None) -> str:
    """The type of one evidence reference, after checking it exists and, with `about`, that
    it concerns that party (its order, its listing, a claim made in its live session)."""
    kind, _, ident = ref.partition(":")
    if kind != "document" and not _ID.match(ident):
        raise ValidationFailed(
            f"evidence {ref!r} is 'document:<sha256>', 'order:<id>', 'listing:<id>', "
            "'live_claim:<id>' or 'event:<id>'",
            field="evidence",
        )
    owner: set[str | None] = set()
    found: str | None = None
    if kind == "document":
        try:
            found = documents.get(session, ident).meta.doc_type.value
        except NotFound:
            found = None
    elif kind == "order":
        row = session.execute(select(orders).where(orders.c.id == int(ident))).first()
        if row is not None:
            found, owner = "order", {row.merchant, row.host}
    elif kind == "listing":
        try:
            found, owner = "listing", {catalog.get_listing(session, int(ident)).merchant}
        except NotFound:
            found = None
    elif kind == "live_claim":
        row = session.execute(
            select(live_claims.c.session_id).where(live_claims.c.id == int(ident))
        ).first()
        if row is not None:
            live = catalog.get_live_session(session, row.session_id)
            found, owner = "live_claim", {live.merchant, live.host}
    elif kind == "event":
        if session.execute(select(outbox.c.id).where(outbox.c.id == int(ident))).first():
            found = "event"
    else:
        raise ValidationFailed(
            f"evidence {ref!r} is 'document:<sha256>', 'order:<id>', 'listing:<id>', "
            "'live_claim:<id>' or 'event:<id>'",
            field="evidence",
        )
    if found is None:
        raise NotFound(f"evidence {ref!r} is not on record", field="evidence")
    if about is not None and owner and about not in owner:
        raise ValidationFailed(
            f"evidence {ref!r} concerns {', '.join(sorted(o for o in owner if o))}, not {about}",
            field="evidence",
        )
    return found


# --- deciding a violation ---


def decide(
    session: Session,
    clock: Clock,
    key: str,
    *,
    subject: str,
    rule_id: str,
    conduct_at: datetime,
    facts: str,
    evidence: Sequence[str],
    source: Source | str,
    decided_by: str,
    requested: Sequence[Requested] = (),
    points_given: int | None = None,
    automated_detection: bool = False,
    automated_decision: Automation | str = Automation.NOT_AUTOMATED,
    source_identity: str | None = None,
) -> ViolationRecord:
    """Record a violation under the rule in force at the conduct, with its sanctions."""
    check_idempotency_key(key)
    request = {
        "subject": subject,
        "rule_id": rule_id,
        "conduct_at": conduct_at.isoformat(),
        "facts": facts,
        "evidence": list(evidence),
        "source": str(source),
        "sanctions": [[r.kind.value, r.days, r.amount, r.target] for r in requested],
        "points": points_given,
    }
    done = session.execute(select(violations).where(violations.c.idempotency_key == key)).first()
    if done is not None:
        if done.request != request:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} recorded violation {done.id} with other details",
                field="idempotency_key",
            )
        return get_violation(session, done.id)
    check_ref(subject, "subject")
    parties.get(session, subject)
    try:
        source = Source(source)
        automated_decision = Automation(automated_decision)
    except ValueError as err:
        raise ValidationFailed(str(err), field="source") from None
    now = clock.now()
    if conduct_at.tzinfo is None or conduct_at > now:
        raise ValidationFailed("conduct_at is an aware time, not in the future", field="conduct_at")
    if not facts or not facts.strip() or len(facts) > 4000:
        raise ValidationFailed("facts are required (at most 4,000 characters)", field="facts")
    conduct_at = conduct_at.astimezone(
        UTC
    )  # rulebook dates are UTC days, whatever the caller's zone
    book = rulebooks.in_force_on(conduct_at.date())
    try:
        rule = book.rule(rule_id)
    except ValidationFailed as err:
        raise ValidationFailed(
            f"{err.detail}; conduct on {conduct_at.date()} is judged only under the rules in "
            f"force then ({book.version}), never under later ones",
            field="rule_id",
        ) from None
    points_ = rule.points.check(points_given, rule.id)
    supplied = [evidence_type(session, ref, about=subject) for ref in evidence]
    missing = model.missing_evidence(rule, supplied)
    if missing:
        raise Conflict(
            f"rule {rule.id} requires evidence of type {'; and '.join(missing)}; none was "
            "given, so no violation can be recorded",
            field="evidence",
        )
    chosen = model.check_sanctions(rule, requested)
    for r in chosen:
        if r.target and r.target.startswith("listing:"):
            listing = catalog.get_listing(session, int(r.target.split(":")[1]))
            if listing.merchant != subject:
                raise ValidationFailed(f"{r.target} is not {subject}'s", field="sanctions")
    if source in (Source.NOTICE, Source.TRUSTED_FLAGGER, Source.COMPLAINT) and not source_identity:
        source_identity = None  # the notifier's identity is optional in a statement of reasons
    # the ladder counts what stands on the day of the decision, whatever order decisions came in
    scored = _scored(session, subject)
    before = model.total(book, scored, rule.severity, now.date())
    counts = model.counting_since(book, now.date()) <= conduct_at.date()
    violation_id = session.execute(
        violations.insert().returning(violations.c.id),
        dict(
            idempotency_key=key,
            subject=subject,
            rule_id=rule.id,
            rule_version=book.version,
            category=rule.category,
            severity=rule.severity.value,
            points=points_,
            conduct_at=conduct_at,
            decided_at=now,
            facts=facts,
            evidence=list(evidence),
            source=source.value,
            source_identity=source_identity,
            automated_detection=automated_detection,
            automated_decision=automated_decision.value,
            decided_by=decided_by,
            status="active",
            request=request,
            created_at=now,
        ),
    ).scalar_one()
    for r in chosen:
        _apply(session, clock, violation_id, subject, r, cause="rule")
    step = model.threshold_reached(book, before, before + (points_ if counts else 0), rule.severity)
    if step is not None:
        for kind in step.sanctions:
            _apply(
                session,
                clock,
                violation_id,
                subject,
                Requested(kind, step.days),
                cause="ladder",
                ladder=f"{rule.severity.value} {step.points}",
            )
    _sync_restrictions(session, clock, subject)
    events.append(
        session,
        clock,
        "violation.decided",
        subject,
        {
            "violation": violation_id,
            "subject": subject,
            "rule": rule.id,
            "version": book.version,
            "points": points_,
            "ladder": f"{rule.severity.value} {step.points}" if step else None,
        },
    )
    return get_violation(session, violation_id)


def _apply(
    session: Session,
    clock: Clock,
    violation_id: int,
    subject: str,
    r: Requested,
    *,
    cause: str,
    ladder: str | None = None,
) -> None:
    now = clock.now()
    kind = r.kind
    target = r.target or subject
    ends: datetime | None = now + timedelta(days=r.days) if r.days else None
    amount: int | None = None
    hold_id: int | None = None
    status = "active"
    key = derived("violation", violation_id, cause, kind.value, target)
    if kind is SanctionKind.WARNING:
        ends, status = now, "ended"
    elif kind is SanctionKind.LISTING_REMOVAL:
        catalog.set_listing_status(
            session, clock, int(target.split(":")[1]), "removed", reason=f"violation {violation_id}"
        )
    elif kind is SanctionKind.PENALTY_PAYMENT:
        # lock before reading: a remedy paid from the deposit at the same moment must not
        # leave this penalty taking more than is there
        ledger.lock_accounts(session, [deposits.deposit_account(subject), PENALTIES])
        held = deposits.deposit_balance(session, subject)
        amount = min(held, r.amount or 0)
        if amount > 0:
            currency = ledger.get_account(session, deposits.deposit_account(subject)).currency
            ledger.create_account(session, clock, PENALTIES, currency)
            deposits.take(
                session,
                clock,
                key,
                subject,
                amount,
                to=PENALTIES,
                kind="penalty",
                ref=f"violation:{violation_id}",
            )
        ends, status = now, "ended"
    elif kind is SanctionKind.SETTLEMENT_FREEZE:
        hold_id, amount = _freeze(session, clock, key, subject, violation_id, ends)
    elif kind is SanctionKind.CLEARANCE:
        ends = None
        for listing in catalog.list_listings(session, merchant=subject):
            if listing.status == "active":
                catalog.set_listing_status(
                    session, clock, listing.id, "removed", reason=f"clearance ({violation_id})"
                )
    sanction_id = session.execute(
        sanctions.insert().returning(sanctions.c.id),
        dict(
            violation_id=violation_id,
            subject=subject,
            kind=kind.value,
            target=target,
            cause=cause,
            ladder=ladder,
            amount=amount,
            hold_id=hold_id,
            starts_at=now,
            ends_at=ends,
            status=status,
        ),
    ).scalar_one()
    if status == "active" and ends is not None:
        timers.schedule(session, clock, SANCTION_END, str(sanction_id), ends)
    events.append(
        session,
        clock,
        "sanction.applied",
        subject,
        {
            "sanction": sanction_id,
            "violation": violation_id,
            "kind": kind.value,
            "target": target,
            "ends_at": ends.isoformat() if ends else None,
            "amount": amount,
        },
    )


def _freeze(
    session: Session,
    clock: Clock,
    key: str,
    subject: str,
    violation_id: int,
    ends: datetime | None,
) -> tuple[int | None, int]:
    """Hold the merchant's whole available balance until the freeze ends (a ledger hold, so
    the money stays the merchant's and the freeze is visible in its balance)."""
    ledger.lock_accounts(session, [f"{subject}:available", frozen_account(subject)])
    try:
        account = ledger.get_account(session, f"{subject}:available")
    except NotFound:
        return None, 0
    amount = account.balance.available
    if amount <= 0:
        return None, 0
    ledger.create_account(session, clock, frozen_account(subject), account.currency, internal=True)
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
    return result.hold_id, amount


def _sync_restrictions(session: Session, clock: Clock, subject: str) -> None:
    """The party's restrictions are exactly its active restricting sanctions (latest end wins)."""
    rows = session.execute(
        select(sanctions.c.kind, sanctions.c.ends_at)
        .where(sanctions.c.target == subject)
        .where(sanctions.c.status == "active")
    )
    out: dict[str, str | None] = {}
    for kind, ends in rows:
        if SanctionKind(kind) not in RESTRICTING:
            continue
        if kind in out and out[kind] is None:
            continue
        if ends is None:
            out[kind] = None
        else:
            iso = ends.isoformat()
            out[kind] = max(out.get(kind) or iso, iso)
    parties.set_restrictions(session, clock, subject, out)


def _end(session: Session, clock: Clock, s: Any, status: str, reason: str) -> None:
    """End one sanction and undo what it still holds (the hold, the listing removal)."""
    if s.status != "active":
        return
    kind = SanctionKind(s.kind)
    if kind is SanctionKind.SETTLEMENT_FREEZE and s.hold_id is not None:
        ledger.void(
            session,
            clock,
            f"{SYSTEM_PREFIX}sanction:{s.id}:void",
            s.hold_id,
            reason="settlement freeze lifted",
            system=True,
        )
        _hand_over_freeze(session, clock, s)
    if kind is SanctionKind.LISTING_REMOVAL or (
        kind is SanctionKind.CLEARANCE and status == "reversed"
    ):
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
    hold_id, amount = _freeze(
        session,
        clock,
        f"{SYSTEM_PREFIX}sanction:{other.id}:takeover:{ended.id}",
        ended.subject,
        other.violation_id,
        other.ends_at,
    )
    if hold_id is not None:
        session.execute(
            update(sanctions)
            .where(sanctions.c.id == other.id)
            .values(hold_id=hold_id, amount=amount)
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
    still_removed = {t for kind, t in others if kind == SanctionKind.LISTING_REMOVAL.value}
    if s.target.startswith("listing:"):
        ids = [int(s.target.split(":")[1])]
    else:  # a reversed clearance restores what it removed
        ids = [x.id for x in catalog.list_listings(session, merchant=s.subject)]
    for listing_id in ids:
        if f"listing:{listing_id}" not in still_removed:
            catalog.set_listing_status(
                session, clock, listing_id, "active", reason=f"sanction {s.id} lifted"
            )


@timers.handler(SANCTION_END)
def _sanction_end(session: Session, clock: Clock, timer: Timer) -> None:
    """A sanction's end date came: lift it (no one has to remember to)."""
    s = session.execute(select(sanctions).where(sanctions.c.id == int(timer.subject))).first()
    if s is None or s.status != "active":
        return
    _end(session, clock, s, "ended", "its period ended")
    _sync_restrictions(session, clock, s.subject)


# --- appeals ---


def file_appeal(
    session: Session, clock: Clock, key: str, violation_id: int, *, appellant: str, grounds: str
) -> dict[str, Any]:
    """An appeal (DSA Art. 20): free, within the window, by the sanctioned party."""
    check_idempotency_key(key)
    v = get_violation(session, violation_id)
    if appellant != v.subject:
        raise Forbidden(f"only {v.subject} may appeal violation {violation_id}")
    done = session.execute(select(appeals).where(appeals.c.idempotency_key == key)).first()
    if done is not None:
        if (done.violation_id, done.appellant) != (violation_id, appellant):
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} filed another appeal", field="idempotency_key"
            )
        return _appeal(done)
    if not grounds or not grounds.strip() or len(grounds) > 4000:
        raise ValidationFailed("grounds are required (at most 4,000 characters)", field="grounds")
    if v.status == "overturned":
        raise Conflict(f"violation {violation_id} is already overturned", field="violation_id")
    open_ = session.execute(
        select(appeals.c.id)
        .where(appeals.c.violation_id == violation_id)
        .where(appeals.c.status == "open")
    ).first()
    if open_ is not None:
        raise Conflict(f"appeal {open_.id} on this violation is still open", field="violation_id")
    book = rulebooks.version(v.rule_version)
    now = clock.now()
    due = model.check_appeal_window(book, v.decided_at, now)
    appeal_id = session.execute(
        appeals.insert().returning(appeals.c.id),
        dict(
            idempotency_key=key,
            violation_id=violation_id,
            appellant=appellant,
            grounds=grounds,
            filed_at=now,
            due_at=due,
            status="open",
        ),
    ).scalar_one()
    events.append(
        session,
        clock,
        "appeal.filed",
        v.subject,
        {"appeal": appeal_id, "violation": violation_id, "due_at": due.isoformat()},
    )
    return get_appeal(session, appeal_id)


def _appeal(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "violation": r.violation_id,
        "appellant": r.appellant,
        "grounds": r.grounds,
        "filed_at": r.filed_at.isoformat(),
        "due_at": r.due_at.isoformat(),
        "status": r.status,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "reasons": r.reasons,
        "new_points": r.new_points,
    }


def get_appeal(session: Session, appeal_id: int) -> dict[str, Any]:
    r = session.execute(select(appeals).where(appeals.c.id == appeal_id)).first()
    if r is None:
        raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
    return _appeal(r)


def decide_appeal(
    session: Session,
    clock: Clock,
    appeal_id: int,
    *,
    outcome: str,
    reasons: str,
    reviewer: str,
    automated: bool = False,
    new_points: int | None = None,
    lift: Sequence[int] = (),
) -> dict[str, Any]:
    """Decide an appeal: upheld, reduced (fewer points and/or sanctions lifted) or overturned
    (everything reversed: points, penalties refunded, listings and status restored).

    Never by automation alone, and never by someone who took part in the original decision.
    """
    if automated:
        raise Forbidden("an appeal is decided by a person, never by automation alone")
    if outcome not in ("upheld", "reduced", "overturned"):
        raise ValidationFailed("outcome is upheld, reduced or overturned", field="outcome")
    if not reasons or not reasons.strip():
        raise ValidationFailed("reasons are required: the merchant is told why", field="reasons")
    row = session.execute(
        select(appeals).where(appeals.c.id == appeal_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
    if row.status != "open":
        if row.status == outcome and row.decided_by == reviewer:
            return _appeal(row)  # a retried decision
        raise Conflict(f"appeal {appeal_id} was already decided: {row.status}", field="appeal_id")
    v = get_violation(session, row.violation_id)
    if reviewer == v.decided_by:
        raise Forbidden(
            f"{reviewer} decided violation {v.id}; an appeal goes to a reviewer who took no part"
        )
    now = clock.now()
    if outcome == "overturned":
        _reverse(session, clock, v, f"appeal {appeal_id} overturned the decision")
        session.execute(
            update(violations).where(violations.c.id == v.id).values(status="overturned")
        )
    elif outcome == "reduced":
        _reduce(session, clock, v, appeal_id, new_points, lift)
    session.execute(
        update(appeals)
        .where(appeals.c.id == appeal_id)
        .values(
            status=outcome,
            decided_by=reviewer,
            decided_at=now,
            reasons=reasons,
            new_points=new_points if outcome == "reduced" else None,
        )
    )
    if outcome != "upheld":
        _relevel(session, clock, v.subject, f"appeal {appeal_id} lowered the points")
    _sync_restrictions(session, clock, v.subject)
    events.append(
        session,
        clock,
        "appeal.decided",
        v.subject,
        {"appeal": appeal_id, "violation": v.id, "outcome": outcome, "reasons": reasons},
    )
    return get_appeal(session, appeal_id)


def _relevel(session: Session, clock: Clock, subject: str, reason: str) -> None:
    """Replay the subject's standing violations in the order they were decided and lift every
    active ladder sanction whose threshold the points no longer reach (an overturned or reduced
    violation lowers the count that later thresholds were reached on)."""
    rows = session.execute(
        select(violations)
        .where(violations.c.subject == subject)
        .where(violations.c.status != "overturned")
        .order_by(violations.c.decided_at, violations.c.id)
    ).all()
    reached: set[str] = set()
    scored: list[Scored] = []
    for r in rows:
        book = rulebooks.version(r.rule_version)
        severity = Severity(r.severity)
        day = r.decided_at.date()
        before = model.total(book, scored, severity, day)
        counts = model.counting_since(book, day) <= r.conduct_at.date()
        scored.append(Scored(r.id, r.conduct_at, severity, r.points))
        step = model.threshold_reached(book, before, before + (r.points if counts else 0), severity)
        if step is not None:
            reached.add(f"{severity.value} {step.points}")
    stale = session.execute(
        select(sanctions)
        .where(sanctions.c.subject == subject)
        .where(sanctions.c.cause == "ladder")
        .where(sanctions.c.status == "active")
    ).all()
    for s in stale:
        if s.ladder not in reached:
            _end(session, clock, s, "reversed", reason)


def _refund_penalty(session: Session, clock: Clock, s: SanctionRecord, violation_id: int) -> None:
    if s.kind is SanctionKind.PENALTY_PAYMENT and s.amount and s.status != "reversed":
        deposits.put(
            session,
            clock,
            f"{SYSTEM_PREFIX}sanction:{s.id}:refund",
            s.target,
            s.amount,
            source=PENALTIES,
            kind="penalty_refunded",
            ref=f"violation:{violation_id}",
        )


def _reverse(session: Session, clock: Clock, v: ViolationRecord, reason: str) -> None:
    """Undo every sanction of the violation, ladder ones included, refunding penalties."""
    for s in v.sanctions:
        _refund_penalty(session, clock, s, v.id)
        row = session.execute(select(sanctions).where(sanctions.c.id == s.id)).one()
        if row.status == "active":
            _end(session, clock, row, "reversed", reason)
        else:
            session.execute(
                update(sanctions)
                .where(sanctions.c.id == s.id)
                .values(status="reversed", end_reason=reason)
            )


def _reduce(
    session: Session,
    clock: Clock,
    v: ViolationRecord,
    appeal_id: int,
    new_points: int | None,
    lift: Sequence[int],
) -> None:
    book = rulebooks.version(v.rule_version)
    rule = book.rule(v.rule_id)
    if new_points is not None:
        if rule.points.fixed is not None or not rule.points.low <= new_points < v.points:
            raise ValidationFailed(
                f"a reduction lowers the points within the rule's range ({rule.points.low} to "
                f"{v.points - 1}); rule {rule.id} "
                + ("has fixed points" if rule.points.fixed is not None else "allows that"),
                field="new_points",
            )
        session.execute(
            update(violations)
            .where(violations.c.id == v.id)
            .values(points=new_points, status="reduced")
        )
    ids = {s.id: s for s in v.sanctions if s.cause == "rule"}
    for sanction_id in lift:
        if sanction_id not in ids:
            raise ValidationFailed(
                f"sanction {sanction_id} is not one of violation {v.id}'s own sanctions (ladder "
                "sanctions follow the points)",
                field="lift",
            )
        _refund_penalty(session, clock, ids[sanction_id], v.id)
        row = session.execute(select(sanctions).where(sanctions.c.id == sanction_id)).one()
        if row.status == "active":
            _end(session, clock, row, "reversed", f"appeal {appeal_id} reduced the decision")
        else:
            session.execute(
                update(sanctions)
                .where(sanctions.c.id == sanction_id)
                .values(status="reversed", end_reason=f"appeal {appeal_id}")
            )
    if new_points is None and lift:
        session.execute(update(violations).where(violations.c.id == v.id).values(status="reduced"))


def backtest(session: Session, draft: model.Rulebook) -> list[model.Change]:
    """What `draft` would change over every past violation not overturned; reads only."""
    rows = session.execute(
        select(violations).where(violations.c.status != "overturned").order_by(violations.c.id)
    ).all()
    past = [
        model.PastViolation(
            r.id,
            r.subject,
            r.rule_id,
            r.conduct_at,
            r.points,
            tuple(
                s.kind
                for s in session.execute(
                    select(sanctions.c.kind)
                    .where(sanctions.c.violation_id == r.id)
                    .where(sanctions.c.cause == "rule")
                )
            ),
        )
        for r in rows
    ]
    current = rulebooks.in_force_on(draft.effective_from) if _has_book(draft) else draft
    return model.backtest(current, draft, past)


def _has_book(draft: model.Rulebook) -> bool:
    try:
        rulebooks.in_force_on(draft.effective_from)
    except Conflict:
        return False
    return True
