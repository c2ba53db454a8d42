"""Parties and the history of their verification status (never updated in place)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Table

from xinren.schema import Id, UtcDateTime, metadata

KINDS = ("merchant", "host", "supplier", "manufacturer", "brand_owner", "lab")
STATUSES = ("unverified", "pending", "verified", "rejected", "suspended")

parties = Table(
    "parties",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("ref", String(100), nullable=False, unique=True),  # "merchant:acme"
    Column("kind", String(20), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=True),
    Column("address", String(500), nullable=True),
    Column("contact_email", String(200), nullable=True),
    Column("contact_phone", String(50), nullable=True),
    Column("registration_number", String(100), nullable=True),
    Column("payment_account", String(100), nullable=True),
    Column("self_certified_at", UtcDateTime, nullable=True),
    Column("accreditation", String(100), nullable=True),  # labs: CNAS / CMA number
    Column("affiliated_with", String(100), nullable=True),  # e.g. a merchant's in-house lab
    Column("epcis_id", String(200), nullable=True, unique=True),  # e.g. urn:epc:id:pgln:...
    Column("status", String(12), nullable=False),
    # active sanctions that restrict what the party may do, kept by the rules context:
    # {"new_listing_ban": "<ends_at ISO>", "clearance": null, ...}
    Column("restrictions", JSON, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name="kind"),
    CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
)

party_status_changes = Table(
    "party_status_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("party_id", Id, ForeignKey("parties.id"), nullable=False, index=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("from_status", String(12), nullable=False),
    Column("to_status", String(12), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("decided_by", String(100), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


deposit_movements = Table(
    "deposit_movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("merchant", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("amount", BigInteger, nullable=False),  # + paid in, - taken out
    # paid | penalty | penalty_refunded | remedy | recovery | opening (balance at migration 0017)
    Column("kind", String(20), nullable=False),
    Column("ref", String(100), nullable=False),  # what for: "violation:3", "case:7", "claim:2"
    Column("ledger_key", String(255), nullable=False, unique=True),  # the ledger move recorded
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    Index("ix_deposit_movements_merchant", "merchant", "id"),
)
