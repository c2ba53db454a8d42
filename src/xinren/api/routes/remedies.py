"""HTTP routes under /v1/remedies: the guarantee fund and recovery claims."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

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
from xinren.api.types import Amount as PositiveAmount
from xinren.remedies import service as remedies

router = Router(prefix="/v1/remedies", tags=["remedies"])


class TopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveAmount
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "CNY"


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str


@router.get("/fund")
def fund(session: SessionDep, principal: StaffDep) -> dict[str, int]:
    """The guarantee fund now: balance, paid first, recovered, written off, still owed."""
    return remedies.fund_position(session)


@router.post("/fund/top-ups")
def top_up(
    body: TopUpIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("platform"))],
) -> dict[str, int]:
    remedies.top_up_fund(session, clock, key, body.amount, body.currency)
    return remedies.fund_position(session)


@router.get("/claims")
def claims(
    session: SessionDep, principal: PrincipalDep, debtor: str | None = None
) -> list[dict[str, Any]]:
    """Staff see every claim; a party sees the claims against it."""
    if not is_staff(principal):
        debtor = party_of(principal)
    return remedies.list_claims(session, debtor=debtor)


@router.post("/claims/{claim_id}/write-off")
def write_off(
    claim_id: int, body: WriteOffIn, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    claim = remedies.write_off(
        session, clock, claim_id, reason=body.reason, decided_by=principal.actor
    )
    return claim
