"""Sealing: take every committed unsealed entry, and every transfer with no entries, into the
next block of the hash chain (`xinren tick`, the server loop, `xinren ledger seal`). Writers never
wait for it; one sealer runs at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.db import is_postgres
from xinren.ledger import model
from xinren.ledger.journal.lines import (
    EntryLines,
    block_start,
    chunks,
    entry_query,
    feed,
    json_text,
    transfer_lines,
)
from xinren.ledger.model import CHAIN_VERSION, GENESIS
from xinren.ledger.tables import entries, seals, transfers

_SEAL_LOCK = 0x5EA1  # PostgreSQL advisory lock id: one sealer at a time
_SCAN = 200_000  # transfer ids one block looks at for transfers with no entries
_LATE_FOR = timedelta(minutes=10)  # how long an id the sealer could not see is looked for again
_MAX_LATE = 256


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
    queries += [base.where(transfers.c.id.in_(chunk)) for chunk in chunks(late)]
    for q in queries:
        for tid, entry in session.execute(q):
            seen.append(tid)
            if entry is None:
                lone.append(tid)
    return seen, lone


def seal(session: Session, clock: Clock, max_entries: int = 50_000, max_blocks: int = 8) -> int:
    """Seal committed unsealed entries, and transfers that have none, into the next blocks;
    returns how many lines (entries and transfers) it sealed. One block holds at most
    `max_entries` entries; while blocks come out full (the sealer is behind the writers) it
    seals up to `max_blocks` of them in this one call, so a tick catches up instead of falling
    further behind."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK})
    total = 0
    for _ in range(max(1, max_blocks)):
        lines, entries_sealed = _seal_block(session, clock, max_entries)
        total += lines
        if entries_sealed < max_entries:
            break
    return total


def _head(session: Session) -> Any:
    return session.execute(
        select(
            seals.c.id,
            seals.c.hash,
            seals.c.version,
            seals.c.transfer_horizon,
            json_text(seals.c.late_transfer_ids).label("late_transfer_ids"),
        )
        .order_by(seals.c.id.desc())
        .limit(1)
    ).first()


def _seal_block(session: Session, clock: Clock, max_entries: int) -> tuple[int, int]:
    """One block: (lines sealed, entries sealed)."""
    head = _head(session)
    block_id, prev = (head.id + 1, head.hash) if head else (1, GENESIS)
    after, late_before = _sealer_state(head)
    now = clock.now()
    # Transfers first: the entries of a transfer seen here are committed, so read below too.
    seen, lone_ids = _scan(session, after, [i for i, _ in late_before])
    horizon = max((i for i in seen if i > after), default=after)
    rows = session.execute(entry_query(entries.c.seal_id.is_(None)).limit(max_entries)).all()
    lone = transfer_lines(session, sorted(lone_ids))
    if not rows and not lone and horizon == after:
        return 0, 0
    late = [
        list(p)
        for p in model.still_late(late_before, after, horizon, seen, now, _LATE_FOR, _MAX_LATE)
    ]
    listed = sorted(lone)
    line = EntryLines()
    lines = [
        model.block_header(CHAIN_VERSION, len(rows), horizon, listed, late, now),
        *(line(r) for r in rows),
        *(lone[i] for i in listed),
    ]
    session.execute(
        seals.insert(),
        dict(
            id=block_id,
            prev_hash=prev,
            hash=hash_lines(block_id, prev, lines),
            entry_count=len(rows),
            sealed_at=now,
            version=CHAIN_VERSION,
            transfer_horizon=horizon,
            transfer_ids=listed,
            late_transfer_ids=late,
        ),
    )
    _mark(session, block_id, [r[0] for r in rows])
    return len(rows) + len(lone), len(rows)


def _mark(session: Session, block_id: int, ids: list[int]) -> None:
    """Set the block on the entries just sealed, in one statement. PostgreSQL: exactly these
    ids (an entry with a lower id may commit meanwhile, and is not in this block). SQLite: the
    sealer holds the write lock since BEGIN IMMEDIATE (xinren.db), so nothing committed since
    the read, and the unsealed entries in the id range are exactly these."""
    if not ids:
        return
    if is_postgres(session):
        done = session.execute(
            text(
                "UPDATE ledger_entries SET seal_id = :b WHERE id = ANY(CAST(:ids AS bigint[])) "
                "AND seal_id IS NULL"
            ),
            {"b": block_id, "ids": ids},
        )
    else:
        done = session.execute(
            update(entries)
            .where(entries.c.id.between(ids[0], ids[-1]), entries.c.seal_id.is_(None))
            .values(seal_id=block_id)
        )
    if done.rowcount != len(ids):  # type: ignore[attr-defined]
        raise RuntimeError(
            f"sealing block {block_id}: marked {done.rowcount} entries, read {len(ids)}"  # type: ignore[attr-defined]
        )


def hash_lines(block_id: int, prev_hash: str, lines: list[str]) -> str:
    """`model.block_hash` in one update, not two per line."""
    h = block_start(block_id, prev_hash)
    feed(h, lines)
    return str(h.hexdigest())
