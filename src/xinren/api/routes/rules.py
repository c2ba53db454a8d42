"""/v1/rules (published, readable by anyone), /v1/violations and /v1/appeals.

Reviewers decide violations and appeals; the platform back end may record automated
detections; a merchant sees its own violations, their statements of reasons, and appeals them.
"""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import Body, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from xinren.api.deps import (
    AfterDep,
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    is_staff,
    next_cursor,
)
from xinren.api.threads import Router
from xinren.api.types import AmountOrZero
from xinren.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinren.rules import model, rulebooks
from xinren.rules import service as rules
from xinren.rules.model import Automation, Requested, SanctionKind, Source, ViolationRecord

router = Router(tags=["rules"])


def _rule(rule: model.Rule) -> dict[str, Any]:
    p = rule.points
    return {
        "id": rule.id,
        "title": {"zh": rule.title_zh, "en": rule.title_en},
        "description": rule.description,
        "category": rule.category,
        "severity": rule.severity.value,
        "points": {"fixed": p.fixed}
        if p.fixed is not None
        else {
            "min": p.low,
            "max": p.high,
            "aggravating": list(p.aggravating),
            "mitigating": list(p.mitigating),
        },
        "evidence": [sorted(g) for g in rule.evidence],
        "sanctions": sorted(s.value for s in rule.sanctions),
        "penalty": rule.penalty,
    }


def book_json(book: model.Rulebook) -> dict[str, Any]:
    return {
        "version": book.version,
        "status": book.status,
        "effective_from": book.effective_from.isoformat(),
        "effective_to": book.effective_to.isoformat() if book.effective_to else None,
        "points_expiry": book.expiry,
        "ladder": {
            s.value: [
                {"points": t.points, "sanctions": [k.value for k in t.sanctions], "days": t.days}
                for t in steps
            ]
            for s, steps in book.ladder.items()
        },
        "appeal_window_days": book.appeal_window.days,
        "rules": [_rule(r) for r in book.rules.values()],
    }


@router.get("/v1/rules")
def list_rulebooks() -> list[dict[str, Any]]:
    """Every published version, newest first: no key needed, the rules are public."""
    return [book_json(b) for b in reversed(rulebooks.published())]


@router.get("/v1/rules/{version}")
def get_rulebook(version: str) -> dict[str, Any]:
    book = rulebooks.version(version)
    if book.status != "published":
        raise NotFound(f"no published rulebook {version}", field="version")
    return book_json(book)


class SanctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: SanctionKind
    days: Annotated[StrictInt, Field(ge=1, le=365)] | None = None
    amount: AmountOrZero | None = None
    target: Annotated[str, Field(max_length=100)] | None = None


class ViolationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: str
    rule_id: str
    conduct_at: AwareDatetime
    facts: str
    evidence: list[str]
    source: Source
    source_identity: Annotated[str, Field(max_length=200)] | None = None
    points: Annotated[StrictInt, Field(ge=0, le=1000)] | None = None
    sanctions: list[SanctionIn] = []
    automated_detection: bool = False
    automated_decision: Automation = Automation.NOT_AUTOMATED


def violation_json(v: ViolationRecord) -> dict[str, Any]:
    return {
        "id": v.id,
        "subject": v.subject,
        "rule": v.rule_id,
        "rule_version": v.rule_version,
        "category": v.category,
        "severity": v.severity.value,
        "points": v.points,
        "conduct_at": v.conduct_at.isoformat(),
        "decided_at": v.decided_at.isoformat(),
        "facts": v.facts,
        "evidence": list(v.evidence),
        "source": v.source.value,
        "automated_detection": v.automated_detection,
        "automated_decision": v.automated_decision.value,
        "decided_by": v.decided_by,
        "status": v.status,
        "sanctions": [
            {
                "id": s.id,
                "kind": s.kind.value,
                "target": s.target,
                "cause": s.cause,
                "ladder": s.ladder,
                "amount": s.amount,
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat() if s.ends_at else None,
                "status": s.status,
            }
            for s in v.sanctions
        ],
    }


@router.post("/v1/violations", status_code=status.HTTP_201_CREATED)
def decide_violation(
    body: ViolationIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """Reviewers decide; the platform back end may record automated detections only."""
    if principal.role == "platform":
        if body.automated_decision is Automation.NOT_AUTOMATED:
            raise Forbidden("the platform back end records automated decisions only")
    elif principal.role not in ("admin", "reviewer"):
        raise Forbidden("violations are decided by reviewers")
    elif principal.role == "reviewer" and principal.subject is None:
        raise Forbidden("a reviewer key must name its person: create it with --party")
    v = rules.decide(
        session,
        clock,
        key,
        subject=body.subject,
        rule_id=body.rule_id,
        conduct_at=body.conduct_at,
        facts=body.facts,
        evidence=body.evidence,
        source=body.source,
        decided_by=principal.actor,
        requested=[Requested(s.kind, s.days, s.amount, s.target) for s in body.sanctions],
        points_given=body.points,
        automated_detection=body.automated_detection,
        automated_decision=body.automated_decision,
        source_identity=body.source_identity,
    )
    return violation_json(v)


def _visible(principal: PrincipalDep, v: ViolationRecord) -> ViolationRecord:
    if not is_staff(principal) and principal.subject != v.subject:
        raise NotFound(f"no violation {v.id}", field="violation_id")
    return v


@router.get("/v1/violations")
def list_violations(
    session: SessionDep,
    principal: PrincipalDep,
    after: AfterDep,
    subject: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    if not is_staff(principal):
        if subject not in (None, principal.subject) or principal.subject is None:
            raise Forbidden("a party sees its own violations only")
        subject = principal.subject
    found = rules.list_violations(session, subject=subject, after=after, limit=limit)
    return {
        "items": [violation_json(v) for v in found],
        "next_cursor": next_cursor([v.id for v in found], limit),
    }


@router.get("/v1/violations/{violation_id}")
def get_violation(
    violation_id: int,
    session: SessionDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    v = _visible(principal, rules.get_violation(session, violation_id))
    return violation_json(v) | {"points_now": rules.points(session, v.subject, v.decided_at)}


@router.get("/v1/violations/{violation_id}/statement")
def statement_of_reasons(
    violation_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    lang: str = "en",
) -> dict[str, Any]:
    """The DSA statement of reasons and the plain-language letter to the merchant."""
    from xinren.rules import letter, statement

    v = _visible(principal, rules.get_violation(session, violation_id))
    book = rulebooks.version(v.rule_version)
    rule = book.rule(v.rule_id)
    totals = rules.points(session, v.subject, v.decided_at)
    try:
        dsa: dict[str, Any] | None = statement.statement(v, rule, book)
        note = None
    except Conflict as err:  # points only, or every sanction lifted: nothing to report to the DSA
        dsa, note = None, err.detail
    return {
        "dsa": dsa,
        "dsa_note": note,
        "text": letter.plain_text(v, rule, book, lang, totals=totals),
    }


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grounds: str


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str
    reasons: str
    new_points: Annotated[StrictInt, Field(ge=0, le=1000)] | None = None
    lift: list[Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]] = []


@router.post("/v1/violations/{violation_id}/appeals", status_code=status.HTTP_201_CREATED)
def file_appeal(
    violation_id: int,
    body: AppealIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """Free of charge; only the sanctioned party appeals its own decision."""
    if principal.subject is None:
        raise Forbidden("appeals are filed by the sanctioned party's own key")
    appeal = rules.file_appeal(
        session, clock, key, violation_id, appellant=principal.subject, grounds=body.grounds
    )
    return appeal


@router.get("/v1/appeals/{appeal_id}")
def get_appeal(appeal_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    appeal = rules.get_appeal(session, appeal_id)
    if not is_staff(principal) and principal.subject != appeal["appellant"]:
        raise NotFound(f"no appeal {appeal_id}", field="appeal_id")
    return appeal


@router.post("/v1/appeals/{appeal_id}/decision")
def decide_appeal(
    appeal_id: int,
    body: AppealDecisionIn,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    decided = rules.decide_appeal(
        session,
        clock,
        appeal_id,
        outcome=body.outcome,
        reasons=body.reasons,
        reviewer=principal.actor,
        new_points=body.new_points,
        lift=body.lift,
    )
    return decided


@router.post("/v1/rules/backtest")
def backtest(
    session: SessionDep,
    principal: ReviewerDep,
    draft: Annotated[str, Body(media_type="application/yaml")],
) -> dict[str, Any]:
    """Run a draft rulebook (the YAML as the body) over past violations; changes nothing."""
    try:
        book = model.parse_rulebook(yaml.safe_load(draft))
    except (ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError) as err:
        raise ValidationFailed(f"the draft is not a valid rulebook: {err}", field="body") from None
    changes = rules.backtest(session, book)
    return {
        "draft": book.version,
        "changes": [
            {"subject": c.subject, "sanction": c.sanction, "change": c.change, "why": c.why}
            for c in changes
        ],
    }
