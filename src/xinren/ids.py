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

#: Keys Xinren makes for its own actions (e.g. a hold's expiry) start with this; callers may not
#: use it, or a caller could take the key of a future system action and block it for good.
SYSTEM_PREFIX = "sys:"


def check_idempotency_key(key: Any, field: str = "idempotency_key", *, system: bool = False) -> str:
    """Keys are 1-128 printable characters without spaces, e.g. ``order-1001-pay``."""
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValidationFailed(
            "an idempotency key is 1-128 characters from A-Z a-z 0-9 . _ : / @ + = -",
            field=field,
        )
    if key.startswith(SYSTEM_PREFIX) and not system:
        raise ValidationFailed(
            f"keys starting with {SYSTEM_PREFIX!r} are reserved for Xinren's own actions",
            field=field,
        )
    return key


def payload_hash(payload: Any) -> str:
    """A stable sha256 of a JSON-able payload (keys sorted, no whitespace)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def new_key(prefix: str = "k") -> str:
    """A random idempotency key for callers that have no natural one."""
    return f"{prefix}-{secrets.token_hex(12)}"
