"""The outbox table the integrating platform reads through `GET /v1/events?after=`."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table

from xinren.schema import Id, UtcDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_outbox_subject", "subject", "id"),
)
