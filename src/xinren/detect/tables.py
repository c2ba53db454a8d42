"""Detection's own records: identifiers seen on accounts (device, address, payment account),
kept as digests so that accounts sharing one can be linked without storing the identifier; and
the honest ratings the rescore job stored, so that reading a rating is one lookup and never
runs (or writes) detection."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

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

# One row per merchant (listing_id NULL) and per listing with reviews, as the last rescore
# found it; rewritten only when a rescore finds something different.
honest_ratings = Table(
    "honest_ratings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(100), nullable=False),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=True, unique=True),
    Column("raw", Float, nullable=False),  # mean of every review, the excluded included
    Column("reviews", BigInteger, nullable=False),
    Column("honest", Float, nullable=False),
    Column("effective", Float, nullable=False),  # reviews' worth of weight that counted
    Column("excluded_in_blocks", BigInteger, nullable=False),
    Column("blocks", Integer, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("last_review_id", Id, nullable=False),  # the highest review id it considered
    Column("detector", String(40), nullable=False),  # e.g. honest-rating/1
    Column("parameters", JSON, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
    CheckConstraint("reviews > 0", name="reviews"),
    CheckConstraint("excluded_in_blocks BETWEEN 0 AND reviews", name="excluded_in_blocks"),
    # the merchant's own row: one per merchant (a plain unique index would let NULL repeat)
    Index(
        "uq_honest_ratings_merchant",
        "merchant",
        unique=True,
        postgresql_where=text("listing_id IS NULL"),
        sqlite_where=text("listing_id IS NULL"),
    ),
    Index("ix_honest_ratings_merchant_listing", "merchant", "listing_id"),
)
