"""The outbox table the integrating platform reads through `GET /v1/events?after=`."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, FetchedValue, Index, String, Table

from xinren.schema import Id, UtcDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The writing transaction, for the feed's commit order (events/service.py). PostgreSQL
    # fills it (NOT NULL, default pg_current_xact_id(); 0 for rows older than migration 0015);
    # on SQLite, where id order is commit order, it stays NULL. Never set it by hand.
    Column("txid", BigInteger, FetchedValue(), nullable=True),
    Index("ix_outbox_subject", "subject", "id"),
    Index("ix_outbox_txid", "txid", "id"),
)
