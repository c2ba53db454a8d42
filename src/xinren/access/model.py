"""Key policy, pure: which roles act for a party and of what kind, what a subject looks like,
and which revocations would lock the platform out. Staff accounts of the operators' console,
pure: their roles (those of the API's staff keys, with a senior reviewer for four-eyes
decisions; a reviewer decides as a named person, as a reviewer key does), usernames and
passwords.

A key's subject is the party it acts for (``merchant:acme-tea``, ``reviewer:zhao``); routes
compare it with the parties named in orders, cases and decisions, so a subject of the wrong
form silently matches nothing (a merchant gets 404 on its own order) and a missing one turns
a party key into an anonymous one. Both are refused when the key is made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xinren.errors import Conflict, ValidationFailed

ROLES = (
    "platform",
    "buyer",
    "merchant",
    "host",
    "supplier",
    "manufacturer",
    "brand_owner",
    "lab",
    "reviewer",
    "auditor",
    "admin",
)

#: The kind of party each party role acts for: its subject is '<kind>:<id>'.
PARTY_KIND: dict[str, str] = {
    "buyer": "buyer",
    "merchant": "merchant",
    "host": "host",
    "supplier": "supplier",
    "manufacturer": "manufacturer",
    "brand_owner": "brand_owner",
    "lab": "lab",
    "reviewer": "reviewer",  # a person: decisions record who decided, independence is per person
}
#: Roles that act for the platform itself, never for one party.
NO_PARTY = tuple(r for r in ROLES if r not in PARTY_KIND)

_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
_EXAMPLE = {"buyer": "1001", "reviewer": "zhao"}


def check_role(role: str, field: str = "role") -> str:
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}; got {role!r}", field=field)
    return role


def subject_for(role: str, party: str | None, field: str = "subject") -> str | None:
    """The subject a `role` key acting for `party` gets: a full ref ('merchant:acme-tea') or a
    bare id ('acme-tea', given the role's kind). `field` is what the caller typed it into
    (``--party`` on the command line, ``party`` over HTTP), so the error names it."""
    check_role(role)
    kind = PARTY_KIND.get(role)
    if kind is None:
        if party is not None:
            raise ValidationFailed(
                f"a {role} key acts for the platform, not for one party: leave {field} out",
                field=field,
            )
        return None
    example = f"{kind}:{_EXAMPLE.get(kind, 'acme')}"
    form = f"'{kind}:<id>' or just '<id>'"
    if party is None or party == "":
        raise ValidationFailed(
            f"a {role} key must name the {kind} it acts for: pass {field} as {form}, "
            f"e.g. {example!r}",
            field=field,
        )
    given_kind, sep, ident = party.rpartition(":")
    if sep and given_kind != kind:
        named = given_kind if given_kind in PARTY_KIND.values() else None
        what = f"a {named} ref" if named else "not a ref"
        raise ValidationFailed(
            f"{field} {party!r} is {what}; a {role} key acts for a {kind}: pass {form}, "
            f"e.g. {example!r}",
            field=field,
        )
    if not _ID.match(ident):
        raise ValidationFailed(
            f"{field} is {form} with an id of 1-64 lower-case letters, digits, '-' or '_', "
            f"e.g. {example!r}; got {party!r}",
            field=field,
        )
    return f"{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as an admin sees it: never its secret or the secret's hash."""

    id: int
    name: str
    role: str
    subject: str | None
    prefix: str
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "subject": self.subject,
            "prefix": self.prefix,
            "created_at": self.created_at.isoformat(),
            "rotated_at": self.rotated_at.isoformat() if self.rotated_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    def event(self, by: str) -> dict[str, Any]:
        """What the outbox says about a change to this key: who did it, never a secret (nor
        the secret's first characters)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "subject": self.subject,
            "by": by,
        }


def check_revocable(key: ApiKey, active_admins: list[int]) -> None:
    """Refuse to revoke an already revoked key, and the last active admin key: with none left
    nobody could manage keys over HTTP (only someone with the database could make one)."""
    if not key.active:
        raise Conflict(f"API key {key.id} is already revoked", field="key_id")
    if key.role == "admin" and active_admins == [key.id]:
        raise Conflict(
            f"API key {key.id} is the last active admin key; revoking it would leave nobody "
            "able to manage keys: create another admin key first",
            field="key_id",
        )


def check_rotatable(key: ApiKey) -> None:
    if not key.active:
        raise Conflict(
            f"API key {key.id} is revoked; a revoked key stays revoked: create a new one",
            field="key_id",
        )


# --- staff accounts ---------------------------------------------------------------------------

#: the console's roles, least power first
STAFF_ROLES = ("auditor", "reviewer", "senior_reviewer", "admin")
#: roles that decide as a named person (their person is ``reviewer:<id>``)
DECIDERS = ("reviewer", "senior_reviewer")
#: NIST SP 800-63B: at least 8 characters, 15 when a password is the only factor; long
#: passphrases allowed, no composition rules
MIN_PASSWORD = 15
MAX_PASSWORD = 256

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,31}$")


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A staff account as the application sees it: never its password hash."""

    id: int
    username: str
    role: str
    person: str | None
    created_at: datetime
    disabled_at: datetime | None = None


def check_username(username: object) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise ValidationFailed(
            "a username is 2-32 characters: a lower-case letter, then lower-case letters, "
            "digits, '.', '_' or '-' (e.g. 'zhao.li')",
            field="username",
        )
    return username


def check_staff_role(role: object) -> str:
    if role not in STAFF_ROLES:
        raise ValidationFailed(
            f"role is one of {', '.join(STAFF_ROLES)}; got {role!r}", field="role"
        )
    return str(role)


def check_password(password: object, username: str) -> str:
    """Long enough, not absurdly long, and not the username itself."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(
            f"a password is {MIN_PASSWORD}-{MAX_PASSWORD} characters (a passphrase of a few "
            "words is easiest to remember)",
            field="password",
        )
    if username.lower() in password.lower():
        raise ValidationFailed("a password may not contain the username", field="password")
    return password


def person_for(role: str, username: str) -> str | None:
    """The person a decider decides as (``reviewer:<username>``); None for other roles."""
    return f"reviewer:{username.replace('.', '-')}" if role in DECIDERS else None
