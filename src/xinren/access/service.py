"""Create, check and revoke API keys. The secret is shown once; only its sha256 is kept."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.access.tables import ROLES, api_keys
from xinren.clock import Clock
from xinren.errors import NotFound, Unauthorized, ValidationFailed

KEY_PREFIX = "xr_"
_SCOPE = re.compile(r"^[A-Za-z0-9._:@-]{1,120}$")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id and name, its role and the subject it acts for."""

    key_id: int
    name: str
    role: str
    subject: str | None
    created_at: datetime

    @property
    def actor(self) -> str:
        """Who to record as having acted: the party the key acts for, else the key itself."""
        return self.subject or f"{self.role}:{self.key_id}"

    @property
    def key_scope(self) -> str:
        """Whose idempotency keys this caller's are: the party it acts for (all its keys share
        them), else the API key itself. See `xinren.ids.scoped`."""
        if self.subject and _SCOPE.match(self.subject):
            return self.subject
        return f"key:{self.key_id}"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    session: Session, clock: Clock, role: str, *, name: str = "", subject: str | None = None
) -> tuple[Principal, str]:
    """Create a key; returns the principal and the secret (shown once, never stored)."""
    if role not in ROLES:
        raise ValidationFailed(
            f"role must be one of {', '.join(ROLES)}; got {role!r}", field="role"
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    key_id = session.execute(
        api_keys.insert().returning(api_keys.c.id),
        dict(
            name=name or role,
            role=role,
            subject=subject,
            prefix=secret[:10],
            secret_hash=_digest(secret),
            created_at=now,
        ),
    ).scalar_one()
    return Principal(key_id, name or role, role, subject, now), secret


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal behind `secret`, or Unauthorized saying what to send."""
    if not secret:
        raise Unauthorized(
            "send an API key as 'Authorization: Bearer <key>' (create one with "
            "`xinren keys create --role admin`)"
        )
    row = session.execute(select(api_keys).where(api_keys.c.secret_hash == _digest(secret))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown or revoked")
    return Principal(row.id, row.name, row.role, row.subject, row.created_at)


def revoke(session: Session, clock: Clock, key_id: int) -> None:
    res = session.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(f"no active API key {key_id}", field="key_id")
