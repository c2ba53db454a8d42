"""Timer rules: what is due, and when a failed run is tried again."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_ATTEMPTS = 5


class TimerStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    kind: str
    subject: str
    due_at: datetime
    status: TimerStatus
    attempts: int = 0
    payload: dict[str, Any] | None = None


def retry_at(now: datetime, attempts: int) -> datetime | None:
    """When to try a failed timer again (exponential back-off), or None to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=30 * 2 ** (attempts - 1))
