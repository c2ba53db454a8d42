"""Reading violations and their sanctions as records, and a subject's counted points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.errors import NotFound
from xinren.rules import model, rulebooks
from xinren.rules.model import (
    Automation,
    SanctionKind,
    SanctionRecord,
    Scored,
    Severity,
    Source,
    ViolationRecord,
)
from xinren.rules.tables import sanctions, violations


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
    counted = scored(session, subject)
    return {s.value: model.total(book, counted, s, day.date()) for s in Severity}


def scored(session: Session, subject: str, exclude: int | None = None) -> list[Scored]:
    rows = session.execute(
        select(violations.c.id, violations.c.conduct_at, violations.c.severity, violations.c.points)
        .where(violations.c.subject == subject)
        .where(violations.c.status != "overturned")
    )
    return [
        Scored(r.id, r.conduct_at, Severity(r.severity), r.points) for r in rows if r.id != exclude
    ]
