"""The portable implementation (SQLite): fixed SQL text run on the DBAPI cursor of the session's
own connection (sqlite3 caches each text's compiled statement), tuples not dicts, and a batch's
lists passed as ONE JSON parameter read with ``json_each`` instead of an expanding ``IN``.

SQLite serialises writers (``BEGIN IMMEDIATE`` in `xinren.db`): nothing can claim a key or
change a hold between this transaction's load and its write, so the write needs no savepoint.
The balances are updated FIRST, in one statement: if a check constraint fires (the model checks
first; this is the last line of defence) SQLite undoes that statement and nothing of the batch
has been written yet. Timestamps are stored as SQLAlchemy's `DateTime` stores them on SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.ledger.model import Account, Balance, Hold
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

_ACCOUNT_COLS = (
    "id, code, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, "
    "debits_posted, credits_posted, debits_pending, credits_pending, owner"
)
_SELECT_HOLDS = (
    "SELECT id, debit_account_id, credit_account_id, amount, currency, status, expires_at, "
    "expiry_action, paused_remaining_ms, posted_amount FROM ledger_holds "
    "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
)
_SELECT_ACCOUNTS = (
    f"SELECT {_ACCOUNT_COLS} FROM ledger_accounts WHERE code IN (SELECT value FROM json_each(?)) "
    f"UNION SELECT {_ACCOUNT_COLS} FROM ledger_accounts "
    "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id"
)
_SELECT_EXISTING = (
    "SELECT t.id, t.kind, t.idempotency_key, t.payload_hash, t.created_at, t.hold_id, "
    "h.id AS new_hold_id FROM ledger_transfers t LEFT JOIN ledger_holds h ON h.transfer_id = t.id "
    "WHERE t.idempotency_key IN (SELECT value FROM json_each(?))"
)
# One statement for every account a batch moves: SQLite checks the constraints per statement.
_UPDATE_BALANCES = (
    "UPDATE ledger_accounts SET debits_posted = debits_posted + v.value ->> 1, "
    "credits_posted = credits_posted + v.value ->> 2, "
    "debits_pending = debits_pending + v.value ->> 3, "
    "credits_pending = credits_pending + v.value ->> 4 "
    "FROM json_each(?) AS v WHERE ledger_accounts.id = v.value ->> 0"
)
_INSERT_TRANSFERS = (
    "INSERT INTO ledger_transfers "
    "(idempotency_key, kind, payload_hash, reason, refs, hold_id, created_at) "
    "SELECT v.value ->> 0, v.value ->> 1, v.value ->> 2, v.value ->> 3, v.value ->> 4, "
    "v.value ->> 5, ? FROM json_each(?) AS v WHERE true "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"
)
_INSERT_ENTRIES = (
    "INSERT INTO ledger_entries (transfer_id, account_id, debits_posted, credits_posted, "
    "debits_pending, credits_pending) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_HOLD = (
    "INSERT INTO ledger_holds (transfer_id, debit_account_id, credit_account_id, amount, "
    "currency, status, expires_at, expiry_action) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) "
    "RETURNING id"
)
_UPDATE_HOLD = (
    "UPDATE ledger_holds SET status = ?, expires_at = ?, paused_remaining_ms = ?, "
    "posted_amount = ?, resolved_by = ?, resolved_at = ? WHERE id = ? AND status = 'pending'"
)


def stored_time(value: datetime | None) -> str | None:
    """A timestamp as SQLAlchemy's `DateTime` writes it on SQLite (UTC, naive, microseconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _cursor(session: Session) -> sqlite3.Cursor:
    raw = session.connection().connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    cur.row_factory = sqlite3.Row
    return cur  # type: ignore[no-any-return]


def load_portable(
    session: Session, hold_ids: list[int], codes: list[str], keys: list[str]
) -> Loaded:
    """At most three statements, whatever the batch size (``BEGIN IMMEDIATE`` already holds
    the database's write lock, which stands in for ``FOR UPDATE``)."""
    cur = _cursor(session)
    held: dict[int, Hold] = {}
    if hold_ids:
        for r in cur.execute(_SELECT_HOLDS, (json.dumps(hold_ids),)):
            held[r["id"]] = hold_from_row(r)
    ids = sorted({i for h in held.values() for i in (h.debit_account_id, h.credit_account_id)})
    found_accounts: dict[str, Account] = {}
    for r in cur.execute(_SELECT_ACCOUNTS, (json.dumps(codes), json.dumps(ids))):
        found_accounts[r["code"]] = account_from_row(r)
    existing: dict[str, StoredOp] = {}
    for r in cur.execute(_SELECT_EXISTING, (json.dumps(keys),)):
        existing[r["idempotency_key"]] = stored_op(r)
    cur.close()
    return Loaded(found_accounts, held, existing)


def write_portable(session: Session, rows: Rows) -> Written:
    cur = _cursor(session)
    try:
        _update_balances(cur, rows.entries)
        claimed = _claim_transfers(cur, rows)
        if len(claimed) < len(rows.transfers):  # never expected under BEGIN IMMEDIATE: undo
            # the moves of keys not claimed, so what stays matches the entries (the caller
            # then raises ConcurrentRequest and rolls back)
            _update_balances(
                cur,
                [
                    (k, aid, Balance(*(-x for x in b)))
                    for k, aid, b in rows.entries
                    if k not in claimed
                ],
            )
        cur.executemany(
            _INSERT_ENTRIES,
            [(claimed[k], aid, *b) for k, aid, b in rows.entries if k in claimed],
        )
        new_holds = _insert_holds(cur, rows, claimed)
        changed = _update_holds(cur, rows, claimed)
    except sqlite3.IntegrityError as err:
        raise IntegrityError(_UPDATE_BALANCES, None, err) from err
    finally:
        cur.close()
    return Written(claimed, new_holds, changed)


def _update_balances(cur: sqlite3.Cursor, moves: Sequence[tuple[str, int, Balance]]) -> None:
    """Each account's totals moved by the sum of its entries, in one statement."""
    totals: dict[int, list[int]] = {}
    for _, aid, b in moves:
        t = totals.get(aid)
        if t is None:
            totals[aid] = list(b)
        else:
            for n in range(4):
                t[n] += b[n]
    changes = [[aid, *t] for aid, t in sorted(totals.items()) if any(t)]
    if changes:
        cur.execute(_UPDATE_BALANCES, (json.dumps(changes),))


def _claim_transfers(cur: sqlite3.Cursor, rows: Rows) -> dict[str, int]:
    """Insert the transfers in one statement: the transfer id of each claimed key."""
    if not rows.transfers:
        return {}
    at = stored_time(rows.transfers[0][6])
    data = json.dumps([r[:6] for r in rows.transfers])
    return {key: tid for tid, key in cur.execute(_INSERT_TRANSFERS, (at, data))}


def _insert_holds(cur: sqlite3.Cursor, rows: Rows, claimed: dict[str, int]) -> dict[str, int]:
    """The holds the claimed transfers create: the hold id of each one's key."""
    new_holds: dict[str, int] = {}
    for k, h in rows.new_holds:
        if k in claimed:
            params = (
                claimed[k],
                h.debit_account_id,
                h.credit_account_id,
                h.amount,
                h.currency,
                stored_time(h.expires_at),
                h.expiry_action.value if h.expiry_action else None,
            )
            new_holds[k] = cur.execute(_INSERT_HOLD, params).fetchone()[0]
    return new_holds


def _update_holds(cur: sqlite3.Cursor, rows: Rows, claimed: dict[str, int]) -> int:
    """Change the holds the claimed transfers change, only while still pending: how many did."""
    if not rows.changed_holds:
        return 0
    at = stored_time(rows.transfers[0][6]) if rows.transfers else None
    params: Sequence[tuple[Any, ...]] = [
        (
            h.status.value,
            stored_time(h.expires_at),
            paused_ms(h),
            h.posted_amount,
            claimed[k] if resolved else None,
            at if resolved else None,
            h.id,
        )
        for k, h, resolved in rows.changed_holds
        if k in claimed
    ]
    cur.executemany(_UPDATE_HOLD, params)
    return max(cur.rowcount, 0)
