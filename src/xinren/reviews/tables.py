"""Review tables: what buyers said about listings, and merchants' appeals against exclusions.

Owned by the reviews context since issue 14 (they were catalog's before); the tables, their
names and columns are unchanged, so no migration moved them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    Text,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

reviews = Table(
    "reviews",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("buyer", String(100), nullable=False, index=True),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=False, index=True),
    Column("merchant", String(100), nullable=False, index=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=True),  # a verified purchase
    Column("rating", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=False),
    Column("excluded", Boolean, nullable=False),  # judged fake: not counted in ratings
    # reinstated on the merchant's appeal: detection may not exclude it again
    Column("reinstated", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
)

review_appeals = Table(
    "review_appeals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("merchant", String(100), nullable=False, index=True),
    Column("review_ids", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(12), nullable=False),  # open | upheld | reinstated | partly
    Column("filed_at", UtcDateTime, nullable=False),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("reinstated_ids", JSON, nullable=True),
    Column("decision_reason", Text, nullable=True),
)
