"""Complaints (cases) and the evidence each side puts in them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("buyer", String(100), nullable=False, index=True),
    Column("merchant", String(100), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("statement", Text, nullable=False),
    Column("state", String(20), nullable=False),
    # how much the buyer's word counts (1 = fully), from its abuse score when filed
    Column("buyer_weight", Float, nullable=False, server_default=text("1.0")),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("merchant_due_at", UtcDateTime, nullable=False),
    Column("reviewer", String(100), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(100), nullable=True),
    Column("decision_key", String(128), nullable=True, unique=True),
    Column("outcome", String(20), nullable=True),
    Column("finding", String(30), nullable=True),
    Column("refund", BigInteger, nullable=True),
    Column("compensation", BigInteger, nullable=True),
    Column("payer", String(100), nullable=True),
    Column("recover_from", JSON, nullable=True),  # whom the payer recovers from
    Column("reasons", Text, nullable=True),
    Column("relied_on", JSON, nullable=True),
    Column("by_default", Boolean, nullable=False),
    Column("rule", String(40), nullable=True),  # the policy rule a decision rests on
    Column("proposed_rule", String(20), nullable=True),  # proposed to enforcement
    Column("appeal_by", String(100), nullable=True),
    Column("appeal_grounds", Text, nullable=True),
    Column("appeal_outcome", String(20), nullable=True),
    Column("appeal_reasons", Text, nullable=True),
    Column("final_at", UtcDateTime, nullable=True),
    Index("ix_cases_state", "state", "merchant_due_at"),
)

case_evidence = Table(
    "case_evidence",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False, index=True),
    Column("party", String(100), nullable=False),
    Column("ref", String(100), nullable=False),  # "document:<sha256>", "order:<id>", ...
    Column("note", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

investigations = Table(
    "investigations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, unique=True),
    Column("opened_by", String(60), nullable=False),  # e.g. "case:12"
    Column("finding", String(30), nullable=False),
    Column("status", String(12), nullable=False),  # open | recalled | closed
    Column("recall_id", Id, ForeignKey("recalls.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)
