"""Detection's own records: identifiers seen on accounts (device, address, payment account),
kept as digests so that accounts sharing one can be linked without storing the identifier."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, UniqueConstraint

from xinren.schema import Id, UtcDateTime, metadata

account_identifiers = Table(
    "account_identifiers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account", String(100), nullable=False, index=True),  # e.g. "buyer:bob"
    Column("kind", String(20), nullable=False),  # device | address | payment_account
    Column("digest", String(64), nullable=False),  # sha256 of the normalised value
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("account", "kind", "digest"),
    Index("ix_account_identifiers_digest", "kind", "digest"),
)
