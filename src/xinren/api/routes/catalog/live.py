"""/v1/catalog live sessions and the claims made on stream."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
    acting_for,
)
from xinren.api.routes.catalog.bodies import ClaimIn, LiveSessionIn
from xinren.api.routes.catalog.common import as_json, created
from xinren.api.threads import Router
from xinren.catalog import service
from xinren.errors import Forbidden

router = Router()


@router.post("/live-sessions", status_code=status.HTTP_201_CREATED)
def create_live_session(
    body: LiveSessionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.merchant, "schedule a live session")
    return created(
        session,
        clock,
        principal,
        key,
        "POST live-sessions",
        body,
        response,
        lambda: service.create_live_session(session, clock, **body.model_dump()),
    )


@router.post("/live-sessions/{session_id}/claims", status_code=status.HTTP_201_CREATED)
def add_claim(
    session_id: int,
    body: ClaimIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    """Claims are transcribed from the stream by the platform or a reviewer, not by the host."""
    if principal.role not in ("admin", "platform", "reviewer"):
        raise Forbidden("claims are recorded by the platform or a reviewer")
    return created(
        session,
        clock,
        principal,
        key,
        f"POST live-sessions/{session_id}/claims",
        body,
        response,
        lambda: service.add_claim(session, clock, session_id=session_id, **body.model_dump()),
    )


@router.get("/live-sessions/{session_id}")
def get_live_session(
    session_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    live = service.get_live_session(session, session_id)
    return as_json(live) | {"claims": [as_json(c) for c in service.claims_of(session, session_id)]}
