"""Typed ids and idempotency helpers.

Ids are database integers wrapped in NewTypes so that mypy stops an account id being passed
where a hold id is expected. Idempotency keys are caller-chosen strings; a request's payload is
fingerprinted so a reused key with a different request is detected, not silently replayed.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any, NewType

from xinren.errors import ValidationFailed

AccountId = NewType("AccountId", int)
TransferId = NewType("TransferId", int)
HoldId = NewType("HoldId", int)
TimerId = NewType("TimerId", int)

_KEY_RE = re.compile(r"^[A-Za-z0-9._:/@+=-]{1,128}$")
_SCOPE_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,120}$")

#: Keys Xinren makes for its own actions (e.g. a hold's expiry) start with this; callers may not
#: use it, or a caller could take the key of a future system action and block it for good.
SYSTEM_PREFIX = "sys:"
#: Between a key's scope and the caller's key: a character no caller's key may hold, so a key
#: scoped to one caller can never be written by another (`scoped`).
SCOPE_SEP = "#"
#: The longest stored key: a scope, the separator and a caller's key.
MAX_STORED_KEY = 250


def check_idempotency_key(key: Any, field: str = "idempotency_key", *, system: bool = False) -> str:
    """Keys are 1-128 printable characters without spaces, e.g. ``order-1001-pay``; a key the
    HTTP API scoped to its caller (``scope#key``, see `scoped`) is checked the same way."""
    if not isinstance(key, str):
        raise ValidationFailed("an idempotency key is a string, e.g. 'order-1001-pay'", field=field)
    scope, sep, raw = key.rpartition(SCOPE_SEP)
    if not _KEY_RE.match(raw) or (sep and not _SCOPE_RE.match(scope)):
        raise ValidationFailed(
            "an idempotency key is 1-128 characters from A-Z a-z 0-9 . _ : / @ + = -",
            field=field,
        )
    if raw.startswith(SYSTEM_PREFIX) and not system:
        raise ValidationFailed(
            f"keys starting with {SYSTEM_PREFIX!r} are reserved for Xinren's own actions",
            field=field,
        )
    return key


def scoped(scope: str, key: str) -> str:
    """`key` as stored for one caller (its party, or its API key): another caller's request
    under the same key is another request, and never learns that this one exists."""
    if not _SCOPE_RE.match(scope):
        raise ValueError(f"not a key scope: {scope!r}")
    return f"{scope}{SCOPE_SEP}{key}"


def unscoped(key: str) -> str:
    """The caller's own key, as the caller sent it."""
    return key.rpartition(SCOPE_SEP)[2]


def derived(*parts: object) -> str:
    """A key for an action Xinren takes because of another keyed request (the ledger moves of
    an order action, the payments of a remedy): a fixed 68 characters whatever the parts'
    lengths, so a caller's long key never overflows a key Xinren builds from it."""
    text = "\x1f".join(str(p) for p in parts)
    return SYSTEM_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def payload_hash(payload: Any) -> str:
    """A stable sha256 of a JSON-able payload (keys sorted, no whitespace)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def new_key(prefix: str = "k") -> str:
    """A random idempotency key for callers that have no natural one."""
    return f"{prefix}-{secrets.token_hex(12)}"
