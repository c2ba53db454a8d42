"""The sealed journal's pure parts: how an entry or transfer becomes one canonical line, a
block's header and hash, and which transfer ids the sealer must look at again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from xinren.ledger.model.balances import Balance, Kind

GENESIS = "0" * 64
CHAIN_VERSION = 2  # the line format `seal` writes; `verify` reads each block with its own

#: Kinds that must move money (have journal entries), and kinds that name the hold they change.
MOVES_MONEY = frozenset({Kind.TRANSFER, Kind.HOLD, Kind.POST, Kind.VOID})
CHANGES_A_HOLD = frozenset({Kind.POST, Kind.VOID, Kind.EXTEND, Kind.PAUSE, Kind.RESUME})


def entry_line(
    entry_id: int,
    transfer_id: int,
    account_id: int,
    change: Balance,
    kind: str,
    key: str,
    payload_hash: str,
) -> str:
    """Version 1's text of one journal entry: kept because blocks sealed with it must verify.

    It leaves out the transfer's reason, refs and created_at, the account and the hold, and
    joins fields with '|' (a field containing '|' could shift into its neighbour).
    """
    return (
        f"{entry_id}|{transfer_id}|{account_id}|{change.debits_posted}|{change.credits_posted}|"
        f"{change.debits_pending}|{change.credits_pending}|{kind}|{key}|{payload_hash}"
    )


@lru_cache(maxsize=4096)  # a batch's entries share one instant, an account's entries another
def canonical_instant(value: datetime) -> str:
    """One text per instant whatever zone or driver it came in: UTC, to the microsecond.

    A naive value is UTC (SQLite drops the zone of what Xinren stored as UTC).
    """
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return canonical_instant(value)
    # anything else a tampered row could hold (bytes, a float...) still gets one fixed text
    return f"{type(value).__name__}:{value!r}"


def chain_line(tag: str, values: Iterable[object]) -> str:
    """Version 2's text of one sealed row: `tag` and every value, as a JSON array.

    JSON keeps each field in its place (no separator can leak), sorts the keys of nested
    objects (refs) and renders instants as UTC text, so a line reads the same from SQLite and
    PostgreSQL and any change to any value changes it.
    """
    return json.dumps(
        [tag, *values], sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_canonical
    )


def block_header(
    version: object,
    entry_count: object,
    transfer_horizon: object,
    transfer_ids: object,
    late: object,
    sealed_at: object,
) -> str:
    """The first line of a version 2 block: its own columns, so changing them breaks it too.

    Values as stored (`verify` passes what it read, however a tamperer left it).
    """
    return chain_line(
        "block", [version, entry_count, transfer_horizon, transfer_ids, late, sealed_at]
    )


class BlockHasher:
    """A block's hash fed one line at a time: `verify` streams the journal once, in id order,
    feeding each entry to its block, instead of reading the journal once per block."""

    __slots__ = ("_h", "lines")

    def __init__(self, block_id: int, prev_hash: str) -> None:
        self._h = hashlib.sha256(f"{block_id}|{prev_hash}\n".encode())
        self.lines = 0

    def add(self, line: str) -> None:
        self._h.update(line.encode())
        self._h.update(b"\n")
        self.lines += 1

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def block_hash(block_id: int, prev_hash: str, lines: Iterable[str]) -> str:
    """sha256 over the block number, the previous block's hash and the block's lines."""
    h = BlockHasher(block_id, prev_hash)
    for line in lines:
        h.add(line)
    return h.hexdigest()


def missing_ids(after: int, horizon: int, seen: Iterable[int], cap: int) -> list[int]:
    """The ids in (after, horizon] not in `seen`, highest first, at most `cap` of them.

    Walks down from `horizon` so a huge gap (a sequence that jumped) costs `cap`, not its size.
    """
    present = sorted({i for i in seen if after < i <= horizon}, reverse=True)
    out: list[int] = []
    expect = horizon
    for i in [*present, after]:
        while expect > i and len(out) < cap:
            out.append(expect)
            expect -= 1
        if len(out) >= cap:
            break
        expect = i - 1
    return out


def still_late(
    previous: Sequence[tuple[int, int]],
    after: int,
    horizon: int,
    seen: Iterable[int],
    now: datetime,
    keep_for: timedelta,
    cap: int,
) -> list[tuple[int, int]]:
    """Transfer ids up to `horizon` that the sealer could not see yet, with when (epoch
    seconds) each was first missed: a transaction that took an id and commits later.

    Ids seen now leave the list; ids missed longer than `keep_for` leave it too (a rolled-back
    id never appears; `verify` names any transfer that does appear after that). The highest
    `cap` ids are kept.
    """
    seen_set = set(seen)
    now_s = int(now.timestamp())
    oldest = now_s - int(keep_for.total_seconds())
    kept = {i: since for i, since in previous if i not in seen_set and since >= oldest}
    for i in missing_ids(after, horizon, seen_set, cap):
        kept.setdefault(i, now_s)
    return sorted(kept.items())[-cap:] if len(kept) > cap else sorted(kept.items())
