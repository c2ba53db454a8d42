"""Appeals (DSA Art. 20): filed by the sanctioned party within the window, decided by a person
who took no part in the decision; an overturned or reduced decision reverses what it no longer
justifies (sanctions, penalties, ladder steps the points no longer reach).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key
from xinren.parties import deposits
from xinren.rules import model, rulebooks
from xinren.rules.model import SanctionKind, SanctionRecord, Scored, Severity, ViolationRecord
from xinren.rules.records import get_violation
from xinren.rules.sanctioning import PENALTIES, end, sync_restrictions
from xinren.rules.tables import appeals, sanctions, violations


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
    sync_restrictions(session, clock, v.subject)
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
            end(session, clock, s, "reversed", reason)


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
            end(session, clock, row, "reversed", reason)
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
            end(session, clock, row, "reversed", f"appeal {appeal_id} reduced the decision")
        else:
            session.execute(
                update(sanctions)
                .where(sanctions.c.id == sanction_id)
                .values(status="reversed", end_reason=f"appeal {appeal_id}")
            )
    if new_points is None and lift:
        session.execute(update(violations).where(violations.c.id == v.id).values(status="reduced"))
