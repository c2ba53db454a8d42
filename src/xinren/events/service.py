"""Append events and read them back in order.

An event is written by the same transaction as the change it reports, so a crash loses both or
neither. Readers page by id (``after``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.events.tables import outbox


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    topic: str
    subject: str
    payload: dict[str, Any]
    created_at: datetime


def append(
    session: Session, clock: Clock, topic: str, subject: str, payload: dict[str, Any]
) -> None:
    session.execute(
        outbox.insert(),
        dict(topic=topic, subject=subject, payload=payload, created_at=clock.now()),
    )


def read(
    session: Session, *, after: int = 0, limit: int = 100, subject: str | None = None
) -> list[Event]:
    q = select(outbox).where(outbox.c.id > after).order_by(outbox.c.id).limit(limit)
    if subject:
        q = q.where(outbox.c.subject == subject)
    return [Event(r.id, r.topic, r.subject, r.payload, r.created_at) for r in session.execute(q)]
