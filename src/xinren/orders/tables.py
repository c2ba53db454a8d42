"""Orders and the journal of actions taken on them (one row per idempotency key)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    text,
)

from xinren.schema import Id, UtcDateTime, metadata

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("buyer", String(100), nullable=False),
    Column("merchant", String(100), nullable=False),
    Column("host", String(100), nullable=True),
    Column("listing_id", Id, ForeignKey("listings.id"), nullable=True),
    Column("batch_id", Id, ForeignKey("batches.id"), nullable=True),
    Column("live_session_id", Id, ForeignKey("live_sessions.id"), nullable=True),
    Column("quantity", BigInteger, nullable=False, server_default=text("1")),
    Column("host_rate_bp", BigInteger, nullable=False, server_default=text("0")),
    Column("category", String(50), nullable=False),
    Column("delivery_method", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", BigInteger, nullable=False),
    # with a listing: its unit price when ordered, and any discount granted with its reason
    Column("unit_price", BigInteger, nullable=True),
    Column("discount", BigInteger, nullable=False, server_default=text("0")),
    Column("discount_reason", String(200), nullable=True),
    # the fingerprint of the create request, so a retry is told apart from a reused key
    Column("request_hash", String(64), nullable=True),
    Column("status", String(12), nullable=False),
    Column("after_sales", String(20), nullable=False),
    Column("paid", BigInteger, nullable=False, server_default=text("0")),
    Column("refunded", BigInteger, nullable=False, server_default=text("0")),
    Column("released", BigInteger, nullable=False, server_default=text("0")),
    Column("requested", BigInteger, nullable=False, server_default=text("0")),
    Column("request_kind", String(20), nullable=True),
    Column("extended", Boolean, nullable=False, server_default=text("false")),
    Column("countdown_due_at", UtcDateTime, nullable=True),
    Column("countdown_left_ms", BigInteger, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("return_reason", String(20), nullable=True),
    Column("return_shipping_payer", String(10), nullable=True),
    Column("policy_version", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("total > 0", name="total_positive"),
    CheckConstraint("discount >= 0", name="discount_not_negative"),
    CheckConstraint(
        "refunded >= 0 AND released >= 0 AND refunded + released <= paid", name="identity"
    ),
    Index("ix_orders_buyer", "buyer", "id"),
    Index("ix_orders_merchant", "merchant", "id"),
    Index("ix_orders_batch", "batch_id"),
)

order_actions = Table(
    "order_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("payload_hash", String(64), nullable=False),
    Column("from_state", String(40), nullable=False),
    Column("to_state", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
