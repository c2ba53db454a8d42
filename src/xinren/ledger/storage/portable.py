"""The portable implementation (SQLite): cached Core statements run with executemany, inside a
savepoint so a check constraint firing halfway leaves nothing of the batch behind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from xinren.ledger.model import Account, Balance, Hold, HoldStatus
from xinren.ledger.storage.rows import (
    Loaded,
    Rows,
    StoredOp,
    Written,
    account_from_row,
    hold_from_row,
    paused_ms,
    stored_op,
)
from xinren.ledger.tables import accounts, entries, holds, transfers

_SELECT_HOLDS = (
    select(holds)
    .where(holds.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(holds.c.id)
    .with_for_update()
)
_SELECT_ACCOUNTS = (
    select(accounts)
    .where(
        or_(
            accounts.c.code.in_(bindparam("codes", expanding=True)),
            accounts.c.id.in_(bindparam("ids", expanding=True)),
        )
    )
    .order_by(accounts.c.id)
    .with_for_update()
)
_SELECT_EXISTING = (
    select(
        transfers.c.id,
        transfers.c.kind,
        transfers.c.idempotency_key,
        transfers.c.payload_hash,
        transfers.c.created_at,
        transfers.c.hold_id,
        holds.c.id.label("new_hold_id"),
    )
    .outerjoin(holds, holds.c.transfer_id == transfers.c.id)
    .where(transfers.c.idempotency_key.in_(bindparam("keys", expanding=True)))
)
_INSERT_TRANSFERS = (
    sqlite.insert(transfers)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(transfers.c.id, transfers.c.idempotency_key)
)
_INSERT_ENTRIES = entries.insert()
_UPDATE_BALANCES = (
    update(accounts)
    .where(accounts.c.id == bindparam("aid"))
    .values(
        debits_posted=accounts.c.debits_posted + bindparam("dp"),
        credits_posted=accounts.c.credits_posted + bindparam("cp"),
        debits_pending=accounts.c.debits_pending + bindparam("dq"),
        credits_pending=accounts.c.credits_pending + bindparam("cq"),
    )
)
_INSERT_HOLDS = holds.insert().returning(holds.c.id, holds.c.transfer_id)
_UPDATE_HOLD = (
    update(holds)
    .where(holds.c.id == bindparam("hid"), holds.c.status == HoldStatus.PENDING.value)
    .values(
        status=bindparam("st"),
        expires_at=bindparam("exp"),
        paused_remaining_ms=bindparam("paused"),
        posted_amount=bindparam("posted"),
        resolved_by=bindparam("by"),
        resolved_at=bindparam("at"),
    )
)
_CHUNK = 500


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def load_portable(
    session: Session, hold_ids: list[int], codes: list[str], keys: list[str]
) -> Loaded:
    held: dict[int, Hold] = {}
    for chunk in _chunks(hold_ids):
        for r in session.execute(_SELECT_HOLDS, {"ids": list(chunk)}).mappings():
            held[r["id"]] = hold_from_row(r)
    ids = sorted({i for h in held.values() for i in (h.debit_account_id, h.credit_account_id)})
    found_accounts: dict[str, Account] = {}
    for chunk in _chunks(codes):
        for r in session.execute(_SELECT_ACCOUNTS, {"codes": list(chunk), "ids": []}).mappings():
            found_accounts[r["code"]] = account_from_row(r)
    for chunk in _chunks(ids):
        for r in session.execute(_SELECT_ACCOUNTS, {"codes": [], "ids": list(chunk)}).mappings():
            found_accounts[r["code"]] = account_from_row(r)
    existing: dict[str, StoredOp] = {}
    for chunk in _chunks(keys):
        for r in session.execute(_SELECT_EXISTING, {"keys": list(chunk)}).mappings():
            existing[r["idempotency_key"]] = stored_op(r)
    return Loaded(found_accounts, held, existing)


def write_portable(session: Session, rows: Rows) -> Written:
    # A savepoint (in-process on SQLite): if a check constraint fires halfway, nothing of the
    # batch stays in the caller's transaction.
    with session.begin_nested():
        return _write_portable_rows(session, rows)


def _write_portable_rows(session: Session, rows: Rows) -> Written:
    claimed = _claim_transfers(session, rows)
    _write_entries(session, rows, claimed)
    new_holds = _insert_holds(session, rows, claimed)
    changed = _update_holds(session, rows, claimed)
    return Written(claimed, new_holds, changed)


def _claim_transfers(session: Session, rows: Rows) -> dict[str, int]:
    """Insert the transfers, skipping keys already used: the transfer id of each claimed key."""
    claimed: dict[str, int] = {}
    for chunk in _chunks(rows.transfers):
        params = [
            dict(
                idempotency_key=k,
                kind=kind,
                payload_hash=h,
                reason=reason,
                refs=json.loads(refs) if refs else None,
                hold_id=hid,
                created_at=at,
            )
            for k, kind, h, reason, refs, hid, at in chunk
        ]
        for tid, key in session.execute(_INSERT_TRANSFERS, params):
            claimed[key] = tid
    return claimed


def _write_entries(session: Session, rows: Rows, claimed: dict[str, int]) -> None:
    """The claimed transfers' journal entries, and each account's totals moved by their sum."""
    entry_rows = [
        dict(
            transfer_id=claimed[k],
            account_id=aid,
            debits_posted=b.debits_posted,
            credits_posted=b.credits_posted,
            debits_pending=b.debits_pending,
            credits_pending=b.credits_pending,
        )
        for k, aid, b in rows.entries
        if k in claimed
    ]
    if not entry_rows:
        return
    session.execute(_INSERT_ENTRIES, entry_rows)
    totals: dict[int, Balance] = {}
    for k, aid, b in rows.entries:
        if k in claimed:
            totals[aid] = totals.get(aid, Balance()) + b
    session.execute(
        _UPDATE_BALANCES,
        [
            dict(
                aid=aid,
                dp=b.debits_posted,
                cp=b.credits_posted,
                dq=b.debits_pending,
                cq=b.credits_pending,
            )
            for aid, b in sorted(totals.items())
        ],
    )


def _insert_holds(session: Session, rows: Rows, claimed: dict[str, int]) -> dict[str, int]:
    """The holds the claimed transfers create: the hold id of each one's key."""
    new_holds: dict[str, int] = {}
    hold_rows = [
        dict(
            transfer_id=claimed[k],
            debit_account_id=h.debit_account_id,
            credit_account_id=h.credit_account_id,
            amount=h.amount,
            currency=h.currency,
            status=HoldStatus.PENDING.value,
            expires_at=h.expires_at,
            expiry_action=h.expiry_action.value if h.expiry_action else None,
        )
        for k, h in rows.new_holds
        if k in claimed
    ]
    if hold_rows:
        key_of = {tid: k for k, tid in claimed.items()}
        for chunk in _chunks(hold_rows):
            for hid, tid in session.execute(_INSERT_HOLDS, list(chunk)):
                new_holds[key_of[tid]] = hid
    return new_holds


def _update_holds(session: Session, rows: Rows, claimed: dict[str, int]) -> int:
    """Change the holds the claimed transfers change, only while still pending: how many did."""
    changed = 0
    if not rows.changed_holds:
        return changed
    at = rows.transfers[0][6] if rows.transfers else None
    for k, h, resolved in rows.changed_holds:
        if k not in claimed:
            continue
        res = session.execute(
            _UPDATE_HOLD,
            dict(
                hid=h.id,
                st=h.status.value,
                exp=h.expires_at,
                paused=paused_ms(h),
                posted=h.posted_amount,
                by=claimed[k] if resolved else None,
                at=at if resolved else None,
            ),
        )
        changed += int(res.rowcount)  # type: ignore[attr-defined]
    return changed
