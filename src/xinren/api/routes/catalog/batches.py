"""/v1/catalog batches (registering one is in the package, beside `BatchIn`), their inspection
reports, and brand authorizations."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
    acting_for,
    is_staff,
)
from xinren.api.routes.catalog.bodies import AuthorizationIn, InspectionIn
from xinren.api.routes.catalog.common import as_json, created
from xinren.api.threads import Router
from xinren.catalog import service
from xinren.errors import Forbidden, NotFound

router = Router()


def _may_see_batch(principal: PrincipalDep, batch: service.Batch) -> None:
    if not is_staff(principal) and principal.subject != batch.registered_by:
        raise NotFound(f"no batch {batch.id}", field="batch_id")


@router.get("/batches")
def list_batches(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Staff see every batch; a supplier or manufacturer sees the batches it registered."""
    if is_staff(principal):
        return [as_json(b) for b in service.list_batches(session)]
    if principal.role not in ("supplier", "manufacturer") or principal.subject is None:
        raise Forbidden("batches are listed for staff, suppliers and manufacturers")
    return [as_json(b) for b in service.list_batches(session, party=principal.subject)]


@router.get("/batches/{batch_id}")
def get_batch(batch_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    batch = service.get_batch(session, batch_id)
    _may_see_batch(principal, batch)
    return as_json(batch) | {
        "inspections": [as_json(i) for i in service.inspections_of(session, batch_id)]
    }


@router.post("/batches/{batch_id}/inspections", status_code=status.HTTP_201_CREATED)
def add_inspection(
    batch_id: int,
    body: InspectionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    if principal.role not in ("admin", "platform", "reviewer", "lab"):
        raise Forbidden("inspection reports are attached by the lab, the platform or a reviewer")
    return created(
        session,
        clock,
        principal,
        key,
        f"POST batches/{batch_id}/inspections",
        body,
        response,
        lambda: _lab_checked(session, clock, principal, batch_id, body),
    )


def _lab_checked(
    session: SessionDep, clock: ClockDep, principal: PrincipalDep, batch_id: int, body: InspectionIn
) -> service.Inspection:
    found = service.add_inspection(session, clock, batch_id=batch_id, **body.model_dump())
    if principal.role == "lab" and found.lab != principal.subject:
        raise Forbidden(f"the report was issued by {found.lab}; a lab attaches only its own")
    return found


@router.post("/authorizations", status_code=status.HTTP_201_CREATED)
def authorize(
    body: AuthorizationIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.grantor, "grant a brand authorization")
    return created(
        session,
        clock,
        principal,
        key,
        "POST authorizations",
        body,
        response,
        lambda: service.authorize(session, clock, **body.model_dump()),
    )
