"""/v1/cases (complaints) and /v1/remedies (the guarantee fund and recovery claims).

Buyers file and see their own cases; merchants answer their own; reviewers assign and decide;
staff read the metrics, the fund and the claims.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from xinren.access.service import Principal
from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StaffDep,
    is_staff,
    require,
)
from xinren.api.types import Amount as PositiveAmount
from xinren.api.types import AmountOrZero
from xinren.cases import service as cases
from xinren.cases.model import Outcome
from xinren.errors import Forbidden, NotFound
from xinren.remedies import service as remedies

router = APIRouter(tags=["cases"])
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


def _party(principal: Principal) -> str:
    if principal.subject is None:
        raise Forbidden("this key acts for no party; create it with --party")
    return principal.subject


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
        buyer=_party(principal),
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
        return cases.list_cases(session, buyer=_party(principal))
    if principal.role == "merchant":
        return cases.list_cases(session, merchant=_party(principal))
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
        merchant=_party(principal),
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
        session, clock, case_id, party=_party(principal), ref=body.ref, note=body.note
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
    case = cases.appeal(session, clock, case_id, by=_party(principal), grounds=body.grounds)
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


class TopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveAmount
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "CNY"


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


@router.get("/v1/remedies/fund")
def fund(session: SessionDep, principal: StaffDep) -> dict[str, int]:
    """The guarantee fund now: balance, paid first, recovered, written off, still owed."""
    return remedies.fund_position(session)


@router.post("/v1/remedies/fund/top-ups")
def top_up(
    body: TopUpIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("platform"))],
) -> dict[str, int]:
    remedies.top_up_fund(session, clock, key, body.amount, body.currency)
    return remedies.fund_position(session)


@router.get("/v1/remedies/claims")
def claims(
    session: SessionDep, principal: PrincipalDep, debtor: str | None = None
) -> list[dict[str, Any]]:
    """Staff see every claim; a party sees the claims against it."""
    if not is_staff(principal):
        debtor = _party(principal)
    return remedies.list_claims(session, debtor=debtor)


@router.post("/v1/remedies/claims/{claim_id}/write-off")
def write_off(
    claim_id: int, body: WriteOffIn, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    claim = remedies.write_off(
        session, clock, claim_id, reason=body.reason, decided_by=principal.actor
    )
    return claim


@router.post("/v1/provenance/recalls/{recall_id}/execution")
def execute_recall(
    recall_id: int, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    """Pay the recall's pending remedy tasks (a retry pays nobody twice)."""
    paid = remedies.execute_recall(session, clock, recall_id, decided_by=principal.actor)
    return {
        "recall": recall_id,
        "paid": [
            {
                "order": r.order_id,
                "buyer": r.buyer,
                "refund": r.refund,
                "compensation": r.compensation,
                "payer": r.payer,
                "fund_paid": r.fund_paid,
            }
            for r in paid
        ],
    }
