"""Statements and round trips per order step (create, pay, ship, confirm), counted, not estimated.

A SQLAlchemy ``before_cursor_execute`` listener counts every statement the driver is sent
(an ``executemany`` counts once: it is one call, though the driver may make several round trips
for it) and a ``commit`` listener every commit; a round trip here is a statement or a commit.
Each step is its own unit of work, as a platform sends them. The figures are for a warm order
path (the merchant's and platform's accounts and their clearing shards already exist), which is
the steady state of a live sale; the first orders of a merchant also open its accounts. Also
printed: the ledger transfers written per completed order (counted in the journal). Never
asserts.

    python -m bench.order_statements_bench [--backend sqlite|postgres|both] [--orders N] [-v]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from bench.orders_bench import PG_URL, database
from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.demo import samples
from xinren.ledger.tables import transfers
from xinren.orders import service as orders
from xinren.orders.model import CLEARING_SHARDS, Action
from xinren.parties import deposits

STEPS = ("create", "pay", "ship", "confirm")
_ACTIVE: list[Counting | None] = [None]
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


class Counting:
    """Counts statements (by verb and first table) and commits while `recording`.

    The ledger's storage may write through the driver's own cursor, which SQLAlchemy's events
    never see; those statements are caught at the driver (psycopg's `Cursor.execute` wrapped,
    sqlite3's trace callback) and counted as ``(raw)`` when they run outside a statement that
    SQLAlchemy announced. On SQLite each row of a raw ``executemany`` counts as one statement
    (sqlite3 runs it once per row); SQLite has no network, so there a round trip is a call
    into the library."""

    def __init__(self, engine: Engine) -> None:
        self.recording = False
        self.statements: Counter[str] = Counter()
        self.commits = 0
        self._in_sqlalchemy = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "after_cursor_execute", self._done)
        event.listen(engine, "handle_error", self._done)
        event.listen(engine, "commit", self._commit)
        if engine.dialect.name == "postgresql":
            _wrap_psycopg()
            _ACTIVE[0] = self
        else:
            event.listen(engine, "checkout", self._trace_sqlite)

    def count(self, sql: str, suffix: str = "") -> None:
        if not self.recording or self._in_sqlalchemy:
            return
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        if verb in ("COMMIT", "ROLLBACK") and suffix:
            return  # the driver's own commit: counted by the commit listener
        table = _TABLE.search(sql)
        self.statements[f"{verb} {table.group(1) if table else ''}{suffix}".strip()] += 1

    def _statement(self, conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        self.count(sql)
        self._in_sqlalchemy = True

    def _done(self, *args: Any) -> None:
        self._in_sqlalchemy = False

    def _trace_sqlite(self, dbapi_connection: Any, *args: Any) -> None:
        dbapi_connection.set_trace_callback(lambda sql: self.count(sql, " (raw)"))

    def _commit(self, conn: Any) -> None:
        if self.recording:
            self.commits += 1

    @contextmanager
    def step(self) -> Iterator[None]:
        self.statements.clear()
        self.commits = 0
        self.recording = True
        try:
            yield
        finally:
            self.recording = False


def _wrap_psycopg() -> None:
    """Count the statements run on a psycopg cursor directly (wrapped once per process)."""
    import psycopg

    for name in ("execute", "executemany"):
        original = getattr(psycopg.Cursor, name)
        if getattr(original, "_counted", False):
            continue

        def wrapped(cur: Any, query: Any, *a: Any, _original: Any = original, **k: Any) -> Any:
            active = _ACTIVE[0]
            if active is not None:
                sql = query if isinstance(query, str) else str(getattr(query, "_obj", query))
                active.count(sql, " (raw)")
            return _original(cur, query, *a, **k)

        wrapped._counted = True  # type: ignore[attr-defined]
        setattr(psycopg.Cursor, name, wrapped)


def measure(url: str, n: int) -> tuple[dict[str, tuple[float, float, Counter[str]]], float]:
    """Per step: (statements, round trips, statement kinds of the last order), averaged over
    `n` warm orders; and the ledger transfers per completed order."""
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = SystemClock()
    counting = Counting(engine)
    with unit_of_work(factory) as s:
        samples.verified(s, clock, "merchant:1")
        deposits.pay_deposit(s, clock, "dep-1", "merchant:1", 100_000, "CNY")
        samples.verified(s, clock, "host:1")
    totals = {step: [0, 0] for step in STEPS}
    kinds: dict[str, Counter[str]] = {}
    with unit_of_work(factory) as s:
        before = s.execute(select(func.count()).select_from(transfers)).scalar_one()
    # the first CLEARING_SHARDS orders warm up: between them they open the merchant's, host's,
    # provider's and platform's accounts and every clearing shard of them
    warm = CLEARING_SHARDS
    for i in range(warm + n):
        for step in STEPS:
            with counting.step(), unit_of_work(factory) as s:
                if step == "create":
                    order_id = _create(s, clock, i)
                else:
                    orders.act(s, clock, order_id, Action(step), f"o{i}-{step}", actor="b")
            if i >= warm:
                totals[step][0] += sum(counting.statements.values())
                totals[step][1] += sum(counting.statements.values()) + counting.commits
                kinds[step] = Counter(counting.statements)
    with unit_of_work(factory) as s:
        after = s.execute(select(func.count()).select_from(transfers)).scalar_one()
    engine.dispose()
    table = {step: (a / n, b / n, kinds[step]) for step, (a, b) in totals.items()}
    return table, (after - before) / (warm + n)


def _create(s: Any, clock: Any, i: int) -> int:
    return orders.create_order(
        s,
        clock,
        f"o{i}",
        buyer="buyer:1",
        merchant="merchant:1",
        total=9_900,
        currency="CNY",
        category="default",
        host="host:1",
        host_rate_bp=500,
    ).id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--orders", type=int, default=5)
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("-v", "--verbose", action="store_true", help="list statement kinds")
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        with database(backend, args.pg_url) as url:
            if url is None:
                continue
            table, per_order = measure(url, args.orders)
        print(f"{backend}: statements / round trips (statements + commits) per step")
        for step, (stmts, trips, kinds) in table.items():
            print(f"  {step:8} {stmts:5.1f} statements {trips:5.1f} round trips")
            if args.verbose:
                for kind, count in sorted(kinds.items()):
                    print(f"             {count} x {kind}")
        total = sum(t[0] for t in table.values())
        print(f"  {'order':8} {total:5.1f} statements; {per_order:.1f} ledger transfers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
