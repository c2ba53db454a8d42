"""Ledger use cases on a Session: the caller owns the transaction (one request = one commit).

`submit` is the one write path: a batch of one for single calls, up to `MAX_BATCH` for batched
ones. It loads and locks what the batch touches and finds used keys (`storage.load`), lets
`model.plan_batch` decide every operation, and writes the accepted ones (`storage.write`):
on PostgreSQL one statement each way, whatever the batch size.

The write path itself is `ledger.writes`; opening and reading accounts is `ledger.accounts`, the
other reads `ledger.reads`. This module holds the one-operation wrappers of the Python API and
the hold-expiry timer handler, and names all of them, so callers keep one entry point
(``from xinren.ledger import service``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import ValidationFailed
from xinren.ids import SYSTEM_PREFIX
from xinren.ledger import model
from xinren.ledger.accounts import (
    Reservation,
    create_account,
    get_account,
    list_accounts,
    lock_accounts,
    owned_accounts,
    owner_of,
    reservations,
    reserve,
)
from xinren.ledger.model import ExpiryAction, HoldStatus, Meta
from xinren.ledger.reads import (
    HistoryLine,
    TransferView,
    get_hold,
    get_transfer,
    history,
    totals_by_currency,
)
from xinren.ledger.shards import family_balance, open_shards, sweep
from xinren.ledger.writes import HOLD_EXPIRY, Outcome, Result, submit, submit_one
from xinren.timers import service as timers
from xinren.timers.model import Timer

__all__ = [
    "HOLD_EXPIRY",
    "HistoryLine",
    "Outcome",
    "Reservation",
    "Result",
    "TransferView",
    "create_account",
    "extend",
    "family_balance",
    "get_account",
    "get_hold",
    "get_transfer",
    "history",
    "hold",
    "list_accounts",
    "lock_accounts",
    "move",
    "open_shards",
    "owned_accounts",
    "owner_of",
    "pause",
    "post",
    "reservations",
    "reserve",
    "resume",
    "submit",
    "submit_one",
    "sweep",
    "totals_by_currency",
    "transfer",
    "void",
]


def transfer(
    session: Session,
    clock: Clock,
    key: str,
    legs: Sequence[tuple[str, str, int]],
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
    internal: bool = False,
) -> Result:
    """Post a balanced transfer; `legs` are ``(account_code, "debit"|"credit", amount)``."""
    parsed = []
    for i, (code, side, amount) in enumerate(legs):
        try:
            parsed.append(model.Leg(code, model.Side(side), amount))
        except ValueError as err:
            raise ValidationFailed(
                f"side is 'debit' or 'credit', got {side!r}", field=f"legs[{i}].side"
            ) from err
    op = model.TransferOp(Meta(key, reason, dict(refs or {})), tuple(parsed))
    return submit_one(session, clock, op, system=system, internal=internal)


def move(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
    internal: bool = False,
) -> Result:
    """A two-leg transfer: take `amount` from `debit` and give it to `credit`."""
    return transfer(
        session,
        clock,
        key,
        [(debit, "debit", amount), (credit, "credit", amount)],
        reason=reason,
        refs=refs,
        system=system,
        internal=internal,
    )


def hold(
    session: Session,
    clock: Clock,
    key: str,
    debit: str,
    credit: str,
    amount: int,
    *,
    expires_at: datetime | None = None,
    expiry_action: ExpiryAction | str | None = None,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
) -> Result:
    action = ExpiryAction(expiry_action) if expiry_action else None
    op = model.HoldOp(
        Meta(key, reason, dict(refs or {})), debit, credit, amount, expires_at, action
    )
    return submit_one(session, clock, op, system=system)


def post(
    session: Session,
    clock: Clock,
    key: str,
    hold_id: int,
    amount: int | None = None,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
) -> Result:
    return submit_one(
        session, clock, model.PostOp(Meta(key, reason, dict(refs or {})), hold_id, amount)
    )


def void(
    session: Session,
    clock: Clock,
    key: str,
    hold_id: int,
    *,
    reason: str = "",
    refs: Mapping[str, str] | None = None,
    system: bool = False,
) -> Result:
    op = model.VoidOp(Meta(key, reason, dict(refs or {})), hold_id)
    return submit_one(session, clock, op, system=system)


def extend(session: Session, clock: Clock, key: str, hold_id: int, expires_at: datetime) -> Result:
    return submit_one(session, clock, model.ExtendOp(Meta(key), hold_id, expires_at))


def pause(session: Session, clock: Clock, key: str, hold_id: int) -> Result:
    return submit_one(session, clock, model.PauseOp(Meta(key), hold_id))


def resume(session: Session, clock: Clock, key: str, hold_id: int) -> Result:
    return submit_one(session, clock, model.ResumeOp(Meta(key), hold_id))


@timers.handler(HOLD_EXPIRY)
def _expire_hold(session: Session, clock: Clock, timer: Timer) -> None:
    """Run a hold's expiry action; the key makes a second run a harmless replay."""
    found = get_hold(session, int(timer.subject))
    if found.status is not HoldStatus.PENDING or found.paused or found.expires_at is None:
        return
    if found.expires_at > clock.now():  # extended after this timer was read
        return
    meta = Meta(f"{SYSTEM_PREFIX}expire:{found.id}", "hold_expired")
    op: model.Operation = (
        model.PostOp(meta, found.id)
        if found.expiry_action is ExpiryAction.POST
        else model.VoidOp(meta, found.id)
    )
    submit_one(session, clock, op, system=True)
