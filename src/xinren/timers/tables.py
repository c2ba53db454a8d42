"""The timer table shared by every context that schedules work for later."""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, String, Table, Text

from xinren.schema import Id, UtcDateTime, metadata

timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("payload", JSON, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    CheckConstraint("status IN ('pending', 'done', 'cancelled', 'failed')", name="status"),
    Index("ix_timers_due", "status", "due_at"),
    Index("ix_timers_subject", "kind", "subject"),
)
