#!/usr/bin/env python
"""Xinren's ledger beside a raw-SQL baseline that does THE SAME work, from a fresh database.

Both sides write the same tables (``ledger_transfers``, ``ledger_entries``, ``ledger_accounts``,
``ledger_holds``: the same unique key, check constraints and indexes) in a database created and
migrated for this run, with no VACUUM or ANALYZE (autovacuum runs as the server is set up).
Per transfer both: claim an idempotency key (unique constraint, ``ON CONFLICT DO NOTHING``), store
the payload hash (sha-256 of the same canonical payload, computed in Python), lock the accounts
(``FOR UPDATE`` in id order on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``), refuse accounts that
are owned or of mixed currency, write one journal entry per account, move the balances with the
limits checked (the raw side by the tables' check constraints, so a batch is checked on its
final balances rather than after each transfer), and commit (same durability: PostgreSQL fsync
as configured, SQLite WAL with ``synchronous=NORMAL``). A hold writes its hold row; a post locks
the pending hold, resolves it and moves pending to posted.

The raw side is ONE statement per transaction on PostgreSQL (data-modifying CTEs over arrays),
and on SQLite the fewest statements SQLite allows (it has no data-modifying CTEs): claim with
``RETURNING``, one set-based balance update, entries by ``executemany``. It gives no detailed
errors, no replays of earlier results and no expiry timers: that is what Xinren adds.

Xinren runs through its service API (``service.move``/``hold``/``post`` one per
``unit_of_work``, ``service.submit`` for batches). Rounds interleave the two sides; each figure
is the median and min..max over the rounds, with the ratio Xinren/raw of the medians; beside
it, this process's CPU time per operation (on SQLite all of the work, since SQLite runs
in-process; on PostgreSQL the client's share), which a loaded machine disturbs far less.

Usage: ``python bench/ledger_raw_bench.py [--backend sqlite|postgres|both] [--rounds 3]
[--singles 300] [--batches 3] [--batch 1000] [--pg-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from bench.ledger_bench import DEFAULT_PG_URL, postgres_database, postgres_reachable
from bench.ledger_bench import sqlite_database as _sqlite_database
from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.errors import XinrenError
from xinren.ids import payload_hash
from xinren.ledger import model, service

RING = 8  # each side moves money round a ring of its own limited accounts
FUNDING = 10**12
CUR = "CNY"
Item = tuple[str, str, str]  # idempotency key, debit code, credit code


def stored_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy's `DateTime` writes it on SQLite (UTC, naive, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def transfer_hash(debit: str, credit: str) -> str:
    legs = (model.Leg(debit, model.Side.DEBIT, 1), model.Leg(credit, model.Side.CREDIT, 1))
    return payload_hash(model.payload(model.TransferOp(model.Meta(""), legs)))


def hold_hash(debit: str, credit: str) -> str:
    return payload_hash(model.payload(model.HoldOp(model.Meta(""), debit, credit, 1)))


def post_hash(hold_id: int) -> str:
    return payload_hash(model.payload(model.PostOp(model.Meta(""), hold_id)))


# --- Xinren ------------------------------------------------------------------------------------


class Xinren:
    name = "Xinren"

    def __init__(self, engine: Engine) -> None:
        self.factory = session_factory(engine)
        self.clock = SystemClock()

    def single(self, item: Item) -> None:
        with unit_of_work(self.factory) as s:
            service.move(s, self.clock, item[0], item[1], item[2], 1)

    def batch(self, items: Sequence[Item]) -> None:
        ops: list[model.Operation] = [
            model.TransferOp(
                model.Meta(k),
                (model.Leg(d, model.Side.DEBIT, 1), model.Leg(c, model.Side.CREDIT, 1)),
            )
            for k, d, c in items
        ]
        with unit_of_work(self.factory) as s:
            _accepted(service.submit(s, self.clock, ops))

    def hold_post(self, item: Item) -> None:
        with unit_of_work(self.factory) as s:
            held = service.hold(s, self.clock, item[0] + "h", item[1], item[2], 1)
        assert held.hold_id is not None
        with unit_of_work(self.factory) as s:
            service.post(s, self.clock, item[0] + "p", held.hold_id)

    def hold_post_batch(self, items: Sequence[Item]) -> None:
        holds: list[model.Operation] = [
            model.HoldOp(model.Meta(k + "h"), d, c, 1) for k, d, c in items
        ]
        with unit_of_work(self.factory) as s:
            held = _accepted(service.submit(s, self.clock, holds))
        posts: list[model.Operation] = [
            model.PostOp(model.Meta(k + "p"), r.hold_id or 0)
            for (k, _, _), r in zip(items, held, strict=True)
        ]
        with unit_of_work(self.factory) as s:
            _accepted(service.submit(s, self.clock, posts))

    def close(self) -> None:
        """Nothing to release: the service side borrows its sessions from the shared factory."""


def _accepted(outcomes: Sequence[service.Outcome]) -> list[service.Result]:
    for o in outcomes:
        if isinstance(o, XinrenError):
            raise o
    return outcomes  # type: ignore[return-value]


# --- raw PostgreSQL: one statement per transaction ---------------------------------------------

_PG_LOCK_CODES = (
    "a AS (SELECT id, code, currency, owner FROM ledger_accounts "
    "WHERE code IN (SELECT unnest(%(codes)s::text[])) ORDER BY id FOR UPDATE), "
    "ok AS (SELECT count(*) = cardinality(%(codes)s::text[]) AND count(DISTINCT currency) = 1 "
    "AND bool_and(owner IS NULL) AS ok FROM a)"
)
_PG_MOVE = """
WITH {lock},
t AS (
  INSERT INTO ledger_transfers (kind, idempotency_key, payload_hash, reason, created_at)
  SELECT %(kind)s, u.k, u.h, '', %(now)s FROM unnest(%(keys)s::text[], %(hashes)s::text[]) u(k, h)
  WHERE (SELECT ok FROM ok)
  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key),
l AS (
  SELECT t.id AS tid, da.id AS d, ca.id AS c
  FROM unnest(%(keys)s::text[], %(debits)s::text[], %(credits)s::text[]) u(k, dc, cc)
  JOIN t ON t.idempotency_key = u.k JOIN a da ON da.code = u.dc JOIN a ca ON ca.code = u.cc),
m AS (SELECT tid, d AS aid, 1 AS dr, 0 AS cr FROM l UNION ALL SELECT tid, c, 0, 1 FROM l),
e AS (
  INSERT INTO ledger_entries
    (transfer_id, account_id, debits_posted, credits_posted, debits_pending, credits_pending)
  SELECT tid, aid, {entry} FROM m),
{extra}
s AS (SELECT aid, sum(dr)::bigint AS dr, sum(cr)::bigint AS cr FROM m GROUP BY aid),
b AS (UPDATE ledger_accounts x SET {balances} FROM s WHERE x.id = s.aid)
SELECT {result}
"""
PG_TRANSFER = _PG_MOVE.format(
    lock=_PG_LOCK_CODES,
    entry="dr, cr, 0, 0",
    extra="",
    balances="debits_posted = x.debits_posted + s.dr, credits_posted = x.credits_posted + s.cr",
    result="count(*) FROM t",
)
PG_HOLD = _PG_MOVE.format(
    lock=_PG_LOCK_CODES,
    entry="0, 0, dr, cr",
    extra=(
        "h AS (INSERT INTO ledger_holds (transfer_id, debit_account_id, credit_account_id, "
        "amount, currency, status) SELECT tid, d, c, 1, %(cur)s, 'pending' FROM l "
        "RETURNING id, transfer_id),"
    ),
    balances=(
        "debits_pending = x.debits_pending + s.dr, credits_pending = x.credits_pending + s.cr"
    ),
    result="t.idempotency_key, h.id FROM h JOIN t ON t.id = h.transfer_id",
)
PG_POST = """
WITH h AS (
  SELECT id, debit_account_id AS d, credit_account_id AS c, amount FROM ledger_holds
  WHERE id IN (SELECT unnest(%(hids)s::bigint[])) AND status = 'pending' ORDER BY id FOR UPDATE),
a AS (SELECT id FROM ledger_accounts WHERE id IN (SELECT d FROM h UNION SELECT c FROM h)
      ORDER BY id FOR UPDATE),
t AS (
  INSERT INTO ledger_transfers (kind, idempotency_key, payload_hash, reason, hold_id, created_at)
  SELECT 'post', u.k, u.hh, '', h.id, %(now)s
  FROM unnest(%(keys)s::text[], %(hashes)s::text[], %(hids)s::bigint[]) u(k, hh, hid)
  JOIN h ON h.id = u.hid
  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, hold_id),
l AS (SELECT t.id AS tid, h.id AS hid, h.d, h.c, h.amount FROM t JOIN h ON h.id = t.hold_id),
r AS (UPDATE ledger_holds x SET status = 'posted', posted_amount = l.amount,
        resolved_by = l.tid, resolved_at = %(now)s FROM l WHERE x.id = l.hid),
m AS (SELECT tid, d AS aid, amount AS dr, 0::bigint AS cr FROM l
      UNION ALL SELECT tid, c, 0, amount FROM l),
e AS (
  INSERT INTO ledger_entries
    (transfer_id, account_id, debits_posted, credits_posted, debits_pending, credits_pending)
  SELECT tid, aid, dr, cr, -dr, -cr FROM m),
s AS (SELECT aid, sum(dr)::bigint AS dr, sum(cr)::bigint AS cr FROM m GROUP BY aid)
UPDATE ledger_accounts x SET
  debits_posted = x.debits_posted + s.dr, credits_posted = x.credits_posted + s.cr,
  debits_pending = x.debits_pending - s.dr, credits_pending = x.credits_pending - s.cr
FROM s WHERE x.id = s.aid AND x.id IN (SELECT id FROM a)
"""


class RawPostgres:
    name = "raw SQL (one statement)"

    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        self.conn: Any = self.raw.driver_connection
        self.clock = SystemClock()

    def _run(self, sql: str, params: dict[str, Any]) -> list[Any]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params, prepare=True)
            rows = cur.fetchall() if cur.description else []
        self.conn.commit()
        return rows

    def _moves(self, items: Sequence[Item], kind: str, digest: Callable[[str, str], str]) -> Any:
        codes = sorted({x for _, d, c in items for x in (d, c)})
        return self._run(
            PG_HOLD if kind == "hold" else PG_TRANSFER,
            dict(
                codes=codes,
                kind=kind,
                now=self.clock.now(),
                cur=CUR,
                keys=[k for k, _, _ in items],
                hashes=[digest(d, c) for _, d, c in items],
                debits=[d for _, d, _ in items],
                credits=[c for _, _, c in items],
            ),
        )

    def batch(self, items: Sequence[Item]) -> None:
        self._moves(items, "transfer", transfer_hash)

    def single(self, item: Item) -> None:
        self.batch([item])

    def hold_post_batch(self, items: Sequence[Item]) -> None:
        held = dict(self._moves([(k + "h", d, c) for k, d, c in items], "hold", hold_hash))
        hids = [held[k + "h"] for k, _, _ in items]
        self._run(
            PG_POST,
            dict(
                hids=hids,
                keys=[k + "p" for k, _, _ in items],
                hashes=[post_hash(h) for h in hids],
                now=self.clock.now(),
            ),
        )

    def hold_post(self, item: Item) -> None:
        self.hold_post_batch([item])

    def close(self) -> None:
        self.raw.close()


# --- raw SQLite: the fewest statements --------------------------------------------------------

SQ_CLAIM = (
    "INSERT INTO ledger_transfers "
    "(kind, idempotency_key, payload_hash, reason, hold_id, created_at) "
    "SELECT ?, v.value ->> 0, v.value ->> 1, '', v.value ->> 2, ? FROM json_each(?) v WHERE true "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"
)
SQ_ACCOUNTS = (
    "SELECT id, code FROM ledger_accounts WHERE code IN (SELECT value FROM json_each(?)) "
    "AND owner IS NULL"
)
SQ_BALANCES = (
    "UPDATE ledger_accounts SET debits_posted = debits_posted + v.value ->> 1, "
    "credits_posted = credits_posted + v.value ->> 2, "
    "debits_pending = debits_pending + v.value ->> 3, "
    "credits_pending = credits_pending + v.value ->> 4 "
    "FROM json_each(?) v WHERE ledger_accounts.id = v.value ->> 0"
)
SQ_ENTRIES = (
    "INSERT INTO ledger_entries (transfer_id, account_id, debits_posted, credits_posted, "
    "debits_pending, credits_pending) VALUES (?, ?, ?, ?, ?, ?)"
)
SQ_HOLDS = (
    "INSERT INTO ledger_holds (transfer_id, debit_account_id, credit_account_id, amount, "
    "currency, status) SELECT v.value ->> 0, v.value ->> 1, v.value ->> 2, 1, ?, 'pending' "
    "FROM json_each(?) v RETURNING id, transfer_id"
)
SQ_RESOLVE = (
    "UPDATE ledger_holds SET status = 'posted', posted_amount = amount, "
    "resolved_by = v.value ->> 1, resolved_at = ? FROM json_each(?) v "
    "WHERE ledger_holds.id = v.value ->> 0 AND status = 'pending' "
    "RETURNING ledger_holds.resolved_by, debit_account_id, credit_account_id, amount"
)


class RawSqlite:
    name = "raw SQL (fewest statements)"

    def __init__(self, engine: Engine) -> None:
        self.raw = engine.raw_connection()
        self.conn: Any = self.raw.driver_connection
        self.clock = SystemClock()

    def _claim(self, kind: str, rows: list[list[Any]]) -> dict[str, int]:
        now = stored_time(self.clock.now())
        return {k: t for t, k in self.conn.execute(SQ_CLAIM, (kind, now, json.dumps(rows)))}

    def _move(self, items: Sequence[Item], kind: str) -> tuple[dict[str, int], dict[str, int]]:
        """Claim, check the accounts, entries, balances; the claimed transfer and account ids."""
        digest = hold_hash if kind == "hold" else transfer_hash
        c = self.conn
        codes = sorted({x for _, d, cr in items for x in (d, cr)})
        ids = dict((code, i) for i, code in c.execute(SQ_ACCOUNTS, (json.dumps(codes),)))
        if len(ids) != len(codes):
            raise RuntimeError("an account is missing or owned")
        tids = self._claim(kind, [[k, digest(d, cr), None] for k, d, cr in items])
        pend = kind == "hold"
        entries = []
        for k, d, cr in items:
            t, di, ci = tids[k], ids[d], ids[cr]
            if pend:
                entries += [(t, di, 0, 0, 1, 0), (t, ci, 0, 0, 0, 1)]
            else:
                entries += [(t, di, 1, 0, 0, 0), (t, ci, 0, 1, 0, 0)]
        c.executemany(SQ_ENTRIES, entries)
        changes = self._gross(items, ids, pend)
        c.execute(SQ_BALANCES, (json.dumps(changes),))
        return tids, ids

    @staticmethod
    def _gross(items: Sequence[Item], ids: dict[str, int], pend: bool) -> list[list[int]]:
        dr: dict[int, int] = {}
        cr: dict[int, int] = {}
        for _, d, c in items:
            dr[ids[d]] = dr.get(ids[d], 0) + 1
            cr[ids[c]] = cr.get(ids[c], 0) + 1
        out = []
        for a in sorted(set(dr) | set(cr)):
            x, y = dr.get(a, 0), cr.get(a, 0)
            out.append([a, 0, 0, x, y] if pend else [a, x, y, 0, 0])
        return out

    def batch(self, items: Sequence[Item]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self._move(items, "transfer")
        self.conn.execute("COMMIT")

    def single(self, item: Item) -> None:
        self.batch([item])

    def hold_post_batch(self, items: Sequence[Item]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        tids, ids = self._move([(k + "h", d, cr) for k, d, cr in items], "hold")
        rows = [[tids[k + "h"], ids[d], ids[cr]] for k, d, cr in items]
        made = c.execute(SQ_HOLDS, (CUR, json.dumps(rows)))
        hold_of = {t: h for h, t in made}
        c.execute("COMMIT")
        self._post(items, [hold_of[tids[k + "h"]] for k, _, _ in items])

    def _post(self, items: Sequence[Item], hids: list[int]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        rows = [[k + "p", post_hash(h), h] for (k, _, _), h in zip(items, hids, strict=True)]
        tids = self._claim("post", rows)
        pairs = [[h, tids[k + "p"]] for (k, _, _), h in zip(items, hids, strict=True)]
        now = stored_time(self.clock.now())
        entries: list[tuple[int, ...]] = []
        moved: dict[int, list[int]] = {}
        for t, d, cr, amt in c.execute(SQ_RESOLVE, (now, json.dumps(pairs))).fetchall():
            entries += [(t, d, amt, 0, -amt, 0), (t, cr, 0, amt, 0, -amt)]
            for a, col in ((d, 0), (cr, 1)):
                m = moved.setdefault(a, [0, 0])
                m[col] += amt
        c.executemany(SQ_ENTRIES, entries)
        changes = [[a, x, y, -x, -y] for a, (x, y) in sorted(moved.items())]
        c.execute(SQ_BALANCES, (json.dumps(changes),))
        c.execute("COMMIT")

    def hold_post(self, item: Item) -> None:
        self.hold_post_batch([item])

    def close(self) -> None:
        self.raw.close()


# --- the harness -------------------------------------------------------------------------------


@dataclass(slots=True)
class Side:
    """One side of the comparison, its ring of accounts and its next key number."""

    impl: Any
    codes: tuple[str, ...]
    tag: str
    n: int = 0

    def items(self, count: int) -> list[Item]:
        out = []
        for _ in range(count):
            i = self.n
            self.n += 1
            out.append((f"{self.tag}-{i}", self.codes[i % RING], self.codes[(i + 1) % RING]))
        return out


def prepare(engine: Engine) -> list[tuple[str, ...]]:
    """Migrate (no VACUUM, no ANALYZE) and open and fund two rings of limited accounts."""
    upgrade(engine)
    factory, clock = session_factory(engine), SystemClock()
    rings = [tuple(f"bench:{side}:a{j}" for j in range(RING)) for side in ("x", "r")]
    with unit_of_work(factory) as s:
        service.create_account(s, clock, "bench:source", CUR)
        for ring in rings:
            for code in ring:
                service.create_account(s, clock, code, CUR, debits_must_not_exceed_credits=True)
    with unit_of_work(factory) as s:
        for ring in rings:
            for code in ring:
                service.move(s, clock, f"fund-{code}", "bench:source", code, FUNDING)
    return rings


def _timed(run: Callable[[], None], ops: int, laps: list[float] | None = None) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    if laps is not None:
        laps.append(seconds)
    return ops / seconds


def _singles(side: Side, count: int, cycle: bool, laps: list[float]) -> tuple[float, float]:
    """Operations per wall second, and this process's CPU microseconds per operation."""
    items = side.items(count)
    fn = side.impl.hold_post if cycle else side.impl.single
    start, cpu = time.perf_counter(), time.process_time()
    for item in items:
        t = time.perf_counter()
        fn(item)
        laps.append(time.perf_counter() - t)
    cpu_us = (time.process_time() - cpu) / count * 1e6
    return count / (time.perf_counter() - start), cpu_us


def _batches(side: Side, count: int, size: int, cycle: bool) -> tuple[float, float]:
    batches = [side.items(size) for _ in range(count)]
    fn = side.impl.hold_post_batch if cycle else side.impl.batch
    start, cpu = time.perf_counter(), time.process_time()
    for items in batches:
        fn(items)
    cpu_us = (time.process_time() - cpu) / (count * size) * 1e6
    return count * size / (time.perf_counter() - start), cpu_us


FIGURES = (
    ("transfers/s, 1 per transaction", False, False),
    ("hold -> post cycles/s, 1 per transaction each", True, False),
    ("transfers/s, {batch} per transaction", False, True),
    ("hold -> post cycles/s, {batch} + {batch} per transaction", True, True),
)


def run_backend(backend: str, url: str, args: argparse.Namespace) -> list[str]:
    engine = make_engine(url)
    try:
        rings = prepare(engine)
        raw_impl = RawPostgres(engine) if backend == "postgres" else RawSqlite(engine)
        sides = [Side(Xinren(engine), rings[0], "x"), Side(raw_impl, rings[1], "r")]
        for side in sides:  # warm: pools, prepared statements, caches
            side.impl.single(side.items(1)[0])
            side.impl.hold_post(side.items(1)[0])
            side.impl.batch(side.items(10))
        rates: dict[tuple[int, int], list[float]] = {}
        cpu: dict[tuple[int, int], list[float]] = {}  # this process's CPU µs per operation
        laps: dict[int, list[float]] = {0: [], 1: []}
        for r in range(args.rounds):
            for f, (_, cycle, batched) in enumerate(FIGURES):
                order = (0, 1) if (r + f) % 2 == 0 else (1, 0)
                for s in order:
                    side = sides[s]
                    if batched:
                        rate = _batches(side, args.batches, args.batch, cycle)
                    else:
                        count = args.singles // 2 if cycle else args.singles
                        rate = _singles(side, count, cycle, laps[s] if not cycle else [])
                    rates.setdefault((f, s), []).append(rate[0])
                    cpu.setdefault((f, s), []).append(rate[1])
        lines = [f"{backend}: {sides[0].impl.name} vs {sides[1].impl.name}, {args.rounds} rounds"]
        for f, (label, _, _) in enumerate(FIGURES):
            x, raw = rates[(f, 0)], rates[(f, 1)]
            ratio = statistics.median(x) / statistics.median(raw)
            lines.append(
                f"  {label.format(batch=args.batch):<52} Xinren {_spread(x):<28} "
                f"raw {_spread(raw):<28} ratio {ratio:.0%}"
            )
        where = "client only" if backend == "postgres" else "the whole work: SQLite is in-process"
        lines.append(f"  this process's CPU µs per operation ({where}), median of the rounds:")
        for f, (label, _, _) in enumerate(FIGURES):
            xc, rc = statistics.median(cpu[(f, 0)]), statistics.median(cpu[(f, 1)])
            lines.append(
                f"    {label.format(batch=args.batch):<50} Xinren {xc:,.0f}  raw {rc:,.0f}  "
                f"raw/Xinren {rc / xc:.0%}"
            )
        for s, name in ((0, "Xinren"), (1, "raw")):
            p50, p99 = _percentiles(laps[s])
            lines.append(f"  single transfer latency, {name:<7} p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        for side in sides:
            side.impl.close()
        return lines
    finally:
        engine.dispose()


def _spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}..{max(values):,.0f})"


def _percentiles(laps: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(laps)
    if not ordered:
        return 0.0, 0.0

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return pick(0.50), pick(0.99)


@contextmanager
def database(backend: str, pg_url: str) -> Iterator[str]:
    if backend == "postgres":
        with postgres_database(pg_url) as url:
            yield url
    else:
        with _sqlite_database() as url:
            yield url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=300, help="single transfers per round")
    parser.add_argument("--batches", type=int, default=3, help="batches per round")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print("fresh database per backend, migrated, no VACUUM/ANALYZE; rates median (min..max)")
    print("raw: same tables, key, hash, locks, checks, entries, commit (see the docstring)")
    for backend in backends:
        if backend == "postgres":
            why = postgres_reachable(args.pg_url)
            if why:
                print(f"postgres: skipped ({why})")
                continue
        with database(backend, args.pg_url) as url:
            for line in run_backend(backend, url, args):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
