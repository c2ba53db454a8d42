"""/v1/cases (complaints) and /v1/remedies (the guarantee fund and recovery claims).

Buyers file and see their own cases; merchants answer their own; reviewers assign and decide;
staff read the metrics, the fund and the claims.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, status
from pydantic import BaseModel, ConfigDict, StrictInt

from xinren.access.service import Principal
from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StaffDep,
    is_staff,
    party_of,
    require,
)
from xinren.api.threads import Router
from xinren.api.types import AmountOrZero
from xinren.cases import service as cases
from xinren.cases.model import Outcome
from xinren.errors import Forbidden, NotFound

router = Router(tags=["cases"])
Amount = AmountOrZero


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str
    note: str = ""


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: StrictInt
    kind: str
    statement: str
    evidence: list[EvidenceIn] = []


class ResponseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    statement: str
    evidence: list[EvidenceIn] = []


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    finding: str
    reasons: str
    relied_on: list[str]
    refund: Amount | None = None
    compensation: Amount | None = None


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grounds: str


class AppealDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str
    reasons: str
    extra_compensation: Amount = 0


def _visible(session: SessionDep, principal: PrincipalDep, case_id: int) -> dict[str, Any]:
    case = cases.get_case(session, case_id, staff=is_staff(principal))
    if not is_staff(principal) and principal.subject not in (case["buyer"], case["merchant"]):
        raise NotFound(f"no case {case_id}", field="case_id")
    return case


@router.post("/v1/cases", status_code=status.HTTP_201_CREATED)
def file_case(
    body: CaseIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("buyer"))],
) -> dict[str, Any]:
    case = cases.file_case(
        session,
        clock,
        key,
        order_id=body.order_id,
        buyer=party_of(principal),
        kind=body.kind,
        statement=body.statement,
        evidence=[(e.ref, e.note) for e in body.evidence],
    )
    return case


@router.get("/v1/cases")
def list_cases(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    if is_staff(principal):
        return cases.list_cases(session, staff=True)
    if principal.role == "buyer":
        return cases.list_cases(session, buyer=party_of(principal))
    if principal.role == "merchant":
        return cases.list_cases(session, merchant=party_of(principal))
    raise Forbidden("cases are listed for staff, buyers and merchants")


@router.get("/v1/cases/metrics")
def metrics(session: SessionDep, principal: StaffDep) -> dict[str, object]:
    return cases.metrics(session)


@router.get("/v1/cases/{case_id}")
def get_case(case_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _visible(session, principal, case_id)


@router.post("/v1/cases/{case_id}/response")
def respond(
    case_id: int,
    body: ResponseIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("merchant"))],
) -> dict[str, Any]:
    _visible(session, principal, case_id)
    case = cases.respond(
        session,
        clock,
        case_id,
        merchant=party_of(principal),
        statement=body.statement,
        evidence=[(e.ref, e.note) for e in body.evidence],
    )
    return case


@router.post("/v1/cases/{case_id}/evidence")
def add_evidence(
    case_id: int, body: EvidenceIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> dict[str, Any]:
    _visible(session, principal, case_id)
    case = cases.add_evidence(
        session, clock, case_id, party=party_of(principal), ref=body.ref, note=body.note
    )
    return case


@router.post("/v1/cases/{case_id}/assignment")
def assign(
    case_id: int, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    """A reviewer takes the case (mediation and the decision are then theirs)."""
    case = cases.assign(session, clock, case_id, reviewer=principal.actor)
    return case


@router.post("/v1/cases/{case_id}/decision")
def decide(
    case_id: int,
    body: DecisionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    case = cases.decide(
        session,
        clock,
        key,
        case_id,
        decided_by=principal.actor,
        outcome=body.outcome,
        finding=body.finding,
        reasons=body.reasons,
        relied_on=body.relied_on,
        refund=body.refund,
        compensation=body.compensation,
    )
    return case


@router.post("/v1/cases/{case_id}/appeal")
def appeal(
    case_id: int, body: AppealIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> dict[str, Any]:
    _visible(session, principal, case_id)
    case = cases.appeal(session, clock, case_id, by=party_of(principal), grounds=body.grounds)
    return case


@router.post("/v1/cases/{case_id}/appeal-decision")
def decide_appeal(
    case_id: int,
    body: AppealDecisionIn,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    case = cases.decide_appeal(
        session,
        clock,
        case_id,
        reviewer=principal.actor,
        outcome=body.outcome,
        reasons=body.reasons,
        extra_compensation=body.extra_compensation,
    )
    return case
