"""Recalls of a batch and the remedy task each buyer of it is owed (same tables as before
they moved here from provenance: no migration)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
)

from xinren.schema import Id, UtcDateTime, metadata

recalls = Table(
    "recalls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("finding", String(20), nullable=False),
    Column("reason", String(1000), nullable=False),
    Column("evidence", JSON, nullable=False),  # document sha256s
    Column("decided_by", String(100), nullable=False),
    Column("policy_version", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

remedy_tasks = Table(
    "remedy_tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("recall_id", Id, ForeignKey("recalls.id"), nullable=False),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("buyer", String(100), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("refund", BigInteger, nullable=False),
    Column("compensation", BigInteger, nullable=False),
    Column("basis", String(500), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("recall_id", "order_id", name="uq_remedy_tasks_recall_order"),
    CheckConstraint("refund >= 0 AND compensation >= 0", name="amounts"),
)
