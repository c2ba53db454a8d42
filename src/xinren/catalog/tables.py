"""Catalog tables: what is sold, from which batch, under whose authorization, with what claims."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

brands = Table(
    "brands",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("owner", String(100), ForeignKey("parties.ref"), nullable=False),
    Column("protected", Boolean, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("ref_price_min", BigInteger, nullable=True),
    Column("ref_price_max", BigInteger, nullable=True),
    Column("keywords", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "ref_price_min IS NULL OR ref_price_max IS NULL OR ref_price_min <= ref_price_max",
        name="price_range",
    ),
)

products = Table(
    "products",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("brand_id", Id, ForeignKey("brands.id"), nullable=False, index=True),
    Column("manufacturer", String(100), ForeignKey("parties.ref"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(50), nullable=False),
    Column("gtin", String(14), nullable=True, unique=True),
    Column("facts", JSON, nullable=False),  # the manufacturer's specification, structured
    Column("created_at", UtcDateTime, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("product_id", Id, ForeignKey("products.id"), nullable=False),
    Column("lot", String(100), nullable=False),
    Column("epc_class", String(200), nullable=False, unique=True),
    Column("production_date", Date, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("registered_by", String(100), ForeignKey("parties.ref"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("product_id", "lot", name="uq_batches_product_lot"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

batch_inspections = Table(
    "batch_inspections",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=False, index=True),
    Column("document", String(64), ForeignKey("documents.sha256"), nullable=False),
    Column("lab", String(100), ForeignKey("parties.ref"), nullable=False),
    Column("commissioned_by", String(100), ForeignKey("parties.ref"), nullable=False),
    Column("kind", String(20), nullable=False),  # inspection | sampling
    Column("sampled_on", Date, nullable=False),
    Column("result", String(4), nullable=False),
    Column("finding", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("batch_id", "document", name="uq_batch_inspections_batch_document"),
    CheckConstraint("result IN ('pass', 'fail')", name="result"),
)

brand_authorizations = Table(
    "brand_authorizations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("brand_id", Id, ForeignKey("brands.id"), nullable=False, index=True),
    Column("grantor", String(100), ForeignKey("parties.ref"), nullable=False),
    Column("grantee", String(100), ForeignKey("parties.ref"), nullable=False, index=True),
    Column("scope", String(20), nullable=False),  # distribute | sell
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("document", String(64), ForeignKey("documents.sha256"), nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("valid_from <= valid_to", name="validity"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(100), ForeignKey("parties.ref"), nullable=False, index=True),
    Column("product_id", Id, ForeignKey("products.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("claims", JSON, nullable=False),  # structured attributes the listing asserts
    Column("claim_text", Text, nullable=False),
    # the listing's photos: sha256 digests of documents in the evidence store
    Column("images", JSON, nullable=False, server_default=text("'[]'")),
    Column("status", String(10), nullable=False),
    # units left to sell; NULL: the platform does not track this listing's stock
    Column("stock", BigInteger, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

listing_batches = Table(
    "listing_batches",
    metadata,
    Column("listing_id", Id, ForeignKey("listings.id"), primary_key=True),
    Column("batch_id", Id, ForeignKey("batches.id"), primary_key=True, index=True),
)

live_sessions = Table(
    "live_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("host", String(100), ForeignKey("parties.ref"), nullable=False, index=True),
    Column("merchant", String(100), ForeignKey("parties.ref"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("recording", String(64), ForeignKey("documents.sha256"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("starts_at < ends_at", name="window"),
)

live_session_listings = Table(
    "live_session_listings",
    metadata,
    Column("session_id", Id, ForeignKey("live_sessions.id"), primary_key=True),
    Column("listing_id", Id, ForeignKey("listings.id"), primary_key=True),
)

live_claims = Table(
    "live_claims",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("session_id", Id, ForeignKey("live_sessions.id"), nullable=False),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=True),
    Column("spoken_at", UtcDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("attributes", JSON, nullable=False),  # the claim's structured reading, if any
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_live_claims_session", "session_id", "spoken_at"),
)

brand_images = Table(
    "brand_images",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("brand_id", Id, ForeignKey("brands.id"), nullable=False, index=True),
    Column("pdq", String(64), nullable=False),  # 256-bit perceptual hash, hex
    Column("created_at", UtcDateTime, nullable=False),
)

interceptions = Table(
    "interceptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(100), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("outcome", String(10), nullable=False),  # block | review
    Column("reasons", JSON, nullable=False),
    Column("rule_id", String(20), nullable=True),  # the rulebook rule it is linked to
    # one interception per draft: a retried request (same key) or a repeated change is not
    # another intercepted listing
    Column("draft_key", String(200), nullable=True, unique=True),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=True),  # a blocked change
    Column("created_at", UtcDateTime, nullable=False),
)
