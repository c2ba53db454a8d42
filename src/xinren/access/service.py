"""Create, check, list, rotate and revoke API keys. The secret is shown once; only its sha256
is kept, so a leaked database leaks no key.

Every request looks its key up again (`authenticate`), so a revoked key is refused on its very
next request, and so is a rotated key's old secret. Rotation replaces the secret in place:
the key keeps its id, role and subject, so who it is, the scope of its idempotency keys and
everything recorded as done by it stay the same. Each change is an event on the outbox
(``api_key.created|rotated|revoked``) naming who made it, never the secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, select, update
from sqlalchemy.orm import Session

from xinren.access import model
from xinren.access.model import ApiKey
from xinren.access.tables import api_keys
from xinren.clock import Clock
from xinren.errors import NotFound, Unauthorized
from xinren.events import service as events

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


def _new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _key(m: RowMapping) -> ApiKey:
    return ApiKey(
        id=m["id"],
        name=m["name"],
        role=m["role"],
        subject=m["subject"],
        prefix=m["prefix"],
        created_at=m["created_at"],
        rotated_at=m["rotated_at"],
        revoked_at=m["revoked_at"],
    )


_COLUMNS = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.role,
    api_keys.c.subject,
    api_keys.c.prefix,
    api_keys.c.created_at,
    api_keys.c.rotated_at,
    api_keys.c.revoked_at,
)


def create_key(
    session: Session,
    clock: Clock,
    role: str,
    *,
    name: str = "",
    subject: str | None = None,
    field: str = "subject",
    by: str = "system",
) -> tuple[Principal, str]:
    """Create a key; returns the principal and the secret (shown once, never stored).

    `subject` is the party the key acts for, as a ref or a bare id (`access.model.subject_for`
    says which roles need one); `field` is what the caller called it, for the error. `by` is
    who is making the key, for the outbox: an admin's actor over HTTP, ``cli`` on the command
    line, ``system`` for code with the database in hand.
    """
    model.check_role(role)
    subject = model.subject_for(role, subject, field)
    secret = _new_secret()
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
    created = get_key(session, key_id)
    events.append(session, clock, "api_key.created", f"api_key:{key_id}", created.event(by))
    return Principal(key_id, created.name, role, subject, now), secret


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal behind `secret`, or Unauthorized saying what to send."""
    if not secret:
        raise Unauthorized(
            "send an API key as 'Authorization: Bearer <key>' (create one with "
            "`xinren keys create --role admin`)"
        )
    row = session.execute(select(api_keys).where(api_keys.c.secret_hash == _digest(secret))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is unknown, revoked or replaced by a rotation")
    return Principal(row.id, row.name, row.role, row.subject, row.created_at)


def get_key(session: Session, key_id: int) -> ApiKey:
    row = session.execute(select(*_COLUMNS).where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise NotFound(f"no API key {key_id}", field="key_id")
    return _key(row)


def list_keys(session: Session, *, after: int = 0, limit: int = 100) -> list[ApiKey]:
    """Every key, revoked ones too, in id order from `after`."""
    rows = (
        session.execute(
            select(*_COLUMNS).where(api_keys.c.id > after).order_by(api_keys.c.id).limit(limit)
        )
        .mappings()
        .all()
    )
    return [_key(r) for r in rows]


def _locked(session: Session, key_id: int) -> tuple[ApiKey, list[int]]:
    """The key, locked against a concurrent rotation or revocation, and (for an admin key) the
    active admin keys, all locked in id order: two admins revoking each other's keys at once
    cannot both succeed, and nobody waits on a lock in the opposite order."""
    key = get_key(session, key_id)  # its role never changes: safe to read before locking
    admins: list[int] = []
    if key.role == "admin":
        admins = list(
            session.execute(
                select(api_keys.c.id)
                .where(api_keys.c.role == "admin", api_keys.c.revoked_at.is_(None))
                .order_by(api_keys.c.id)
                .with_for_update()
            ).scalars()
        )
    else:
        session.execute(select(api_keys.c.id).where(api_keys.c.id == key_id).with_for_update())
    return get_key(session, key_id), admins


def rotate(session: Session, clock: Clock, key_id: int, *, by: str) -> tuple[ApiKey, str]:
    """Give the key a new secret; the old one is refused from now on. Returns the key and the
    new secret (shown once, never stored)."""
    key, _ = _locked(session, key_id)
    model.check_rotatable(key)
    secret = _new_secret()
    session.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id)
        .values(prefix=secret[:10], secret_hash=_digest(secret), rotated_at=clock.now())
    )
    rotated = get_key(session, key_id)
    events.append(session, clock, "api_key.rotated", f"api_key:{key_id}", rotated.event(by))
    return rotated, secret


def revoke(session: Session, clock: Clock, key_id: int, *, by: str) -> ApiKey:
    """Revoke the key for good (never the last active admin key: see `model.check_revocable`)."""
    key, admins = _locked(session, key_id)
    model.check_revocable(key, admins)
    session.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=clock.now()))
    revoked = get_key(session, key_id)
    events.append(session, clock, "api_key.revoked", f"api_key:{key_id}", revoked.event(by))
    return revoked
