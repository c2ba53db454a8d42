"""/v1/notices and /v1/reporters: anyone reports, reviewers decide, reporters see their own.

A notice's reporter is the calling key's party (or the key itself), never a body field, so
nobody can file in another's name or spend another's standing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from pydantic import BaseModel, ConfigDict

from xinren.access.service import Principal
from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    WriterDep,
    is_staff,
    require,
)
from xinren.api.idempotency import once
from xinren.api.threads import Router
from xinren.detect import buyers
from xinren.errors import Forbidden
from xinren.rules import notices as service

router = Router(prefix="/v1/notices", tags=["notices"])
reporters_router = Router(prefix="/v1/reporters", tags=["notices"])


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str
    category: str
    text: str


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str
    reason: str = ""  # the service says what is missing, naming the field
    violation_id: int | None = None


class IdentifierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str  # device | address | payment_account
    value: str


class TrustedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    trusted: bool


@router.post("", status_code=status.HTTP_201_CREATED)
def file_notice(
    body: NoticeIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: WriterDep,
    response: Response,
) -> dict[str, Any]:
    """Anyone but an auditor reports (auditors only read)."""
    notice = service.file_notice(
        session,
        clock,
        key,
        reporter=principal.actor,
        target=body.target,
        category=body.category,
        text=body.text,
    )
    if notice.replayed:
        response.status_code = status.HTTP_200_OK
    return notice.as_dict()


@router.get("/queue")
def queue(
    session: SessionDep,
    principal: ReviewerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return {"items": [n.as_dict() for n in service.queue(session, limit=limit)]}


@router.post("/{notice_id}/decision")
def decide(
    notice_id: int,
    body: DecisionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    """Kept under the caller's key as well, so the key cannot decide a second notice."""

    def run() -> dict[str, Any]:
        return service.decide(
            session,
            clock,
            key,
            notice_id,
            outcome=body.outcome,
            reason=body.reason,
            decided_by=principal.actor,
            violation_id=body.violation_id,
        ).as_dict()

    request = {"notice": notice_id, **body.model_dump()}
    result, _ = once(session, clock, principal, key, "notice.decide", request, run)
    return result


@router.get("/{notice_id}")
def get_notice(notice_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    notice = service.get(session, notice_id)
    if not is_staff(principal) and principal.actor != notice.reporter:
        raise Forbidden("a notice is for its reporter and platform staff")
    return notice.as_dict()


@reporters_router.get("/{ref}")
def reporter_record(
    ref: str, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> dict[str, Any]:
    if not is_staff(principal) and principal.actor != ref:
        raise Forbidden("a reporter's record is for staff and the party itself")
    return service.record(session, clock, ref).as_dict()


@reporters_router.put("/{ref}/trusted")
def set_trusted(
    ref: str, body: TrustedIn, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    found = service.set_trusted(session, clock, ref, body.trusted, decided_by=principal.actor)
    return found.as_dict()


@reporters_router.post("/{ref}/identifiers")
def add_identifier(
    ref: str,
    body: IdentifierIn,
    session: SessionDep,
    clock: ClockDep,
    principal: Annotated[Principal, Depends(require("platform"))],
) -> dict[str, Any]:
    """The platform's checkout and account back ends record the devices, addresses and payment
    accounts an account uses (kept as digests); accounts sharing them with flagged accounts
    weigh less when they complain or report."""
    service.check_ref(ref)
    added = buyers.add_identifier(session, clock, ref, body.kind, body.value)
    return {
        "account": ref,
        "kind": body.kind,
        "added": added,
        "abuse": buyers.explain(session, ref),
    }
