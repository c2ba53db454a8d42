"""API keys: only a sha256 of the secret is stored, so a leaked database leaks no key. Staff
accounts: only an argon2id hash of the password."""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Integer, String, Table, UniqueConstraint

from xinren.access.model import ROLES, STAFF_ROLES
from xinren.schema import Id, UtcDateTime, metadata

__all__ = ["ROLES", "api_keys", "idempotent_requests", "staff_users"]


api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("subject", String(100), nullable=True),  # e.g. "merchant:42" for object-level checks
    Column("prefix", String(12), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("rotated_at", UtcDateTime, nullable=True),  # the last time its secret was replaced
    Column("revoked_at", UtcDateTime, nullable=True),
    CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role"),
)

idempotent_requests = Table(
    "idempotent_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key_id", Id, nullable=False),  # the API key that made the request
    Column("idempotency_key", String(255), nullable=False),
    Column("scope", String(100), nullable=False),  # e.g. "POST /v1/catalog/listings"
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("key_id", "idempotency_key", name="uq_idempotent_requests_key"),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(32), nullable=False, unique=True),
    # argon2id in PHC string form (parameters and salt included): `access.users`
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("person", String(100), nullable=True),  # reviewer:<id> for the roles that decide
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime, nullable=True),
    CheckConstraint(
        "role IN (" + ", ".join(f"'{r}'" for r in STAFF_ROLES) + ")", name="staff_role"
    ),
)
