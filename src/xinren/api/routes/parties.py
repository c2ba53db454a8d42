"""/v1/parties: register traders, submit their information, verify them, look them up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from xinren.api.deps import (
    AfterDep,
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StaffDep,
    acting_for,
    is_staff,
    next_cursor,
)
from xinren.api.threads import Router
from xinren.errors import Forbidden, NotFound
from xinren.parties import service
from xinren.parties.model import Status, TraderInfo

router = Router(prefix="/v1/parties", tags=["parties"])


class TraderInfoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    legal_name: str
    address: str
    registration_number: str
    payment_account: str
    contact_email: str | None = None
    contact_phone: str | None = None
    self_certified: bool = False

    def info(self) -> TraderInfo:
        return TraderInfo(**self.model_dump())


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ref: str
    display_name: str
    info: TraderInfoIn | None = None
    accreditation: Annotated[str, Field(max_length=100)] | None = None
    affiliated_with: str | None = None
    epcis_id: Annotated[str, Field(max_length=200)] | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    reason: str


def _shown(principal: PrincipalDep, party: service.Party) -> dict[str, Any]:
    """Anyone sees a trader's public identity; staff and the trader itself see everything."""
    return party.full() if is_staff(principal) or principal.subject == party.ref else party.public()


@router.post("", status_code=status.HTTP_201_CREATED)
def register(
    body: PartyIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep, response: Response
) -> dict[str, Any]:
    if principal.role not in ("admin", "platform", "reviewer"):
        raise Forbidden("parties are registered by the platform back end or a reviewer")
    existed = _exists(session, body.ref)
    party = service.register(
        session,
        clock,
        body.ref,
        display_name=body.display_name,
        info=body.info.info() if body.info else None,
        accreditation=body.accreditation,
        affiliated_with=body.affiliated_with,
        epcis_id=body.epcis_id,
    )
    if existed:
        response.status_code = status.HTTP_200_OK
    return party.full()


def _exists(session: SessionDep, ref: str) -> bool:
    try:
        service.get(session, ref)
    except NotFound:
        return False
    return True


@router.get("")
def list_parties(
    session: SessionDep,
    principal: StaffDep,
    after: AfterDep,
    kind: str | None = None,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    found = service.list_parties(session, kind=kind, status=status_, after=after, limit=limit)
    return {
        "items": [p.full() for p in found],
        "next_cursor": next_cursor([p.id for p in found], limit),
    }


@router.get("/{ref}")
def get_party(ref: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _shown(principal, service.get(session, ref))


@router.put("/{ref}/trader-info")
def submit_info(
    ref: str,
    body: TraderInfoIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    acting_for(principal, ref, "submit trader information")
    party = service.submit_info(
        session, clock, key, ref, body.info(), actor=principal.subject or principal.role
    )
    return party.full()


@router.post("/{ref}/decisions")
def decide(
    ref: str,
    body: DecisionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    party = service.decide(
        session,
        clock,
        key,
        ref,
        body.status,
        reason=body.reason,
        decided_by=principal.actor,
    )
    return party.full()


@router.get("/{ref}/history")
def history(ref: str, session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    if not is_staff(principal) and principal.subject != ref:
        raise Forbidden("a party's verification history is for staff and the party itself")
    return service.history(session, ref)
