"""Enforcement records. Decisions are never deleted: an overturned violation keeps its row with
status 'overturned', and a lifted sanction keeps its row with when and why it was lifted."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

violations = Table(
    "violations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("subject", String(100), nullable=False),
    Column("rule_id", String(20), nullable=False),
    Column("rule_version", String(20), nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("points", Integer, nullable=False),
    Column("conduct_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("facts", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("source", String(30), nullable=False),
    Column("source_identity", String(200), nullable=True),
    Column("automated_detection", Boolean, nullable=False),
    Column("automated_decision", String(20), nullable=False),
    Column("decided_by", String(100), nullable=False),
    Column("status", String(12), nullable=False),  # active | reduced | overturned
    Column("request", JSON, nullable=False),  # what was asked, for idempotent replays
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("points >= 0", name="points"),
    Index("ix_violations_subject", "subject", "conduct_at"),
)

sanctions = Table(
    "sanctions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("violation_id", Id, ForeignKey("violations.id"), nullable=False, index=True),
    Column("subject", String(100), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("target", String(100), nullable=False),  # the merchant, or e.g. "listing:12"
    Column("cause", String(10), nullable=False),  # rule | ladder
    Column("ladder", String(40), nullable=True),  # e.g. "serious 24" for a threshold sanction
    Column("amount", BigInteger, nullable=True),
    Column("hold_id", BigInteger, nullable=True),  # settlement freeze: the ledger hold
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=True),  # None: permanent (clearance)
    Column("status", String(10), nullable=False),  # active | ended | reversed
    Column("ended_at", UtcDateTime, nullable=True),
    Column("end_reason", String(200), nullable=True),
    Index("ix_sanctions_target_status", "target", "status"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("violation_id", Id, ForeignKey("violations.id"), nullable=False, index=True),
    Column("appellant", String(100), nullable=False),
    Column("grounds", Text, nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(12), nullable=False),  # open | upheld | reduced | overturned
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("reasons", Text, nullable=True),
    Column("new_points", Integer, nullable=True),
)

notices = Table(
    "notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("reporter", String(100), nullable=False, index=True),
    Column("target", String(100), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("text", Text, nullable=False),
    Column("trusted", Boolean, nullable=False),
    # how much the reporter's word counts (1 = fully), from its abuse score when filed
    Column("weight", Float, nullable=False, server_default=text("1.0")),
    Column("status", String(24), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("reason", Text, nullable=True),
    Column("violation_id", Id, ForeignKey("violations.id"), nullable=True),
    # the idempotency key of the decision: a retry with it replays the decision
    Column("decision_key", String(255), nullable=True),
    Index("ix_notices_queue", "status", "trusted", "id"),
)

reporters = Table(
    "reporters",
    metadata,
    Column("ref", String(100), primary_key=True),
    Column("trusted", Boolean, nullable=False),
    Column("warned_at", UtcDateTime, nullable=True),
    Column("suspended_until", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)
