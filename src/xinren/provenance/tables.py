"""Custody events and their error declarations (documents are in xinren.documents.tables,
recalls in xinren.recalls.tables, liability assessments in xinren.liability.tables)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
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
