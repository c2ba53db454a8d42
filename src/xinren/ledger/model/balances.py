"""Accounts and their four totals (debits and credits, posted and pending), the limit flags
an account may carry, and the kinds of transfer; the vocabulary every other ledger rule uses."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from xinren.errors import ValidationFailed

MAX_LEGS = 64
MAX_BATCH = 8190  # TigerBeetle's batch size; larger requests are refused, not truncated
MAX_CODE = 200
MAX_REASON = 64
MAX_REFS = 16
#: an account's four totals are 64-bit columns: an operation that would carry one past this is
#: refused before anything is written (SQLite would silently turn the sum into a float)
MAX_TOTAL = 2**63 - 1


class Side(enum.StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class HoldStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class ExpiryAction(enum.StrEnum):
    POST = "post"
    VOID = "void"


class Kind(enum.StrEnum):
    """What an operation in the journal did."""

    TRANSFER = "transfer"
    HOLD = "hold"
    POST = "post"
    VOID = "void"
    EXTEND = "extend"
    PAUSE = "pause"
    RESUME = "resume"


class Balance(NamedTuple):
    """The four running totals of an account, in minor units.

    A NamedTuple rather than a frozen dataclass: the write path builds several per leg, and
    tuples are built in C (a batch of 1,000 transfers spent a fifth of its time in __init__).
    """

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    def __add__(self, other: Balance) -> Balance:  # type: ignore[override]
        return Balance(
            self[0] + other[0], self[1] + other[1], self[2] + other[2], self[3] + other[3]
        )

    @property
    def net(self) -> int:
        """Posted credits minus posted debits: what a liability/revenue account holds."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """Net minus what pending debits have reserved."""
        return self.credits_posted - self.debits_posted - self.debits_pending

    def is_zero(self) -> bool:
        return not any(self)


ZERO = Balance()


@dataclass(frozen=True, slots=True)
class Account:
    """`owner`: the context whose use cases alone move this account (an order's escrow is
    orders'); None for an account anyone with ledger access may use."""

    id: int
    code: str
    currency: str
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    balance: Balance = ZERO
    owner: str | None = None

    def broken_limit(self, balance: Balance) -> str | None:
        """Name the limit `balance` would break on this account, or None."""
        b = balance
        if self.debits_must_not_exceed_credits and (
            b.debits_posted + b.debits_pending > b.credits_posted
        ):
            return "debits_must_not_exceed_credits"
        if self.credits_must_not_exceed_debits and (
            b.credits_posted + b.credits_pending > b.debits_posted
        ):
            return "credits_must_not_exceed_debits"
        return None


def disagreements(
    held: Mapping[str, int], recorded: Mapping[str, int], name: Callable[[str], str]
) -> list[str]:
    """Where an owner's record of movements and the ledger's balances of its accounts differ:
    `held` is each account's balance, `recorded` the sum of the movements the owner recorded
    for it, both under the owner's own key (a merchant, a currency)."""
    out = []
    for key in sorted(set(held) | set(recorded)):
        booked = recorded.get(key, 0)
        if key not in held:
            if booked:
                out.append(f"{name(key)}: movements of {booked} are recorded but it has no account")
        elif held[key] != booked:
            out.append(
                f"{name(key)}: the ledger holds {held[key]}, its recorded movements add up to "
                f"{booked}"
            )
    return out


def check_code(code: object, field: str = "code") -> str:
    """Account codes are short, lower-case, colon-separated words: ``merchant:42:available``."""
    if not isinstance(code, str) or not code or len(code) > MAX_CODE:
        raise ValidationFailed(f"an account code is 1-{MAX_CODE} characters", field=field)
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789:_-.")
    bad = sorted(set(code) - allowed)
    if bad:
        raise ValidationFailed(
            f"account code {code!r} has characters outside a-z 0-9 : _ - . ({''.join(bad)!r})",
            field=field,
        )
    return code


def check_account_flags(debits_limited: bool, credits_limited: bool) -> None:
    if debits_limited and credits_limited:
        raise ValidationFailed(
            "an account cannot limit both debits and credits: nothing could ever move",
            field="flags",
        )
