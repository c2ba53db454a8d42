"""Staff accounts: create one, and check a username and password (`authenticate_user`).

Passwords are hashed with argon2id (`argon2-cffi`'s defaults, RFC 9106's second recommended
option: 64 MiB, 3 passes), each with its own salt, in the PHC string form that carries its
parameters, so raising them later rehashes each account at its next sign-in. An unknown
username costs the same hash as a wrong password, so timing does not tell which it was, and
both get the same answer.
"""

from __future__ import annotations

from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.access import model
from xinren.access.model import StaffUser
from xinren.access.tables import staff_users
from xinren.clock import Clock
from xinren.errors import AlreadyExists, Unauthorized
from xinren.events import service as events

_HASHER = PasswordHasher()
#: verified against when the username is unknown, so that answer takes as long as a wrong one
_DUMMY = _HASHER.hash("not a password: stands in for an unknown username")
_REFUSED = "the username or the password is wrong, or the account is disabled"


def _user(row: Any) -> StaffUser:
    return StaffUser(row.id, row.username, row.role, row.person, row.created_at, row.disabled_at)


def create_user(
    session: Session, clock: Clock, username: str, password: str, role: str, *, by: str
) -> StaffUser:
    """A new staff account; a username is taken once."""
    model.check_username(username)
    model.check_staff_role(role)
    model.check_password(password, username)
    taken = session.execute(
        select(staff_users.c.id).where(staff_users.c.username == username)
    ).first()
    if taken is not None:
        raise AlreadyExists(f"a staff account {username!r} exists", field="username")
    now = clock.now()
    row = session.execute(
        staff_users.insert().returning(*staff_users.c),
        dict(
            username=username,
            password_hash=_HASHER.hash(password),
            role=role,
            person=model.person_for(role, username),
            created_at=now,
            password_changed_at=now,
        ),
    ).one()
    events.append(
        session,
        clock,
        "staff_user.created",
        f"staff_user:{row.id}",
        {"username": username, "role": role, "by": by},
    )
    return _user(row)


def authenticate_user(session: Session, username: str, password: str) -> StaffUser:
    """The account, if `password` is its password and it is not disabled; else Unauthorized,
    the same for every reason."""
    row = session.execute(select(staff_users).where(staff_users.c.username == username)).first()
    try:
        _HASHER.verify(row.password_hash if row is not None else _DUMMY, password)
    except (VerificationError, InvalidHashError) as err:
        raise Unauthorized(_REFUSED) from err
    if row is None or row.disabled_at is not None:
        raise Unauthorized(_REFUSED)
    if _HASHER.check_needs_rehash(row.password_hash):
        session.execute(
            update(staff_users)
            .where(staff_users.c.id == row.id)
            .values(password_hash=_HASHER.hash(password))
        )
    return _user(row)
