"""Ledger tables. Balances live on the account row; the journal (entries) can rebuild them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("debits_must_not_exceed_credits", Boolean, nullable=False, server_default=text("false")),
    Column("credits_must_not_exceed_debits", Boolean, nullable=False, server_default=text("false")),
    Column("debits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_posted", BigInteger, nullable=False, server_default=text("0")),
    Column("debits_pending", BigInteger, nullable=False, server_default=text("0")),
    Column("credits_pending", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", UtcDateTime, nullable=False),
    # the context whose use cases alone move the account (see ledger.service.reserve)
    Column("owner", String(32), nullable=True),
    # a clearing shard of this account: the sweep moves its balance there (ledger.shards)
    Column(
        "sweep_into",
        Id,
        ForeignKey("ledger_accounts.id", name="fk_ledger_accounts_sweep_into"),
        nullable=True,
    ),
    Index(
        "ix_ledger_accounts_sweep_into",
        "sweep_into",
        "id",
        sqlite_where=text("sweep_into IS NOT NULL"),
        postgresql_where=text("sweep_into IS NOT NULL"),
    ),
    CheckConstraint(
        "debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 "
        "AND credits_pending >= 0",
        name="totals_not_negative",
    ),
    CheckConstraint(
        "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
        name="one_limit",
    ),
    CheckConstraint(
        "NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted",
        name="debits_must_not_exceed_credits",
    ),
    CheckConstraint(
        "NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted",
        name="credits_must_not_exceed_debits",
    ),
)

transfers = Table(
    "ledger_transfers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("payload_hash", String(64), nullable=False),
    Column("reason", String(64), nullable=False, server_default=""),
    Column("refs", JSON, nullable=True),
    Column("hold_id", Id, nullable=True),  # the hold an operation creates or changes
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "kind IN ('transfer', 'hold', 'post', 'void', 'extend', 'pause', 'resume')",
        name="kind",
    ),
)

entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # No foreign keys on the journal's hottest table: they tripled the cost of a batch insert
    # (three trigger calls per entry). The one write path inserts entries in the same statement
    # as their transfer, for accounts it holds locked, and `xinren ledger verify` reports any
    # entry whose transfer, account or seal block does not exist.
    Column("transfer_id", Id, nullable=False, index=True),
    Column("account_id", Id, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("seal_id", Id, nullable=True),
    Index("ix_ledger_entries_account", "account_id", "id"),
    Index(
        "ix_ledger_entries_unsealed",
        "id",
        sqlite_where=text("seal_id IS NULL"),
        postgresql_where=text("seal_id IS NULL"),
    ),
    # verify reads the sealed journal block by block through it (migration 0021)
    Index(
        "ix_ledger_entries_sealed",
        "seal_id",
        "id",
        sqlite_where=text("seal_id IS NOT NULL"),
        postgresql_where=text("seal_id IS NOT NULL"),
    ),
)

holds = Table(
    "ledger_holds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("transfer_id", Id, ForeignKey("ledger_transfers.id"), nullable=False, unique=True),
    Column("debit_account_id", Id, ForeignKey("ledger_accounts.id"), nullable=False),
    Column("credit_account_id", Id, ForeignKey("ledger_accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(8), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("expiry_action", String(4), nullable=True),
    Column("paused_remaining_ms", BigInteger, nullable=True),
    Column("posted_amount", BigInteger, nullable=True),
    Column("resolved_by", Id, ForeignKey("ledger_transfers.id"), nullable=True, unique=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status"),
    CheckConstraint(
        "(status = 'pending') = (resolved_by IS NULL)", name="resolved_exactly_when_not_pending"
    ),
    CheckConstraint(
        "posted_amount IS NULL OR (posted_amount >= 0 AND posted_amount <= amount)",
        name="posted_within_amount",
    ),
    CheckConstraint("expiry_action IS NULL OR expiry_action IN ('post', 'void')", name="action"),
)

seals = Table(
    "ledger_seals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),  # block number, 1, 2, 3, ...
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("entry_count", Integer, nullable=False),
    Column("sealed_at", UtcDateTime, nullable=False),
    # The line format the block was sealed with (ledger.journal): blocks sealed before version 2
    # existed keep 1 and keep verifying with it.
    Column("version", Integer, nullable=False, server_default=text("1")),
    # Version 2: every transfer id up to here was looked at for transfers with no entries, ...
    Column("transfer_horizon", BigInteger, nullable=True),
    # ... those found are sealed in this block as lines of their own, ...
    Column("transfer_ids", JSON, nullable=True),
    # ... and [id, epoch seconds first missed] of ids up to the horizon not yet committed.
    Column("late_transfer_ids", JSON, nullable=True),
)
