"""How far the sealer is behind the writers: entries not sealed yet, and how long the oldest of
them has waited (its transfer's time). Zero and None mean the chain is caught up; a growing age
means the sealer does not keep up with the write rate (or is not running)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinren.clock import Clock, SystemClock
from xinren.ledger.journal.lines import instant
from xinren.ledger.tables import entries, transfers


class Lag(NamedTuple):
    unsealed: int  # journal entries not in any block yet
    oldest_age: timedelta | None  # how long the oldest of them has waited; None: none waits

    @property
    def seconds(self) -> float | None:
        return None if self.oldest_age is None else self.oldest_age.total_seconds()


def lag_of(unsealed: int, oldest_at: object, now: datetime) -> Lag:
    """The lag from what the journal holds (pure). An oldest time that is not a time (a
    tampered row, or an entry whose transfer is missing) or lies ahead of `now` (clock skew)
    counts as no wait, so the figure never goes negative or raises."""
    if unsealed <= 0:
        return Lag(0, None)
    if not isinstance(oldest_at, datetime):
        return Lag(unsealed, timedelta(0))
    if oldest_at.tzinfo is None:
        oldest_at = oldest_at.replace(tzinfo=now.tzinfo)
    return Lag(unsealed, max(now - oldest_at, timedelta(0)))


def lag(session: Session, clock: Clock | None = None) -> Lag:
    """The sealer's lag now: two index reads (the unsealed entries' partial index and the
    oldest one's transfer), whatever the journal's size."""
    unsealed = session.execute(select(func.count()).where(entries.c.seal_id.is_(None))).scalar_one()
    oldest_at = None
    if unsealed:
        first = (
            select(entries.c.transfer_id)
            .where(entries.c.seal_id.is_(None))
            .order_by(entries.c.id)
            .limit(1)
            .scalar_subquery()
        )
        oldest_at = session.execute(
            select(instant(transfers.c.created_at)).where(transfers.c.id == first)
        ).scalar()
    return lag_of(int(unsealed), oldest_at, (clock or SystemClock()).now())
