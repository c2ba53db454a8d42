"""GET /v1/events?after=<cursor>: the outbox, in order, for the integrating platform."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from xinren.access.service import Principal
from xinren.api.deps import SessionDep, require
from xinren.events import service

router = APIRouter(prefix="/v1/events", tags=["events"])


class EventOut(BaseModel):
    id: int
    topic: str
    subject: str
    payload: dict[str, Any]
    created_at: AwareDatetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str


@router.get("")
def read_events(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("platform", "auditor"))],
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    found = service.read(session, after=after, limit=limit)
    items = [
        EventOut(
            id=e.id, topic=e.topic, subject=e.subject, payload=e.payload, created_at=e.created_at
        )
        for e in found
    ]
    return EventPage(items=items, next_cursor=str(found[-1].id if found else after))
