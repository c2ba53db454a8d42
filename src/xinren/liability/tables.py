"""Liability assessments: each resolution kept with the policy version it applied (same table
as before it moved here from provenance: no migration)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    String,
    Table,
)

from xinren.schema import Id, UtcDateTime, metadata

liability_assessments = Table(
    "liability_assessments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("finding", String(20), nullable=False),
    Column("rule", String(60), nullable=False),
    Column("policy_version", String(20), nullable=False),
    Column("result", JSON, nullable=False),
    Column("assessed_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
