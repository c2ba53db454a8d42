"""Detection's own records: identifiers seen on accounts (device, address, payment account),
kept as digests so that accounts sharing one can be linked without storing the identifier; each
account's abuse record (its complaints, unfounded notices and flags), kept from the events the
cases and rules append so that detection reads neither context's tables nor the outbox; and
the honest ratings the rescore job stored, so that reading a rating is one lookup and never
runs (or writes) detection."""

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

# The abuse record (xinren/detect/buyers.py). One row per complaint a buyer filed (case.opened),
# marked unfounded when it was decided for the merchant on the merits (case.decided, not by
# default). No foreign key to cases: detection sits below the cases context. Whether it came
# soon after delivery is read from the order when scored (the order may be delivered later).
abuse_complaints = Table(
    "abuse_complaints",
    metadata,
    Column("case_id", Id, primary_key=True, autoincrement=False),
    Column("account", String(100), nullable=False, index=True),  # the complaining buyer
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("unfounded", Boolean, nullable=False, server_default=text("false")),
)

# One row per notice decided unfounded or manifestly unfounded (notice.decided), by reporter.
abuse_unfounded_notices = Table(
    "abuse_unfounded_notices",
    metadata,
    Column("notice_id", Id, primary_key=True, autoincrement=False),
    Column("account", String(100), nullable=False, index=True),  # the reporter
    Column("decided_at", UtcDateTime, nullable=False),
)

# Accounts flagged for abuse, once each: by the abuse score (cause 'abuse.flagged', the event
# detection appends) or warned or suspended as a reporter ('reporter.warned',
# 'reporter.suspended'). Reporters' warnings and suspensions are never taken back, nor flags.
abuse_flags = Table(
    "abuse_flags",
    metadata,
    Column("account", String(100), primary_key=True),
    Column("cause", String(40), nullable=False),
    Column("flagged_at", UtcDateTime, nullable=False),
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
