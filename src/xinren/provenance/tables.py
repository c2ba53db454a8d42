"""Custody events and their error declarations, recalls and their remedy tasks, liability
assessments (documents are in xinren.documents.tables)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from xinren.schema import Id, UtcDateTime, metadata

provenance_events = Table(
    "provenance_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("event_type", String(30), nullable=False),
    Column("action", String(10), nullable=True),
    Column("biz_step", String(200), nullable=True),
    Column("event_time", UtcDateTime, nullable=False),
    Column("body", JSON, nullable=False),  # the event as received, without errorDeclaration
    Column("recorded_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

provenance_event_epcs = Table(
    "provenance_event_epcs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event", Id, ForeignKey("provenance_events.id"), nullable=False),
    Column("epc", String(200), nullable=False),
    Column("role", String(10), nullable=False),  # object | input | output | parent | child
    Index("ix_provenance_event_epcs_epc", "epc", "event"),
)

provenance_error_declarations = Table(
    "provenance_error_declarations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", String(200), ForeignKey("provenance_events.event_id"), unique=True),
    Column("declaration_time", UtcDateTime, nullable=False),
    Column("body", JSON, nullable=False),  # the errorDeclaration object as received
    Column("recorded_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

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
