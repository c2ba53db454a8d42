"""How a sealed line reads its rows: which columns of an entry, its transfer, account and hold
a version 2 line holds, in which order, and how a value stored on either database becomes the
same text. The sealer writes lines with these and verify rebuilds them with these, so a line
means one thing (`tests/ledger/test_verify_lines.py` pins the format)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    Text,
    cast,
    exists,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from xinren.ledger import model
from xinren.ledger.model import Balance
from xinren.ledger.model.chain import _canonical
from xinren.ledger.tables import accounts, entries, holds, transfers

CHUNK = 1000  # ids per IN list
STREAM = 5000  # rows per fetch when verify streams a whole table


class _Instant(TypeDecorator[object]):
    """A timestamp as stored. SQLite's text is parsed here, and a tampered value that does not
    parse stays text (its line then differs) instead of raising inside `verify`."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(DateTime(timezone=True))

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name != "sqlite":
            return None  # the driver gives a datetime already: no per-row call at all
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: object, dialect: Dialect) -> object:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return value
        return value


class _JsonText(TypeDecorator[object]):
    """A JSON column read as its text and parsed here, alike on both databases; text that does
    not parse stays text instead of raising."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: object, dialect: Dialect) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


def instant(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(col, _Instant())


def json_text(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(col, _JsonText())


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


_ENTRY_COLS = (
    entries.c.id,
    entries.c.transfer_id,
    entries.c.account_id,
    entries.c.debits_posted,
    entries.c.credits_posted,
    entries.c.debits_pending,
    entries.c.credits_pending,
)
_TRANSFER_COLS = (
    transfers.c.id,
    transfers.c.kind,
    transfers.c.idempotency_key,
    transfers.c.payload_hash,
    transfers.c.reason,
    json_text(transfers.c.refs),
    transfers.c.hold_id,
    instant(transfers.c.created_at),
)
_ACCOUNT_COLS = (
    accounts.c.id,
    accounts.c.code,
    accounts.c.currency,
    accounts.c.debits_must_not_exceed_credits,
    accounts.c.credits_must_not_exceed_debits,
    instant(accounts.c.created_at),
    accounts.c.owner,  # the context that alone moves the account (an escrow is orders')
)
_HOLD_COLS = (  # the hold a transfer created: the columns that never change
    holds.c.id,
    holds.c.transfer_id,
    holds.c.debit_account_id,
    holds.c.credit_account_id,
    holds.c.amount,
    holds.c.currency,
    holds.c.expiry_action,
)
ENTRY_LINE = (*_ENTRY_COLS, *_TRANSFER_COLS, *_ACCOUNT_COLS, *_HOLD_COLS)
TRANSFER_LINE = (*_TRANSFER_COLS, *_HOLD_COLS)
WIDTH = len(ENTRY_LINE)
_T = len(_ENTRY_COLS)  # where the transfer's columns start in an entry row

HAS_ENTRIES = exists().where(entries.c.transfer_id == transfers.c.id)


def entry_query(cond: ColumnElement[bool], *extra: ColumnElement[Any]) -> Select[Any]:
    """Entries with everything their version 2 line holds, in id order (outer joins: an entry
    whose transfer or account is missing is still read, sealed and reported)."""
    return (
        select(*ENTRY_LINE, *extra)
        .select_from(
            entries.outerjoin(transfers, transfers.c.id == entries.c.transfer_id)
            .outerjoin(accounts, accounts.c.id == entries.c.account_id)
            .outerjoin(holds, holds.c.transfer_id == transfers.c.id)
        )
        .where(cond)
        .order_by(entries.c.id)
    )


def entry_line(row: Sequence[Any]) -> str:
    return model.chain_line("entry", row[:WIDTH])


# `model.chain_line`'s encoder built once: json.dumps builds a new one per call with these
# options. Same options, same default, so the same text (tests/ledger/test_seal_lag.py).
_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_canonical
).encode
_A, _H = _T + len(_TRANSFER_COLS), _T + len(_TRANSFER_COLS) + len(_ACCOUNT_COLS)
_CACHED = 100_000  # transfers, accounts and holds remembered per statement before starting over


def block_start(block_id: int, prev_hash: str) -> Any:
    """A block's hash before its lines (`model.BlockHasher`'s start); feed it with `feed`."""
    return hashlib.sha256(f"{block_id}|{prev_hash}\n".encode())


def feed(h: Any, lines: Sequence[str]) -> None:
    """`model.BlockHasher.add` for many lines in one update: the same bytes, so the same hash
    (a hash does not depend on how its input is split)."""
    if lines:
        h.update("".join([f"{line}\n" for line in lines]).encode())


class EntryLines:
    """`entry_line` for the rows of ONE statement, fast: a JSON array is its items' texts joined
    by commas, so the transfer's, account's and hold's parts are encoded once per row of theirs
    (they repeat on every entry) and spliced. Only within one statement: there, one id means
    one set of column values."""

    __slots__ = ("_accounts", "_holds", "_transfers")

    def __init__(self) -> None:
        self._transfers: dict[object, str] = {}
        self._accounts: dict[object, str] = {}
        self._holds: dict[object, str] = {}

    def __call__(self, row: Sequence[Any]) -> str:
        t, a, h = self._transfers, self._accounts, self._holds
        tt = t.get(row[_T])
        if tt is None:
            if len(t) >= _CACHED:
                t.clear()
            tt = t[row[_T]] = _ENCODE(tuple(row[_T:_A]))[1:-1]
        at = a.get(row[_A])
        if at is None:
            if len(a) >= _CACHED:
                a.clear()
            at = a[row[_A]] = _ENCODE(tuple(row[_A:_H]))[1:-1]
        ht = h.get(row[_H])
        if ht is None:
            if len(h) >= _CACHED:
                h.clear()
            ht = h[row[_H]] = _ENCODE(tuple(row[_H:WIDTH]))[1:-1]
        own = row[:_T]
        if all(type(v) is int for v in own):  # as stored; a tampered value takes the encoder
            return f'["entry",{",".join(map(str, own))},{tt},{at},{ht}]'
        return f'["entry",{_ENCODE(tuple(own))[1:-1]},{tt},{at},{ht}]'


def entry_line_v1(row: Sequence[Any]) -> str | None:
    """The version 1 line of an entry row; None without a transfer (version 1 joined transfers,
    so such an entry was never in a version 1 block)."""
    if row[_T] is None:
        return None
    change = Balance(row[3], row[4], row[5], row[6])
    kind, key, digest = row[_T + 1], row[_T + 2], row[_T + 3]
    return model.entry_line(row[0], row[1], row[2], change, kind, key, digest)


def transfer_lines(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The line of each of these transfers (ones with no entries), by id."""
    lines: dict[int, str] = {}
    for chunk in chunks(ids):
        q = (
            select(*TRANSFER_LINE)
            .select_from(transfers.outerjoin(holds, holds.c.transfer_id == transfers.c.id))
            .where(transfers.c.id.in_(chunk))
        )
        for row in session.execute(q):
            lines[row[0]] = model.chain_line("transfer", tuple(row))
    return lines
