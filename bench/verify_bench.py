"""How `ledger verify` and the sealer scale with the journal, beside the batch write rate.

The journal is grown to each `--sizes` (entries; 2 per transfer) by set-based SQL (the data a
ledger writes: transfers with key, hash and time, their two entries, account totals rebuilt from
them), then sealed by `journal.seal` in ticks of `--tick` entries, then verified. Printed: sealed
entries/s and verify time per 100k entries at each size (roughly constant = linear), and, in the
same run, the entries/s `service.submit` writes in batches of `--batch` transfers (the batched
row of `bench/ledger_bench.py`), so "the sealer keeps up" reads as a ratio. Never asserts on time.

    python bench/verify_bench.py [--backend sqlite|postgres|both] [--sizes 100000,500000,1000000]
        [--rounds 3] [--tick 50000] [--batch 1000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.ledger import journal, model, service
from xinren.ledger.accounts import create_account

PG_URL = os.environ.get(
    "XINREN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ACCOUNTS = 1000
CURRENCY = "CNY"


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh, empty database (no VACUUM, no ANALYZE), dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"xinren_vbench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def open_accounts(engine: Engine) -> list[str]:
    clock = SystemClock()
    codes = [f"bench:{i}" for i in range(ACCOUNTS)]
    with unit_of_work(session_factory(engine)) as s:
        for code in codes:
            create_account(s, clock, code, CURRENCY)
    return codes


def grow(engine: Engine, upto: int) -> None:
    """Append transfers (2 entries each) set-based until the journal holds `upto` entries, and
    move the account totals by what they moved, so verify finds nothing."""
    with engine.begin() as c:
        have = c.execute(text("SELECT coalesce(max(id), 0) FROM ledger_transfers")).scalar_one()
        first, last = have + 1, upto // 2
        if last < first:
            return
        pg = engine.dialect.name == "postgresql"
        series = (
            "SELECT generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) AS i"
            if pg
            else "WITH RECURSIVE s(i) AS (SELECT :a UNION ALL SELECT i + 1 FROM s WHERE i < :b) "
            "SELECT i FROM s"
        )
        now = "now()" if pg else "'2026-12-01 00:00:00.000000'"
        acc = "(SELECT min(id) FROM ledger_accounts)"
        p = {"a": first, "b": last, "n": ACCOUNTS}
        c.execute(
            text(
                "INSERT INTO ledger_transfers (id, kind, idempotency_key, payload_hash, reason, "
                f"created_at) SELECT i, 'transfer', 'bench-' || i, "
                f"'{'0' * 64}', '', {now} FROM ({series}) g"
            ),
            p,
        )
        # two entries per transfer, next to each other, as the ledger writes them
        c.execute(
            text(
                "INSERT INTO ledger_entries (transfer_id, account_id, debits_posted, "
                "credits_posted, debits_pending, credits_pending) "
                f"SELECT i / 2, {acc} + (i / 2 + i % 2) % :n, "
                "(1 - i % 2) * (1 + (i / 2) % 7), (i % 2) * (1 + (i / 2) % 7), 0, 0 "
                f"FROM ({series}) g ORDER BY i"
            ),
            {"a": 2 * first, "b": 2 * last + 1, "n": ACCOUNTS},
        )
        c.execute(
            text(
                "UPDATE ledger_accounts SET "
                "debits_posted = (SELECT coalesce(sum(debits_posted), 0) FROM ledger_entries e "
                "WHERE e.account_id = ledger_accounts.id), "
                "credits_posted = (SELECT coalesce(sum(credits_posted), 0) FROM ledger_entries e "
                "WHERE e.account_id = ledger_accounts.id)"
            )
        )
        if pg:
            c.execute(text("SELECT setval('ledger_transfers_id_seq', :b)"), p)


def seal_all(engine: Engine, tick: int) -> tuple[int, float]:
    """Seal everything, `tick` entries per call as the timer loop would; (entries, seconds)."""
    factory, clock, n = session_factory(engine), SystemClock(), 0
    t = time.perf_counter()
    while True:
        with unit_of_work(factory) as s:
            sealed = journal.seal(s, clock, max_entries=tick)
        if not sealed:
            return n, time.perf_counter() - t
        n += sealed


def verify_once(engine: Engine) -> tuple[float, journal.VerifyReport]:
    with unit_of_work(session_factory(engine)) as s:
        t = time.perf_counter()
        report = journal.verify(s)
        return time.perf_counter() - t, report


def read_once(engine: Engine) -> float:
    """The reference in the same run: stream every journal row once, in id order, doing
    nothing with it (what any check of the whole journal must at least pay)."""
    with engine.connect() as c:
        t = time.perf_counter()
        q = text("SELECT * FROM ledger_entries ORDER BY id")
        for _ in c.execution_options(yield_per=5000).execute(q):
            pass
        return time.perf_counter() - t


def write_rate(engine: Engine, codes: list[str], batch: int, rounds: int) -> list[float]:
    """Entries/s that `service.submit` writes, `batch` transfers per transaction."""
    factory, clock, rates = session_factory(engine), SystemClock(), []
    tag = uuid.uuid4().hex[:6]
    for r in range(rounds):
        ops: list[model.Operation] = []
        for k in range(batch):
            i, j = k % len(codes), (k * 7 + 1) % len(codes)
            if i == j:
                j = (j + 1) % len(codes)
            legs = (
                model.Leg(codes[i], model.Side.DEBIT, 1),
                model.Leg(codes[j], model.Side.CREDIT, 1),
            )
            ops.append(model.TransferOp(model.Meta(f"w-{tag}-{r}-{k}"), legs))
        t = time.perf_counter()
        with unit_of_work(factory) as s:
            service.submit(s, clock, ops)
        rates.append(2 * batch / (time.perf_counter() - t))
    return rates


def _spread(values: list[float], fmt: str) -> str:
    return (
        f"{format(statistics.median(values), fmt)} "
        f"({format(min(values), fmt)}..{format(max(values), fmt)})"
    )


def run(backend: str, sizes: list[int], rounds: int, tick: int, batch: int) -> None:
    with database(backend) as url:
        engine = make_engine(url)
        upgrade(engine)
        codes = open_accounts(engine)
        writes = write_rate(engine, codes, batch, rounds)
        n, secs = seal_all(engine, tick)  # the written batches, so the chain starts sealed
        print(f"{backend}: fresh database, no VACUUM/ANALYZE; {rounds} rounds; machine shared")
        print(f"  batch write rate (submit, {batch}/tx): {_spread(writes, ',.0f')} entries/s")
        for size in sizes:
            grow(engine, size)
            n, secs = seal_all(engine, tick)
            seal_rate = n / secs if secs else 0.0
            times, reads, report = [], [], None
            for _ in range(rounds):
                t, report = verify_once(engine)
                times.append(t)
                reads.append(read_once(engine))
            assert report is not None
            per = [t / (report.entries / 100_000) for t in times]
            print(
                f"  {report.entries:>9,} entries, {report.blocks:>4} blocks: sealed {n:>9,} at "
                f"{seal_rate:>9,.0f} entries/s ({seal_rate / statistics.median(writes):4.1f}x "
                f"the write rate); verify {_spread(times, '.2f')} s = "
                f"{_spread(per, '.3f')} s per 100k, "
                f"{statistics.median(times) / statistics.median(reads):.1f}x reading the journal; "
                f"problems {len(report.problems)}"
            )
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--sizes", default="100000,500000,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tick", type=int, default=50_000, help="entries per seal call")
    parser.add_argument("--batch", type=int, default=1000, help="transfers per write batch")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rounds = args.rounds
    if args.quick:
        sizes, rounds = [2000, 6000], 1
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, sizes, rounds, args.tick, min(args.batch, 200) if args.quick else args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
