"""Sealing the journal into a hash chain, and verifying the whole ledger from it.

Writers never touch the chain: they append entries with no seal. A sealer (`xinren tick`, the
server loop, `xinren ledger seal`) later takes every committed unsealed entry, in id order, into
the next block: ``hash = sha256(block no, previous hash, lines)``. Entries that commit late
(a lower id committing after a higher one was sealed) simply land in a later block, so the chain
never depends on commit order and concurrent writers never queue on one lock. Changing, deleting
or re-sealing a sealed entry breaks its block's hash, and the chain shows the first broken block.

What a version 2 block covers (every block sealed since migration 0014; older blocks keep
version 1, whose line held the entry and its transfer's kind, key and payload hash only):

- its own columns: version, entry count, transfer horizon, listed and late transfers, sealed_at;
- each entry: all its columns; every column of its transfer (kind, idempotency key, payload hash,
  reason, refs as sorted JSON, hold id, created_at as UTC text); its account's unchanging ones
  (code, currency, both limit flags, created_at, owner); for a hold-creating transfer, the hold's
  unchanging ones (id, transfer, debit and credit account, amount, currency, expiry action).
  An entry whose transfer or account does not exist is sealed as it is, and reported;
- each transfer with no entries (extend, pause and resume move nothing) as a line of its own,
  with the same transfer and hold columns. Entries carry their seal and transfers do not, so
  the sealer walks transfer ids: a block records the highest id it looked at (its horizon) and
  the ids up to it it could not see yet (taken by a transaction not yet committed; kept for ten
  minutes), and the next block looks at both again.

Not in any hash, so checked another way: account balances (rebuilt from the journal); a hold's
status, posted_amount, resolved_by and resolved_at, which change after sealing (they must agree
with the sealed transfer that resolved the hold and with what its entries moved). Not checked:
a hold's expires_at and pause, accounts with no entries, anything not sealed yet, and a rewrite
of the whole chain from the tampered block on (the chain has no outside anchor: keeping the head
hash somewhere else would catch that).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    Text,
    cast,
    exists,
    func,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.errors import XinrenError
from xinren.ledger import model
from xinren.ledger.model import CHAIN_VERSION, GENESIS, Balance, Hold, HoldStatus, Kind
from xinren.ledger.tables import accounts, entries, holds, seals, transfers
from xinren.money import Money

_SEAL_LOCK = 0x5EA1  # PostgreSQL advisory lock id: one sealer at a time
_CHUNK = 1000  # ids per IN list
_SCAN = 200_000  # transfer ids one block looks at for transfers with no entries
_LATE_FOR = timedelta(minutes=10)  # how long an id the sealer could not see is looked for again
_MAX_LATE = 256
_SHOWN = 20  # problems of one kind named before "... and N more"
_STREAM = 5000  # rows per fetch when verify streams a whole table


# --- reading values as stored -----------------------------------------------------------------


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


def _instant(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(col, _Instant())


def _json(col: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(col, _JsonText())


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


# --- what a line holds ------------------------------------------------------------------------

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
    _json(transfers.c.refs),
    transfers.c.hold_id,
    _instant(transfers.c.created_at),
)
_ACCOUNT_COLS = (
    accounts.c.id,
    accounts.c.code,
    accounts.c.currency,
    accounts.c.debits_must_not_exceed_credits,
    accounts.c.credits_must_not_exceed_debits,
    _instant(accounts.c.created_at),
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
_ENTRY_LINE = (*_ENTRY_COLS, *_TRANSFER_COLS, *_ACCOUNT_COLS, *_HOLD_COLS)
_TRANSFER_LINE = (*_TRANSFER_COLS, *_HOLD_COLS)
_WIDTH = len(_ENTRY_LINE)
_T = len(_ENTRY_COLS)  # where the transfer's columns start in an entry row

_HAS_ENTRIES = exists().where(entries.c.transfer_id == transfers.c.id)


def _entry_query(cond: ColumnElement[bool], *extra: ColumnElement[Any]) -> Select[Any]:
    """Entries with everything their version 2 line holds, in id order (outer joins: an entry
    whose transfer or account is missing is still read, sealed and reported)."""
    return (
        select(*_ENTRY_LINE, *extra)
        .select_from(
            entries.outerjoin(transfers, transfers.c.id == entries.c.transfer_id)
            .outerjoin(accounts, accounts.c.id == entries.c.account_id)
            .outerjoin(holds, holds.c.transfer_id == transfers.c.id)
        )
        .where(cond)
        .order_by(entries.c.id)
    )


def _entry_line(row: Sequence[Any]) -> str:
    return model.chain_line("entry", row[:_WIDTH])


def _entry_line_v1(row: Sequence[Any]) -> str | None:
    """The version 1 line of an entry row; None without a transfer (version 1 joined transfers,
    so such an entry was never in a version 1 block)."""
    if row[_T] is None:
        return None
    change = Balance(row[3], row[4], row[5], row[6])
    kind, key, digest = row[_T + 1], row[_T + 2], row[_T + 3]
    return model.entry_line(row[0], row[1], row[2], change, kind, key, digest)


def _transfer_lines(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The line of each of these transfers (ones with no entries), by id."""
    lines: dict[int, str] = {}
    for chunk in _chunks(ids):
        q = (
            select(*_TRANSFER_LINE)
            .select_from(transfers.outerjoin(holds, holds.c.transfer_id == transfers.c.id))
            .where(transfers.c.id.in_(chunk))
        )
        for row in session.execute(q):
            lines[row[0]] = model.chain_line("transfer", tuple(row))
    return lines


# --- sealing ----------------------------------------------------------------------------------


def _sealer_state(head: Any) -> tuple[int, list[tuple[int, int]]]:
    """Where the last block's walk over transfer ids stopped, and the ids it could not see yet.
    A version 1 block (or none) walked nothing, so the walk starts at the first transfer."""
    if head is None or head.version != CHAIN_VERSION or head.transfer_horizon is None:
        return 0, []
    raw = head.late_transfer_ids if isinstance(head.late_transfer_ids, list) else []
    late = [(int(p[0]), int(p[1])) for p in raw if isinstance(p, list) and len(p) == 2]
    return int(head.transfer_horizon), late


def _scan(session: Session, after: int, late: Sequence[int]) -> tuple[list[int], list[int]]:
    """Transfer ids after `after` (up to `_SCAN` of them) and the late ids committed since;
    and which of those have no entries."""
    seen: list[int] = []
    lone: list[int] = []
    # A scalar subquery, not EXISTS: PostgreSQL's generic plan may turn EXISTS into a hash of the
    # whole journal (a scan of every entry at each tick); this stays one index probe per row.
    an_entry = select(entries.c.id).where(entries.c.transfer_id == transfers.c.id).limit(1)
    base = select(transfers.c.id, an_entry.scalar_subquery().label("an_entry"))
    queries = [base.where(transfers.c.id > after).order_by(transfers.c.id).limit(_SCAN)]
    queries += [base.where(transfers.c.id.in_(chunk)) for chunk in _chunks(late)]
    for q in queries:
        for tid, entry in session.execute(q):
            seen.append(tid)
            if entry is None:
                lone.append(tid)
    return seen, lone


def seal(session: Session, clock: Clock, max_entries: int = 50_000) -> int:
    """Seal committed unsealed entries, and transfers that have none, into the next block;
    returns how many lines (entries and transfers) it sealed."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK})
    head = session.execute(
        select(
            seals.c.id,
            seals.c.hash,
            seals.c.version,
            seals.c.transfer_horizon,
            _json(seals.c.late_transfer_ids).label("late_transfer_ids"),
        )
        .order_by(seals.c.id.desc())
        .limit(1)
    ).first()
    block_id, prev = (head.id + 1, head.hash) if head else (1, GENESIS)
    after, late_before = _sealer_state(head)
    now = clock.now()
    # Transfers first: the entries of a transfer seen here are committed, so read below too.
    seen, lone_ids = _scan(session, after, [i for i, _ in late_before])
    horizon = max((i for i in seen if i > after), default=after)
    rows = session.execute(_entry_query(entries.c.seal_id.is_(None)).limit(max_entries)).all()
    lone = _transfer_lines(session, sorted(lone_ids))
    if not rows and not lone and horizon == after:
        return 0
    late = [
        list(p)
        for p in model.still_late(late_before, after, horizon, seen, now, _LATE_FOR, _MAX_LATE)
    ]
    listed = sorted(lone)
    lines = [
        model.block_header(CHAIN_VERSION, len(rows), horizon, listed, late, now),
        *(_entry_line(r) for r in rows),
        *(lone[i] for i in listed),
    ]
    session.execute(
        seals.insert(),
        dict(
            id=block_id,
            prev_hash=prev,
            hash=model.block_hash(block_id, prev, lines),
            entry_count=len(rows),
            sealed_at=now,
            version=CHAIN_VERSION,
            transfer_horizon=horizon,
            transfer_ids=listed,
            late_transfer_ids=late,
        ),
    )
    ids = [r[0] for r in rows]
    for chunk in _chunks(ids):
        session.execute(
            update(entries)
            .where(entries.c.id.in_(chunk), entries.c.seal_id.is_(None))
            .values(seal_id=block_id)
        )
    return len(rows) + len(lone)


# --- verifying --------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What `verify` found. `problems` names each inconsistency (which row, what is wrong), in
    the order checked; callers that check more (an owner's books against its ledger accounts)
    append theirs."""

    accounts: int = 0
    entries: int = 0
    blocks: int = 0
    unsealed: int = 0  # entries not sealed yet
    unsealed_transfers: int = 0  # transfers with no entries not sealed yet
    totals: dict[str, Balance] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Found:
    """Problems of one kind: the first `_SHOWN` by name, then how many more (a broken database
    can have millions, and the report must stay readable)."""

    def __init__(self, report: VerifyReport) -> None:
        self.report, self.n = report, 0

    def add(self, problem: str) -> None:
        self.n += 1
        if self.n <= _SHOWN:
            self.report.problems.append(problem)


@contextmanager
def _found(report: VerifyReport, what: str) -> Iterator[_Found]:
    found = _Found(report)
    yield found
    if found.n > _SHOWN:
        report.problems.append(f"... and {found.n - _SHOWN} more {what}")


def _money(amount: int, currency: str) -> str:
    try:
        return str(Money(amount, currency))
    except XinrenError:  # a currency Xinren does not know: only a tampered row has one
        return f"{amount} {currency} minor units"


def verify(session: Session) -> VerifyReport:
    """Rebuild every balance from the journal and check sums, limits, holds, orphans, that every
    transfer balances, and the chain. Run it in one snapshot (REPEATABLE READ on PostgreSQL)
    while writers write."""
    report = VerifyReport()
    _check_balances(session, report)
    _check_orphans(session, report)
    _check_transfers(session, report)
    _check_holds(session, report)
    blocks = _check_chain(session, report)
    _check_lone_transfers(session, report, blocks)
    return report


def _check_balances(session: Session, report: VerifyReport) -> None:
    """Stored totals equal the journal's, limits hold, pending totals equal the pending holds,
    and every currency sums to zero."""
    rebuilt: dict[int, Balance] = defaultdict(Balance)
    q = select(
        entries.c.account_id,
        func.sum(entries.c.debits_posted),
        func.sum(entries.c.credits_posted),
        func.sum(entries.c.debits_pending),
        func.sum(entries.c.credits_pending),
        func.count(),
    ).group_by(entries.c.account_id)
    for aid, dp, cp, dq, cq, n in session.execute(q):
        rebuilt[aid] = Balance(int(dp), int(cp), int(dq), int(cq))
        report.entries += int(n)

    pending_by_account: dict[int, Balance] = defaultdict(Balance)
    for debit_id, credit_id, amount in session.execute(
        select(holds.c.debit_account_id, holds.c.credit_account_id, holds.c.amount).where(
            holds.c.status == HoldStatus.PENDING.value
        )
    ):
        pending_by_account[debit_id] += Balance(debits_pending=amount)
        pending_by_account[credit_id] += Balance(credits_pending=amount)

    per_currency: dict[str, Balance] = defaultdict(Balance)
    a = accounts.c
    q_accounts = select(
        a.id,
        a.code,
        a.currency,
        a.debits_must_not_exceed_credits,
        a.credits_must_not_exceed_debits,
        a.debits_posted,
        a.credits_posted,
        a.debits_pending,
        a.credits_pending,
    ).order_by(a.id)
    for row in session.execute(q_accounts):
        report.accounts += 1
        stored = Balance(
            row.debits_posted, row.credits_posted, row.debits_pending, row.credits_pending
        )
        journal = rebuilt.get(row.id, Balance())
        per_currency[row.currency] += stored
        if stored != journal:
            report.problems.append(
                f"account {row.code!r}: stored totals {stored} differ from the journal's {journal}"
            )
        if row.debits_must_not_exceed_credits and (
            stored.debits_posted + stored.debits_pending > stored.credits_posted
        ):
            report.problems.append(f"account {row.code!r} breaks debits_must_not_exceed_credits")
        if row.credits_must_not_exceed_debits and (
            stored.credits_posted + stored.credits_pending > stored.debits_posted
        ):
            report.problems.append(f"account {row.code!r} breaks credits_must_not_exceed_debits")
        held = pending_by_account.get(row.id, Balance())
        if (held.debits_pending, held.credits_pending) != (
            stored.debits_pending,
            stored.credits_pending,
        ):
            report.problems.append(
                f"account {row.code!r}: pending totals ({stored.debits_pending} debit, "
                f"{stored.credits_pending} credit) differ from its pending holds "
                f"({held.debits_pending}, {held.credits_pending})"
            )
    report.totals = dict(per_currency)
    for currency, total in sorted(per_currency.items()):
        if total.debits_posted != total.credits_posted:
            diff = _money(total.credits_posted - total.debits_posted, currency)
            report.problems.append(f"{currency}: posted balances sum to {diff}, not 0")
        if total.debits_pending != total.credits_pending:
            diff = _money(total.credits_pending - total.debits_pending, currency)
            report.problems.append(f"{currency}: pending balances sum to {diff}, not 0")


def _check_orphans(session: Session, report: VerifyReport) -> None:
    """Rows that name a row that does not exist (the journal has no foreign keys)."""
    e = entries.c
    with _found(report, "entries on missing accounts") as found:
        q_accounts = (
            select(e.id, e.transfer_id, e.account_id)
            .select_from(entries.outerjoin(accounts, accounts.c.id == e.account_id))
            .where(accounts.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, tid, aid in session.execute(q_accounts):
            found.add(f"entry {eid} (transfer {tid}) is on account {aid}, which does not exist")
    with _found(report, "entries of missing transfers") as found:
        q_transfers = (
            select(e.id, e.transfer_id, e.account_id)
            .select_from(entries.outerjoin(transfers, transfers.c.id == e.transfer_id))
            .where(transfers.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, tid, aid in session.execute(q_transfers):
            found.add(
                f"entry {eid} (account {aid}) belongs to transfer {tid}, which does not exist"
            )
    with _found(report, "entries sealed into missing blocks") as found:
        q_seals = (
            select(e.id, e.seal_id)
            .select_from(entries.outerjoin(seals, seals.c.id == e.seal_id))
            .where(e.seal_id.is_not(None), seals.c.id.is_(None))
            .order_by(e.id)
        )
        for eid, sid in session.execute(q_seals):
            found.add(f"entry {eid} is sealed into block {sid}, which does not exist")
    with _found(report, "holds naming missing rows") as found:
        for problem in _hold_orphans(session):
            found.add(problem)
    with _found(report, "transfers naming missing holds") as found:
        q_holds = (
            select(transfers.c.id, transfers.c.kind, transfers.c.hold_id)
            .select_from(transfers.outerjoin(holds, holds.c.id == transfers.c.hold_id))
            .where(transfers.c.hold_id.is_not(None), holds.c.id.is_(None))
            .order_by(transfers.c.id)
        )
        for tid, kind, hid in session.execute(q_holds):
            found.add(f"transfer {tid} ({kind}) names hold {hid}, which does not exist")


def _hold_orphans(session: Session) -> Iterator[str]:
    creator = transfers.alias("creator")
    debit, credit = accounts.alias("debit"), accounts.alias("credit")
    q = (
        select(
            holds.c.id,
            holds.c.transfer_id,
            holds.c.debit_account_id,
            holds.c.credit_account_id,
            creator.c.id.label("creator"),
            debit.c.id.label("debit"),
            credit.c.id.label("credit"),
        )
        .select_from(
            holds.outerjoin(creator, creator.c.id == holds.c.transfer_id)
            .outerjoin(debit, debit.c.id == holds.c.debit_account_id)
            .outerjoin(credit, credit.c.id == holds.c.credit_account_id)
        )
        .where(or_(creator.c.id.is_(None), debit.c.id.is_(None), credit.c.id.is_(None)))
        .order_by(holds.c.id)
    )
    for r in session.execute(q):
        if r.creator is None:
            yield f"hold {r.id} was created by transfer {r.transfer_id}, which does not exist"
        if r.debit is None:
            yield f"hold {r.id}: its debit account {r.debit_account_id} does not exist"
        if r.credit is None:
            yield f"hold {r.id}: its credit account {r.credit_account_id} does not exist"


def _imbalance(amounts: Sequence[Any], currency: str | None = None) -> str:
    """Which side of a transfer's sums is off: posted, pending or both."""
    dp, cp, dq, cq = (int(a) for a in amounts)

    def fmt(a: int) -> str:
        return _money(a, currency) if currency else str(a)

    parts = []
    if dp != cp:
        parts.append(f"posted debits {fmt(dp)} against credits {fmt(cp)}")
    if dq != cq:
        parts.append(f"pending debits {fmt(dq)} against credits {fmt(cq)}")
    return "; ".join(parts) + ("" if currency else ", in minor units")


def _check_transfers(session: Session, report: VerifyReport) -> None:
    """Every transfer balances: from its entries alone (a leg on a missing account counts too),
    and per currency where the accounts are known. It has entries exactly when its kind moves
    money, and names a hold exactly when its kind changes one."""
    e = entries.c
    sums = (
        func.sum(e.debits_posted),
        func.sum(e.credits_posted),
        func.sum(e.debits_pending),
        func.sum(e.credits_pending),
    )
    off = (sums[0] != sums[1]) | (sums[2] != sums[3])
    named: set[int] = set()
    with _found(report, "unbalanced transfers") as found:
        q_all = (
            select(e.transfer_id, *sums).group_by(e.transfer_id).having(off).order_by(e.transfer_id)
        )
        for tid, *amounts in session.execute(q_all):
            named.add(tid)
            found.add(f"transfer {tid}: its entries do not balance ({_imbalance(amounts)})")
    with _found(report, "transfers unbalanced in one currency") as found:
        q_currency = (
            select(e.transfer_id, accounts.c.currency, *sums)
            .join(accounts, accounts.c.id == e.account_id)
            .group_by(e.transfer_id, accounts.c.currency)
            .having(off)
            .order_by(e.transfer_id, accounts.c.currency)
        )
        for tid, currency, *amounts in session.execute(q_currency):
            if tid in named:
                continue
            detail = _imbalance(amounts, currency)
            found.add(f"transfer {tid}: its {currency} entries do not balance ({detail})")
    with _found(report, "transfers whose kind does not fit") as found:
        for problem in _kind_problems(session):
            found.add(problem)


def _kind_problems(session: Session) -> Iterator[str]:
    moves = [k.value for k in model.MOVES_MONEY]
    changes = [k.value for k in model.CHANGES_A_HOLD]
    n = (
        select(entries.c.transfer_id, func.count().label("n"))
        .group_by(entries.c.transfer_id)
        .subquery()
    )
    t = transfers.c
    q = (
        select(t.id, t.kind, t.hold_id, n.c.n)
        .select_from(transfers.outerjoin(n, n.c.transfer_id == t.id))
        .where(
            or_(
                t.kind.in_(moves) & n.c.n.is_(None),
                t.kind.not_in(moves) & n.c.n.is_not(None),
                t.kind.in_(changes) & t.hold_id.is_(None),
                t.kind.not_in(changes) & t.hold_id.is_not(None),
            )
        )
        .order_by(t.id)
    )
    for tid, kind, hold_id, count in session.execute(q):
        if kind not in {k.value for k in Kind}:
            yield f"transfer {tid} has the unknown kind {kind!r}"
            continue
        if kind in moves and count is None:
            yield f"transfer {tid} ({kind}) has no journal entries"
        if kind not in moves and count is not None:
            yield f"transfer {tid} ({kind}) has {count} journal entries; {kind}s move no money"
        if kind in changes and hold_id is None:
            yield f"transfer {tid} ({kind}) names no hold"
        if kind not in changes and hold_id is not None:
            yield f"transfer {tid} ({kind}) names hold {hold_id}, but a {kind} changes no hold"


# --- holds: what changed after sealing must agree with what was sealed ------------------------

_RESOLVED_BY = {HoldStatus.POSTED.value: Kind.POST.value, HoldStatus.VOIDED.value: Kind.VOID.value}


def _check_holds(session: Session, report: VerifyReport) -> None:
    """A hold's status, posted_amount, resolved_by and resolved_at are not sealed (they change
    when it resolves): they must agree with the sealed transfer that resolved it, and with what
    that transfer's entries moved; the transfer that created it must have moved its amount."""
    with _found(report, "holds that disagree with the journal") as found:
        for problem in _hold_row_problems(session):
            found.add(problem)
        for problem in _resolutions_not_recorded(session):
            found.add(problem)
        for problem in _hold_moves(session, resolving=False):
            found.add(problem)
        for problem in _hold_moves(session, resolving=True):
            found.add(problem)


def _hold_row_problems(session: Session) -> Iterator[str]:
    creator, resolver = transfers.alias("creator"), transfers.alias("resolver")
    debit, credit = accounts.alias("debit"), accounts.alias("credit")
    h = holds.c
    q = (
        select(
            h.id,
            h.transfer_id,
            h.debit_account_id,
            h.credit_account_id,
            h.currency,
            h.status,
            h.posted_amount,
            h.resolved_by,
            _instant(h.resolved_at).label("resolved_at"),
            creator.c.kind.label("creator_kind"),
            resolver.c.id.label("resolver_id"),
            resolver.c.kind.label("resolver_kind"),
            resolver.c.hold_id.label("resolver_hold"),
            _instant(resolver.c.created_at).label("resolver_at"),
            debit.c.currency.label("debit_currency"),
            credit.c.currency.label("credit_currency"),
        )
        .select_from(
            holds.outerjoin(creator, creator.c.id == h.transfer_id)
            .outerjoin(resolver, resolver.c.id == h.resolved_by)
            .outerjoin(debit, debit.c.id == h.debit_account_id)
            .outerjoin(credit, credit.c.id == h.credit_account_id)
        )
        .order_by(h.id)
        .execution_options(yield_per=_STREAM)
    )
    for r in session.execute(q):
        yield from _hold_problems(r)


def _when(value: object) -> str:
    return model.canonical_instant(value) if isinstance(value, datetime) else repr(value)


def _hold_problems(r: Any) -> Iterator[str]:
    """What is wrong with one hold row, given its creating and resolving transfers."""
    h = f"hold {r.id}"
    if r.creator_kind is not None and r.creator_kind != Kind.HOLD.value:
        yield f"{h}: transfer {r.transfer_id} that created it is a {r.creator_kind}, not a hold"
    for side, account_id, currency in (
        ("debit", r.debit_account_id, r.debit_currency),
        ("credit", r.credit_account_id, r.credit_currency),
    ):
        if currency is not None and currency != r.currency:
            yield f"{h} is in {r.currency}, but its {side} account {account_id} is in {currency}"
    if r.status == HoldStatus.PENDING.value:
        if r.resolved_by is not None or r.resolved_at is not None or r.posted_amount is not None:
            yield (
                f"{h} is pending but has resolved_by {r.resolved_by}, resolved_at "
                f"{_when(r.resolved_at)}, posted_amount {r.posted_amount}"
            )
        return
    kind = _RESOLVED_BY.get(r.status)
    if kind is None:
        yield f"{h} has the unknown status {r.status!r}"
        return
    if r.resolved_by is None:
        yield f"{h} is {r.status} but names no transfer that resolved it"
        return
    if r.resolver_id is None:
        yield f"{h} is {r.status} by transfer {r.resolved_by}, which does not exist"
        return
    by = f"transfer {r.resolved_by}"
    if r.resolver_kind != kind:
        yield f"{h} is {r.status}, but {by} that resolved it is a {r.resolver_kind}, not a {kind}"
    if r.resolver_hold != r.id:
        yield f"{h} names {by} as what resolved it, but that transfer is for hold {r.resolver_hold}"
    if _when(r.resolved_at) != _when(r.resolver_at):
        yield (
            f"{h} has resolved_at {_when(r.resolved_at)}, but {by} that resolved it was made at "
            f"{_when(r.resolver_at)}"
        )
    if r.status == HoldStatus.VOIDED.value and r.posted_amount != 0:
        yield f"{h} is voided but has posted_amount {r.posted_amount}"
    if r.status == HoldStatus.POSTED.value and r.posted_amount is None:
        yield f"{h} is posted but has no posted_amount"


def _resolutions_not_recorded(session: Session) -> Iterator[str]:
    """Post and void transfers their hold does not name as its resolution (a pending hold with
    a post, or a second post or void of one hold)."""
    t = transfers.c
    q = (
        select(t.id, t.kind, t.hold_id, holds.c.status, holds.c.resolved_by)
        .select_from(transfers.join(holds, holds.c.id == t.hold_id))
        .where(
            t.kind.in_([Kind.POST.value, Kind.VOID.value]),
            or_(holds.c.resolved_by.is_(None), holds.c.resolved_by != t.id),
        )
        .order_by(t.id)
    )
    for tid, kind, hold_id, status, resolved_by in session.execute(q):
        if resolved_by is None:
            yield f"transfer {tid} ({kind}) resolved hold {hold_id}, but the hold is {status}"
        else:
            yield (
                f"transfer {tid} ({kind}) resolved hold {hold_id}, but the hold names transfer "
                f"{resolved_by} as what resolved it"
            )


def _describe(moved: dict[int, Balance]) -> str:
    parts = []
    for account_id, change in sorted(moved.items()):
        fields = ", ".join(f"{n} {v:+d}" for n, v in zip(Balance._fields, change, strict=True) if v)
        parts.append(f"account {account_id}: {fields or 'nothing'}")
    return "; ".join(parts) or "nothing"


def _hold_moves(session: Session, *, resolving: bool) -> Iterator[str]:
    """Compare what each hold's creating (or resolving) transfer moved with what the model says
    such a transfer moves."""
    e = entries.c
    moved = (
        select(
            e.transfer_id,
            e.account_id,
            func.sum(e.debits_posted).label("dp"),
            func.sum(e.credits_posted).label("cp"),
            func.sum(e.debits_pending).label("dq"),
            func.sum(e.credits_pending).label("cq"),
        )
        .group_by(e.transfer_id, e.account_id)
        .subquery()
    )
    h = holds.c
    by = h.resolved_by if resolving else h.transfer_id
    q = (
        select(
            h.id,
            h.debit_account_id,
            h.credit_account_id,
            h.amount,
            h.currency,
            h.status,
            h.posted_amount,
            by.label("by"),
            moved.c.account_id,
            moved.c.dp,
            moved.c.cp,
            moved.c.dq,
            moved.c.cq,
        )
        .select_from(holds.outerjoin(moved, moved.c.transfer_id == by))
        .where(by.is_not(None))
        .order_by(h.id)
        .execution_options(yield_per=_STREAM)
    )
    statuses = {s.value for s in HoldStatus}
    for _, group in groupby(session.execute(q), key=lambda r: r.id):
        rows = list(group)
        r = rows[0]
        if r.status not in statuses:
            continue  # named by the row check
        hold = Hold(
            r.id,
            r.debit_account_id,
            r.credit_account_id,
            r.amount,
            r.currency,
            status=HoldStatus(r.status),
            posted_amount=r.posted_amount,
        )
        expected = model.hold_resolution(hold) if resolving else model.hold_creation(hold)
        if expected is None:
            continue  # a status or posted_amount no resolution leaves: named by the row check
        actual = {
            x.account_id: Balance(int(x.dp), int(x.cp), int(x.dq), int(x.cq))
            for x in rows
            if x.account_id is not None
        }
        if actual != expected:
            what = _what_moves(hold) if resolving else f"creating a hold of {hold.amount}"
            yield (
                f"hold {hold.id}: transfer {r.by} moved {_describe(actual)}, but {what} moves "
                f"{_describe(expected)}"
            )


def _what_moves(hold: Hold) -> str:
    if hold.status is HoldStatus.POSTED:
        return f"posting {hold.posted_amount} of a hold of {hold.amount}"
    return f"voiding a hold of {hold.amount}"


# --- the chain --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Block:
    """A sealed block as stored, with the hash of its lines built up while the journal is read."""

    id: int
    prev_hash: str
    hash: str
    version: int
    entry_count: int
    horizon: int | None
    transfer_ids: list[int]
    late: set[int]
    hasher: model.BlockHasher
    entries: int = 0


def _ints(raw: object) -> list[int]:
    if not isinstance(raw, list):
        return []
    return [i for i in raw if isinstance(i, int) and not isinstance(i, bool)]


def _late_ids(raw: object) -> set[int]:
    if not isinstance(raw, list):
        return set()
    return {p[0] for p in raw if isinstance(p, list) and p and isinstance(p[0], int)}


def _read_blocks(session: Session) -> list[_Block]:
    s = seals.c
    q = select(
        s.id,
        s.prev_hash,
        s.hash,
        s.version,
        s.entry_count,
        s.transfer_horizon,
        _json(s.transfer_ids).label("transfer_ids"),
        _json(s.late_transfer_ids).label("late_transfer_ids"),
        _instant(s.sealed_at).label("sealed_at"),
    ).order_by(s.id)
    blocks = []
    for r in session.execute(q):
        hasher = model.BlockHasher(r.id, r.prev_hash)
        if r.version == CHAIN_VERSION:
            hasher.add(
                model.block_header(
                    r.version,
                    r.entry_count,
                    r.transfer_horizon,
                    r.transfer_ids,
                    r.late_transfer_ids,
                    r.sealed_at,
                )
            )
        blocks.append(
            _Block(
                r.id,
                r.prev_hash,
                r.hash,
                r.version,
                r.entry_count,
                r.transfer_horizon,
                _ints(r.transfer_ids),
                _late_ids(r.late_transfer_ids),
                hasher,
            )
        )
    return blocks


def _check_chain(session: Session, report: VerifyReport) -> list[_Block]:
    """Read the sealed journal once, in id order, feeding each entry's line (in the format of
    its block's version) to its block; then check every block's hash and link in order."""
    blocks = _read_blocks(session)
    by_id = {b.id: b for b in blocks}
    lone = _transfer_lines(session, sorted({t for b in blocks for t in b.transfer_ids}))
    q = _entry_query(entries.c.seal_id.is_not(None), entries.c.seal_id)
    for row in session.execute(q.execution_options(yield_per=_STREAM)):
        block = by_id.get(row[_WIDTH])
        if block is None:
            continue  # named with the orphans
        line = _entry_line_v1(row) if block.version == 1 else _entry_line(row)
        if line is not None:
            block.hasher.add(line)
            block.entries += 1
    report.unsealed = int(
        session.execute(select(func.count()).where(entries.c.seal_id.is_(None))).scalar_one()
    )
    prev, expected_id = GENESIS, 1
    for block in blocks:
        report.blocks += 1
        problem = _block_problem(block, expected_id, prev, lone)
        if problem:
            report.problems.append(problem)
            break
        prev, expected_id = block.hash, expected_id + 1
    return blocks


def _block_problem(block: _Block, expected_id: int, prev: str, lone: dict[int, str]) -> str:
    """What is wrong with one block (its entries already fed to its hasher), or ''."""
    b = block.id
    if b != expected_id:
        return f"seal block {expected_id} is missing (next is {b})"
    if block.prev_hash != prev:
        return f"seal block {b}: does not link to block {b - 1}"
    if block.version not in (1, CHAIN_VERSION):
        return f"seal block {b} has line format version {block.version!r}, which is unknown"
    if block.entries != block.entry_count:
        return (
            f"seal block {b}: holds {block.entries} entries, sealed with "
            f"{block.entry_count} (entries deleted or added)"
        )
    if block.version == CHAIN_VERSION:
        for tid in block.transfer_ids:
            line = lone.get(tid)
            if line is None:
                return f"seal block {b}: transfer {tid}, sealed in it, does not exist"
            block.hasher.add(line)
    if block.hasher.hexdigest() != block.hash:
        if block.version == 1:
            return f"seal block {b}: hash mismatch: a sealed entry or its transfer was changed"
        return (
            f"seal block {b}: hash mismatch: a sealed entry, its transfer, account or hold, a "
            "sealed transfer without entries, or the block's own columns were changed"
        )
    return ""


def _check_lone_transfers(session: Session, report: VerifyReport, blocks: list[_Block]) -> None:
    """Every transfer with no entries up to the last block's horizon is sealed in one block
    (unless that block could not see it yet), and one sealed with none still has none."""
    sealed_in: dict[int, int] = {}
    with _found(report, "transfers sealed twice") as found:
        for block in blocks:
            for tid in block.transfer_ids:
                if tid in sealed_in:
                    found.add(f"transfer {tid} is sealed in block {sealed_in[tid]} and {block.id}")
                sealed_in.setdefault(tid, block.id)
    last = next((b for b in reversed(blocks) if b.version == CHAIN_VERSION), None)
    with _found(report, "transfers left out of the chain") as found:
        q = (
            select(transfers.c.id, transfers.c.kind)
            .where(~_HAS_ENTRIES)
            .order_by(transfers.c.id)
            .execution_options(yield_per=_STREAM)
        )
        for tid, kind in session.execute(q):
            if tid in sealed_in:
                continue
            if last is None or last.horizon is None or tid > last.horizon or tid in last.late:
                report.unsealed_transfers += 1
                continue
            found.add(
                f"transfer {tid} ({kind}) has no entries and is in no seal block, although "
                f"block {last.id} looked at every transfer up to {last.horizon}"
            )
    with _found(report, "sealed transfers that gained entries") as found:
        for chunk in _chunks(sorted(sealed_in)):
            q2 = select(entries.c.transfer_id).where(entries.c.transfer_id.in_(chunk)).distinct()
            for (tid,) in session.execute(q2):
                found.add(
                    f"transfer {tid} was sealed in block {sealed_in[tid]} with no entries, "
                    "but has entries now"
                )
