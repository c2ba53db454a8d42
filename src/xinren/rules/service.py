"""Violation decisions: the rule in force, its evidence, its sanctions and the points ladder.

A decision is refused unless the rule was in force when the conduct happened, the evidence the
rule requires is on record, and every sanction asked for is one the rule permits. Everything a
decision does (points, sanctions, ledger movements, listing and merchant status, events) is
written in the caller's one transaction; an overturned appeal reverses all of it.

The use cases live by module and are importable from here: reading (`records`), evidence
(`evidence`), carrying sanctions out (`sanctioning`) and appeals (`appeals`); what each
sanction kind does is `model.plan_sanction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.errors import Conflict, IdempotencyKeyReused, ValidationFailed
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.parties import service as parties
from xinren.parties.model import check_ref
from xinren.rules import model, rulebooks
from xinren.rules.appeals import decide_appeal, file_appeal, get_appeal
from xinren.rules.evidence import evidence_type
from xinren.rules.model import RESTRICTING, Automation, Requested, Rule, Source, ViolationRecord
from xinren.rules.records import get_violation, list_violations, points, scored
from xinren.rules.sanctioning import (
    PENALTIES,
    SANCTION_END,
    _sanction_end,
    apply,
    frozen_account,
    sync_restrictions,
)
from xinren.rules.tables import sanctions, violations

__all__ = [
    "PENALTIES",
    "RESTRICTING",
    "SANCTION_END",
    "_sanction_end",
    "backtest",
    "decide",
    "decide_appeal",
    "evidence_type",
    "file_appeal",
    "frozen_account",
    "get_appeal",
    "get_violation",
    "list_violations",
    "points",
]


@dataclass(frozen=True, slots=True)
class _Checked:
    """A decision request after its checks: what is recorded and applied."""

    source: Source
    automated_decision: Automation
    conduct_at: datetime  # UTC
    book: model.Rulebook
    rule: Rule
    points: int
    sanctions: list[Requested]


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
    done = _replayed(session, key, request)
    if done is not None:
        return done
    c = _check(
        session,
        clock,
        subject=subject,
        rule_id=rule_id,
        conduct_at=conduct_at,
        facts=facts,
        evidence=evidence,
        source=source,
        requested=requested,
        points_given=points_given,
        automated_decision=automated_decision,
    )
    if (
        c.source in (Source.NOTICE, Source.TRUSTED_FLAGGER, Source.COMPLAINT)
        and not source_identity
    ):
        source_identity = None  # the notifier's identity is optional in a statement of reasons
    now = clock.now()
    # the ladder counts what stands on the day of the decision, whatever order decisions came in
    before = model.total(c.book, scored(session, subject), c.rule.severity, now.date())
    counts = model.counting_since(c.book, now.date()) <= c.conduct_at.date()
    row = dict(
        idempotency_key=key,
        subject=subject,
        facts=facts,
        evidence=list(evidence),
        source_identity=source_identity,
        automated_detection=automated_detection,
        decided_by=decided_by,
        request=request,
    )
    violation_id = _insert(session, row, c, now)
    ladder = _sanction(session, clock, violation_id, subject, c, before, counts)
    events.append(
        session,
        clock,
        "violation.decided",
        subject,
        {
            "violation": violation_id,
            "subject": subject,
            "rule": c.rule.id,
            "version": c.book.version,
            "points": c.points,
            "ladder": ladder,
        },
    )
    return get_violation(session, violation_id)


def _replayed(session: Session, key: str, request: dict[str, Any]) -> ViolationRecord | None:
    """The violation this key already recorded, if the request is the same; refused if not."""
    done = session.execute(select(violations).where(violations.c.idempotency_key == key)).first()
    if done is None:
        return None
    if done.request != request:
        raise IdempotencyKeyReused(
            f"idempotency key {key!r} recorded violation {done.id} with other details",
            field="idempotency_key",
        )
    return get_violation(session, done.id)


def _insert(session: Session, row: dict[str, Any], c: _Checked, now: datetime) -> int:
    """Record the violation as checked (the request's own fields in `row`); its id."""
    violation_id: int = session.execute(
        violations.insert().returning(violations.c.id),
        dict(
            row,
            rule_id=c.rule.id,
            rule_version=c.book.version,
            category=c.rule.category,
            severity=c.rule.severity.value,
            points=c.points,
            conduct_at=c.conduct_at,
            decided_at=now,
            source=c.source.value,
            automated_decision=c.automated_decision.value,
            status="active",
            created_at=now,
        ),
    ).scalar_one()
    return violation_id


def _check(
    session: Session,
    clock: Clock,
    *,
    subject: str,
    rule_id: str,
    conduct_at: datetime,
    facts: str,
    evidence: Sequence[str],
    source: Source | str,
    requested: Sequence[Requested],
    points_given: int | None,
    automated_decision: Automation | str,
) -> _Checked:
    """Refuse a decision the rule in force at the conduct does not support."""
    check_ref(subject, "subject")
    parties.get(session, subject)
    try:
        source = Source(source)
        automated_decision = Automation(automated_decision)
    except ValueError as err:
        raise ValidationFailed(str(err), field="source") from None
    if conduct_at.tzinfo is None or conduct_at > clock.now():
        raise ValidationFailed("conduct_at is an aware time, not in the future", field="conduct_at")
    if not facts or not facts.strip() or len(facts) > 4000:
        raise ValidationFailed("facts are required (at most 4,000 characters)", field="facts")
    conduct_at = conduct_at.astimezone(UTC)  # rulebook dates are UTC days, whatever the zone
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
            listing = catalog.get_listing(session, model.listing_id(r.target))
            if listing.merchant != subject:
                raise ValidationFailed(f"{r.target} is not {subject}'s", field="sanctions")
    return _Checked(source, automated_decision, conduct_at, book, rule, points_, chosen)


def _sanction(
    session: Session,
    clock: Clock,
    violation_id: int,
    subject: str,
    c: _Checked,
    before: int,
    counts: bool,
) -> str | None:
    """Apply the decision's own sanctions, then the ladder step its points reach (if any);
    the step's label."""
    for r in c.sanctions:
        apply(session, clock, violation_id, subject, r, cause="rule")
    after = before + (c.points if counts else 0)
    step = model.threshold_reached(c.book, before, after, c.rule.severity)
    label = f"{c.rule.severity.value} {step.points}" if step else None
    if step is not None:
        for kind in step.sanctions:
            apply(
                session,
                clock,
                violation_id,
                subject,
                Requested(kind, step.days),
                cause="ladder",
                ladder=label,
            )
    sync_restrictions(session, clock, subject)
    return label


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
