"""Catalog rules, pure: what a brand, product, batch, authorization, listing and live claim must
say for the platform to trace a sale back to its source and compare claims with facts."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xinren.errors import ValidationFailed

_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_GTIN = re.compile(r"^[0-9]{8}$|^[0-9]{12,14}$")
_LOT = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

#: A claim or fact value: what a buyer can check against the goods.
Value = str | int | float | bool


class Scope(enum.StrEnum):
    """What a brand authorization lets the grantee do with the brand's goods."""

    DISTRIBUTE = "distribute"  # sell on to other traders (and authorize them to sell)
    SELL = "sell"  # sell to consumers


class Result(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


def check_text(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationFailed(f"{field} is required (at most {limit} characters)", field=field)
    return value


def check_category(value: str) -> str:
    if not _CATEGORY.match(value or ""):
        raise ValidationFailed(
            "category is a lower-case name such as 'food', 'electronics' or 'cosmetics'",
            field="category",
        )
    return value


def check_gtin(value: str | None) -> str | None:
    if value is not None and not _GTIN.match(value):
        raise ValidationFailed("gtin is a GS1 GTIN-8, -12, -13 or -14 (digits)", field="gtin")
    return value


def check_lot(value: str) -> str:
    if not _LOT.match(value or ""):
        raise ValidationFailed(
            "lot is the batch/lot code as printed (letters, digits, '.', '_', '-')", field="lot"
        )
    return value


def check_attributes(values: Mapping[str, Any], field: str) -> dict[str, Value]:
    """Structured claims and facts are a flat mapping of snake_case names to plain values."""
    if not isinstance(values, Mapping):
        raise ValidationFailed(f"{field} is an object of name: value", field=field)
    out: dict[str, Value] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _ATTRIBUTE.match(name):
            raise ValidationFailed(
                f"{field}: attribute name {name!r} is not snake_case", field=f"{field}.{name}"
            )
        if (
            not isinstance(value, str | int | float | bool)
            or (isinstance(value, str) and len(value) > 500)
            or (isinstance(value, float) and not math.isfinite(value))
            or (isinstance(value, int) and abs(value) >= 2**53)
        ):
            raise ValidationFailed(
                f"{field}.{name} must be a string (at most 500 characters), a finite number "
                "(integers below 2**53) or a boolean",
                field=f"{field}.{name}",
            )
        out[name] = value
    return out


def check_price_range(low: int | None, high: int | None) -> None:
    for name, value in (("ref_price_min", low), ("ref_price_max", high)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationFailed(f"{name} is an integer in minor units", field=name)
        if value is not None and value <= 0:
            raise ValidationFailed(f"{name} is positive", field=name)
    if low is not None and high is not None and low > high:
        raise ValidationFailed("ref_price_min is above ref_price_max", field="ref_price_min")


def check_window(start: date | datetime, end: date | datetime, field: str) -> None:
    if end < start:
        raise ValidationFailed(f"{field} ends before it starts", field=field)


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A claim that differs from a fact: the attribute, what was claimed and what is true."""

    attribute: str
    claimed: Value
    fact: Value
    claimed_by: str  # "listing:3" or "live_claim:12"
    text: str  # the words, as written or spoken

    def explain(self) -> str:
        return (
            f"{self.claimed_by} claimed {self.attribute} = {self.claimed!r} "
            f"({self.text!r}); the product facts say {self.fact!r}"
        )


def contradictions(
    facts: Mapping[str, Value], claims: Mapping[str, Value], claimed_by: str, text: str
) -> list[Contradiction]:
    """Claims about an attribute the facts also state, with a different value.

    Claims about attributes the facts do not mention are not contradictions: nobody recorded
    the truth to compare with, and a chain of custody cannot decide them either.
    """
    return [
        Contradiction(name, value, facts[name], claimed_by, text)
        for name, value in sorted(claims.items())
        if name in facts and not _same(facts[name], value)
    ]


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return a == b
