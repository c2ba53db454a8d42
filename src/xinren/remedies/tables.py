"""Remedies paid to buyers (one row per decision, with the payments that met it) and the
recovery claims that follow a payment made on someone else's behalf."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from xinren.schema import Id, UtcDateTime, metadata

remedies = Table(
    "remedies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("buyer", String(100), nullable=False),
    Column("merchant", String(100), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("refund", BigInteger, nullable=False),
    Column("compensation", BigInteger, nullable=False),
    Column("payer", String(100), nullable=False),  # who pays first: a party, or "platform"
    Column("basis", Text, nullable=False),
    Column("origin", String(40), nullable=False),  # "case:12", "recall_task:7"
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("refund >= 0 AND compensation >= 0", name="amounts"),
)

remedy_payments = Table(
    "remedy_payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("remedy_id", Id, ForeignKey("remedies.id"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),  # refund | compensation
    Column("source", String(20), nullable=False),  # escrow | available | deposit | guarantee_fund
    Column("paid_by", String(100), nullable=False),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

recovery_claims = Table(
    "recovery_claims",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("creditor", String(100), nullable=False),  # "platform" (the fund) or a party
    Column("debtor", String(100), nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("recovered", BigInteger, nullable=False),
    Column("written_off", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),  # open | settled | written_off
    Column("origin", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("write_off_reason", Text, nullable=True),
    Column("written_off_by", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "amount > 0 AND recovered >= 0 AND written_off >= 0 AND recovered + written_off <= amount",
        name="identity",
    ),
    Index("ix_recovery_claims_status", "status", "debtor"),
)


fund_movements = Table(
    "fund_movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),  # + into the fund, - out of it
    # top_up | paid_first | recovered | opening (the balance at migration 0017)
    Column("kind", String(20), nullable=False),
    Column("ref", String(100), nullable=False),  # what for: "case:7", "claim:2", "top-up"
    Column("ledger_key", String(255), nullable=False, unique=True),  # the ledger move recorded
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    Index("ix_fund_movements_currency", "currency", "id"),
)
