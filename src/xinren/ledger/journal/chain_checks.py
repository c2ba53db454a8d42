"""Verifying the hash chain: rebuild each block's hash from the sealed entries and transfers it
lists (in its version's line format), check each link, and that every transfer with no entries
up to the last horizon is sealed exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.ledger import model
from xinren.ledger.journal.findings import VerifyReport, found_in
from xinren.ledger.journal.lines import (
    HAS_ENTRIES,
    STREAM,
    WIDTH,
    EntryLines,
    block_start,
    chunks,
    entry_line_v1,
    entry_query,
    feed,
    instant,
    json_text,
    transfer_lines,
)
from xinren.ledger.model import CHAIN_VERSION, GENESIS
from xinren.ledger.tables import entries, seals, transfers


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
    hasher: Any  # a sha256 from lines.block_start, fed with lines.feed
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
        json_text(s.transfer_ids).label("transfer_ids"),
        json_text(s.late_transfer_ids).label("late_transfer_ids"),
        instant(s.sealed_at).label("sealed_at"),
    ).order_by(s.id)
    blocks = []
    for r in session.execute(q):
        hasher = block_start(r.id, r.prev_hash)
        if r.version == CHAIN_VERSION:
            feed(
                hasher,
                [
                    model.block_header(
                        r.version,
                        r.entry_count,
                        r.transfer_horizon,
                        r.transfer_ids,
                        r.late_transfer_ids,
                        r.sealed_at,
                    )
                ],
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


def check_chain(session: Session, report: VerifyReport) -> list[_Block]:
    """Read the sealed journal once, block by block (the (seal_id, id) index, migration 0021),
    feeding each block's entries' lines (in the format of its version) to its hash in bulk;
    then check every block's hash and link in order."""
    blocks = _read_blocks(session)
    by_id = {b.id: b for b in blocks}
    lone = transfer_lines(session, sorted({t for b in blocks for t in b.transfer_ids}))
    q = (
        entry_query(entries.c.seal_id.is_not(None), entries.c.seal_id)
        .order_by(None)
        .order_by(entries.c.seal_id, entries.c.id)
    )
    line = EntryLines()
    block: _Block | None = None
    pending: list[str] = []
    for row in session.execute(q.execution_options(yield_per=STREAM)):
        if block is None or row[WIDTH] != block.id:
            _flush(block, pending)
            block = by_id.get(row[WIDTH])
            if block is None:
                continue  # named with the orphans
        text = entry_line_v1(row) if block.version == 1 else line(row)
        if text is not None:
            pending.append(text)
            if len(pending) >= STREAM:
                _flush(block, pending)
    _flush(block, pending)
    prev, expected_id = GENESIS, 1
    for block in blocks:
        report.blocks += 1
        problem = _block_problem(block, expected_id, prev, lone)
        if problem:
            report.problems.append(problem)
            break
        prev, expected_id = block.hash, expected_id + 1
    return blocks


def _flush(block: _Block | None, pending: list[str]) -> None:
    if block is not None:
        feed(block.hasher, pending)
        block.entries += len(pending)
    pending.clear()


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
            feed(block.hasher, [line])
    if block.hasher.hexdigest() != block.hash:
        if block.version == 1:
            return f"seal block {b}: hash mismatch: a sealed entry or its transfer was changed"
        return (
            f"seal block {b}: hash mismatch: a sealed entry, its transfer, account or hold, a "
            "sealed transfer without entries, or the block's own columns were changed"
        )
    return ""


def check_lone_transfers(session: Session, report: VerifyReport, blocks: list[_Block]) -> None:
    """Every transfer with no entries up to the last block's horizon is sealed in one block
    (unless that block could not see it yet), and one sealed with none still has none."""
    sealed_in: dict[int, int] = {}
    with found_in(report, "transfers sealed twice") as found:
        for block in blocks:
            for tid in block.transfer_ids:
                if tid in sealed_in:
                    found.add(f"transfer {tid} is sealed in block {sealed_in[tid]} and {block.id}")
                sealed_in.setdefault(tid, block.id)
    last = next((b for b in reversed(blocks) if b.version == CHAIN_VERSION), None)
    with found_in(report, "transfers left out of the chain") as found:
        q = (
            select(transfers.c.id, transfers.c.kind)
            .where(~HAS_ENTRIES)
            .order_by(transfers.c.id)
            .execution_options(yield_per=STREAM)
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
    with found_in(report, "sealed transfers that gained entries") as found:
        for chunk in chunks(sorted(sealed_in)):
            q2 = select(entries.c.transfer_id).where(entries.c.transfer_id.in_(chunk)).distinct()
            for (tid,) in session.execute(q2):
                found.add(
                    f"transfer {tid} was sealed in block {sealed_in[tid]} with no entries, "
                    "but has entries now"
                )
