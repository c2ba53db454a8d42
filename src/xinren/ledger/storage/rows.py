"""What the write path loads and writes, as plain values, and how a stored row becomes a model
value (alike for both implementations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from xinren.clock import utc
from xinren.ledger.model import Account, Balance, ExpiryAction, Hold, HoldStatus


@dataclass(frozen=True, slots=True)
class StoredOp:
    """A journal operation as stored: what a replay returns."""

    id: int
    kind: str
    payload_hash: str
    created_at: datetime
    hold_id: int | None


@dataclass(slots=True)
class Loaded:
    accounts: dict[str, Account]
    holds: dict[int, Hold]
    existing: dict[str, StoredOp]


@dataclass(slots=True)
class Rows:
    """Everything one batch writes, as plain columns keyed by idempotency key."""

    transfers: list[tuple[str, str, str, str, str | None, int | None, datetime]] = field(
        default_factory=list
    )  # key, kind, payload_hash, reason, refs json, hold_id, created_at
    entries: list[tuple[str, int, Balance]] = field(default_factory=list)  # key, account, change
    new_holds: list[tuple[str, Hold]] = field(default_factory=list)  # key, hold (id unset)
    changed_holds: list[tuple[str, Hold, bool]] = field(default_factory=list)  # key, hold, resolved


@dataclass(slots=True)
class Written:
    claimed: dict[str, int]  # key -> transfer id
    new_holds: dict[str, int]  # key -> hold id
    changed_holds: int


def account_from_row(r: Any) -> Account:
    return Account(
        id=r["id"],
        code=r["code"],
        currency=r["currency"],
        debits_must_not_exceed_credits=bool(r["debits_must_not_exceed_credits"]),
        credits_must_not_exceed_debits=bool(r["credits_must_not_exceed_debits"]),
        balance=Balance(
            r["debits_posted"], r["credits_posted"], r["debits_pending"], r["credits_pending"]
        ),
        owner=r["owner"],
    )


def when(value: Any) -> datetime | None:
    if value is None:
        return None
    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def hold_from_row(r: Any) -> Hold:
    return Hold(
        id=r["id"],
        debit_account_id=r["debit_account_id"],
        credit_account_id=r["credit_account_id"],
        amount=r["amount"],
        currency=r["currency"],
        status=HoldStatus(r["status"]),
        expires_at=when(r["expires_at"]),
        expiry_action=ExpiryAction(r["expiry_action"]) if r["expiry_action"] else None,
        paused_remaining=(
            timedelta(milliseconds=r["paused_remaining_ms"])
            if r["paused_remaining_ms"] is not None
            else None
        ),
        posted_amount=r["posted_amount"],
    )


def stored_op(r: Any) -> StoredOp:
    return StoredOp(
        r["id"],
        r["kind"],
        r["payload_hash"],
        when(r["created_at"]) or datetime.min,
        r["new_hold_id"] or r["hold_id"],
    )


def paused_ms(h: Hold) -> int | None:
    if h.paused_remaining is None:
        return None
    return int(h.paused_remaining / timedelta(milliseconds=1))
