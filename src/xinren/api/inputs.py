"""What no value of any request may hold, checked once for every route before it runs.

Some values are well-formed JSON and pass a model's types but cannot be stored: a NUL
character or a lone UTF-16 surrogate in a text (PostgreSQL refuses both, SQLite's driver
cannot encode the second), an integer outside 64 bits (every id and amount column is a
64-bit integer). Refusing them here, with the field's name, means no route and no service
ever sends one to a database, whatever model a route declares.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from xinren.errors import ValidationFailed

MAX_INT = 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"^[+-]?\d+$")


def check_text(value: str, field: str) -> None:
    """Refuse a text holding a character no database here can store."""
    found = _UNSTORABLE.search(value)
    if found:
        what = "a NUL character" if found.group() == "\x00" else "a lone surrogate"
        raise ValidationFailed(
            f"{field} holds {what} (at position {found.start()}), which cannot be stored; "
            "remove it",
            field=field,
        )


def check_int(value: int, field: str) -> None:
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValidationFailed(
            f"{field} is out of range: ids and amounts are 64-bit integers, at most {MAX_INT}",
            field=field,
        )


def check_value(value: Any, field: str) -> None:
    """Walk a parsed JSON value; `field` is its dotted path (``operations.0.reason``)."""
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        check_int(value, field)
    elif isinstance(value, dict):
        for k, v in value.items():
            name = f"{field}.{k}" if field else str(k)
            check_text(str(k), name)
            check_value(v, name)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_value(v, f"{field}.{i}" if field else str(i))


def _check_param(value: str, field: str) -> None:
    check_text(value, field)
    if _DIGITS.match(value) and len(value) > 18:
        check_int(int(value), field)


async def check_request(request: Request) -> None:
    """A dependency of the whole app: path, query and JSON body values are storable."""
    for name, value in request.path_params.items():
        _check_param(str(value), name)
    for name, value in request.query_params.multi_items():
        _check_param(value, name)
    if "json" not in request.headers.get("content-type", ""):
        return
    raw = await request.body()
    if not raw:
        return
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return  # the route's own parsing reports malformed JSON
    check_value(data, "")
