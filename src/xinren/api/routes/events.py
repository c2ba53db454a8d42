"""GET /v1/events?after=<cursor>: the outbox in commit order, for the integrating platform."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel

from xinren.access.service import Principal
from xinren.api.deps import SessionDep, require
from xinren.api.threads import Router
from xinren.events import service

router = Router(prefix="/v1/events", tags=["events"])

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger cursor names no event and is refused as one


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
    after: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_ID,
            description="the id of the last event you received (a page's next_cursor); 0 to start",
        ),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Events committed after the one named by `after`, each exactly once, in commit order.

    Ids need not ascend (on PostgreSQL a lower id can commit later and comes later); keep
    `next_cursor` and pass it back as `after`. An event shows once every transaction older than
    it has ended, so a long-running transaction on the database server delays the feed.
    Reads only: the route never commits.
    """
    found = service.feed(session, after=after, limit=limit)
    items = [
        EventOut(
            id=e.id, topic=e.topic, subject=e.subject, payload=e.payload, created_at=e.created_at
        )
        for e in found
    ]
    return EventPage(items=items, next_cursor=str(found[-1].id if found else after))
