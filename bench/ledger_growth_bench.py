#!/usr/bin/env python
"""Ledger transfers/s as the journal grows, from an EMPTY database, with no maintenance step.

Each arm is its own new PostgreSQL database, migrated and then left alone: no VACUUM, no
ANALYZE, and (by default) autovacuum switched off on its tables. That is the worst case for
cached plans: nothing ever replans a statement whose plan was made while the tables were
empty, and the planner has no statistics, only the tables' current sizes. With autovacuum on,
its ANALYZE would replan the statements at moments that depend on the server's timing, not on
the code, and the run would not say what the code does (`--autovacuum server` keeps the
server's setting; this server's is printed).

The arms differ only in the engine's connection options:

* ``new``: `xinren.db.make_engine` as it is (`PG_PLANNER_OPTIONS`);
* ``old``: ``plan_cache_mode=force_generic_plan``, what `make_engine` set before issue 15;
* ``auto``: ``plan_cache_mode=auto``, PostgreSQL's default (not run unless asked).

The arms run interleaved, one round each in turn, so machine load falls on all alike. A round
opens a few new accounts (a platform's users arrive as it grows; untimed), writes one batch of
``--batch`` transfers through `ledger.service.submit` in one unit of work, and, five times per
window, ``--singles`` transfers one per unit of work through `ledger.service.move` (capped at
``--single-seconds``), as a platform's requests would. Each transfer is two journal entries.
The windows end at 10k, 50k, 100k, 250k, 500k, 1M, 2M, ... entries; each prints the median and
min..max of its rounds. Figures are printed, never asserted.

The old arm's frozen plan is at the mercy of the rest of the server: a long run on a busy one
(other sessions migrating databases) saw the old arm no slower than the new, likely because
PostgreSQL resets a backend's caches, and so its plans, when the shared invalidation queue
overflows. tests/test_db_plans.py shows the frozen plan without that chance.

``--explain`` then runs one single transfer, one batch and one hold -> post on the grown ``new``
database with auto_explain (``log_analyze``) and prints, for each statement, the scans its
executed plan used.

    python bench/ledger_growth_bench.py [--entries 1000000] [--arms new,old] [--quick]
        [--batch 1000] [--singles 50] [--autovacuum off|server] [--explain] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.errors import XinrenError
from xinren.ledger import model, service

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ARMS: dict[str, str | None] = {
    "new": None,
    "old": "-c plan_cache_mode=force_generic_plan",
    "auto": "-c plan_cache_mode=auto",
}
CURRENCY = "CNY"
SAMPLES_PER_WINDOW = 5


def checkpoints(entries: int) -> list[int]:
    """Window ends: 10k, 50k, 100k, 250k, 500k, 1M, 2M, 5M, 10M, ... and `entries` itself
    (thirds of it when it is under 10k, as in a smoke run)."""
    if entries < 10_000:
        return [entries // 3, 2 * entries // 3, entries]
    marks = [10_000, 50_000, 100_000, 250_000, 500_000]
    scale = 1_000_000
    while marks[-1] < entries:
        marks += [scale, 2 * scale, 5 * scale]
        scale *= 10
    return [m for m in marks if m < entries] + [entries]


@dataclass
class Window:
    end: int
    singles: list[float] = field(default_factory=list)
    batches: list[float] = field(default_factory=list)


@dataclass
class Arm:
    name: str
    engine: Engine
    clock: SystemClock = field(default_factory=SystemClock)
    accounts: list[str] = field(default_factory=list)
    entries: int = 0
    n: int = 0

    def __post_init__(self) -> None:
        self.factory = session_factory(self.engine)
        self.rng = random.Random(7)

    def open_accounts(self, count: int) -> None:
        with unit_of_work(self.factory) as session:
            for _ in range(count):
                code = f"bench:u{len(self.accounts)}"
                service.create_account(session, self.clock, code, CURRENCY)
                self.accounts.append(code)

    def _pair(self) -> tuple[str, str]:
        debit, credit = self.rng.sample(self.accounts, 2)
        return debit, credit

    def singles(self, count: int, cap_seconds: float) -> float:
        started = time.perf_counter()
        done = 0
        while done < count and (done == 0 or time.perf_counter() - started < cap_seconds):
            debit, credit = self._pair()
            self.n += 1
            with unit_of_work(self.factory) as session:
                service.move(session, self.clock, f"s-{self.n}", debit, credit, 1)
            done += 1
        self.entries += 2 * done
        return done / (time.perf_counter() - started)

    def batch(self, size: int) -> float:
        ops: list[model.Operation] = []
        for _ in range(size):
            debit, credit = self._pair()
            self.n += 1
            legs = (model.Leg(debit, model.Side.DEBIT, 1), model.Leg(credit, model.Side.CREDIT, 1))
            ops.append(model.TransferOp(model.Meta(f"b-{self.n}"), legs))
        started = time.perf_counter()
        with unit_of_work(self.factory) as session:
            for outcome in service.submit(session, self.clock, ops):
                if isinstance(outcome, XinrenError):
                    raise outcome
        self.entries += 2 * size
        return size / (time.perf_counter() - started)


# --- databases --------------------------------------------------------------------------------


@contextmanager
def fresh_database(admin_url: str, autovacuum: str) -> Iterator[str]:
    """A new database, migrated, nothing else (autovacuum off on its tables unless 'server')."""
    admin = create_engine(make_url(admin_url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"xinren_growth_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        setup = create_engine(url, poolclass=NullPool)
        upgrade(setup)
        if autovacuum == "off":
            with setup.begin() as conn:
                tables = conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).scalars()
                for table in list(tables):
                    conn.exec_driver_sql(
                        f'ALTER TABLE "{table}" SET (autovacuum_enabled = false, '
                        "toast.autovacuum_enabled = false)"
                    )
        setup.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def engine_for(url: str, arm: str) -> Engine:
    options = ARMS[arm]
    if options is None:
        return make_engine(url)
    return make_engine(url, connect_args={"options": options})


# --- the run ----------------------------------------------------------------------------------


def grow(arms: list[Arm], args: argparse.Namespace) -> dict[str, list[Window]]:
    marks = checkpoints(args.entries)
    windows = {arm.name: [Window(end) for end in marks] for arm in arms}
    for arm in arms:
        arm.open_accounts(args.new_accounts * 2)
    start = 0
    for w, end in enumerate(marks):
        step = (end - start) / SAMPLES_PER_WINDOW
        next_sample = float(start)
        while arms[0].entries < end:
            sample = arms[0].entries >= next_sample
            if sample:
                next_sample += step
            for arm in arms:
                arm.open_accounts(args.new_accounts)
                windows[arm.name][w].batches.append(arm.batch(args.batch))
                if sample:
                    rate = arm.singles(args.singles, args.single_seconds)
                    windows[arm.name][w].singles.append(rate)
        start = end
        print_window(windows, w, arms)
    return windows


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}..{max(values):,.0f})"


def print_window(windows: dict[str, list[Window]], w: int, arms: list[Arm]) -> None:
    end = windows[arms[0].name][w].end
    cells = []
    for arm in arms:
        win = windows[arm.name][w]
        cells.append(f"{arm.name}: single {spread(win.singles)}/s, batch {spread(win.batches)}/s")
    print(f"  up to {end:>9,} entries | " + " | ".join(cells), flush=True)


def summary(windows: dict[str, list[Window]]) -> None:
    """Last window against the first, per arm: the figure that says whether the rate falls."""
    for name, wins in windows.items():
        first, last = wins[0], wins[-1]
        ratios = []
        for label, a, b in (
            ("single", first.singles, last.singles),
            ("batch", first.batches, last.batches),
        ):
            if a and b:
                ratios.append(
                    f"{label} {statistics.median(b) / statistics.median(a):.2f}x "
                    f"({first.end:,} -> {last.end:,} entries)"
                )
        print(f"{name}: last window / first window: " + ", ".join(ratios))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    admin = create_engine(make_url(args.pg_url), poolclass=NullPool)
    try:
        with admin.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            autovacuum = conn.exec_driver_sql("SHOW autovacuum").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
    except Exception as err:  # a benchmark without its server says so and ends
        print(f"postgres: skipped ({err.__class__.__name__}: no server at {args.pg_url})")
        return 0
    finally:
        admin.dispose()
    names = args.arms.split(",")
    print(
        f"machine: nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; PostgreSQL "
        f"{version} (fsync={fsync}, server autovacuum={autovacuum}; on the bench's tables: "
        f"{'off' if args.autovacuum == 'off' else 'as the server'}); arms {names} interleaved; "
        f"batch {args.batch}, singles {args.singles} x {SAMPLES_PER_WINDOW} per window, "
        f"{args.new_accounts} new accounts a round; no VACUUM, no ANALYZE"
    )
    with _databases(args, names) as urls:
        arms = [Arm(name, engine_for(url, name)) for name, url in zip(names, urls, strict=True)]
        try:
            windows = grow(arms, args)
            summary(windows)
            if args.explain and "new" in names:
                explain(urls[names.index("new")], arms[names.index("new")])
        finally:
            for arm in arms:
                arm.engine.dispose()
    return 0


@contextmanager
def _databases(args: argparse.Namespace, names: list[str]) -> Iterator[list[str]]:
    if not names:
        yield []
        return
    with fresh_database(args.pg_url, args.autovacuum) as url, _databases(args, names[1:]) as rest:
        yield [url, *rest]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--arms", default="new,old")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=50)
    parser.add_argument("--single-seconds", type=float, default=1.0)
    parser.add_argument("--new-accounts", type=int, default=100)
    parser.add_argument("--autovacuum", choices=["off", "server"], default="off")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,500 entries")
    parser.add_argument("--pg-url", default=os.environ.get("XINREN_BENCH_PG_URL", DEFAULT_PG_URL))
    args = parser.parse_args(argv)
    unknown = set(args.arms.split(",")) - set(ARMS)
    if unknown:
        parser.error(f"unknown arms {sorted(unknown)}; known: {sorted(ARMS)}")
    if args.quick:
        args.entries, args.batch, args.singles, args.new_accounts = 1_500, 100, 3, 2
    return args


# --- explain ----------------------------------------------------------------------------------

SCAN = re.compile(
    r"(Seq Scan on \w+|Index Only Scan using \w+|Index Scan using \w+|Bitmap \w+ Scan)"
)


def explain(url: str, grown: Arm) -> None:
    """Each statement of a single transfer, a batch and a hold -> post on the grown database,
    with the scans of the plan it ran (auto_explain, log_analyze)."""
    plans: list[str] = []
    engine = make_engine(url, pool_size=1, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _auto_explain(dbapi: Any, _record: Any) -> None:
        dbapi.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        with dbapi.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            for setting in ("log_min_duration = 0", "log_level = notice", "log_analyze = on"):
                cur.execute(f"SET auto_explain.{setting}")
        dbapi.commit()

    arm = Arm("explain", engine, accounts=grown.accounts, n=grown.n + 10**9)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("single transfer", lambda: arm.singles(1, 10)),
        ("batch of 100", lambda: arm.batch(100)),
        ("hold -> post", lambda: _hold_post(arm)),
    ]
    try:
        with engine.connect() as conn:
            sizes = conn.exec_driver_sql(
                "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname LIKE 'ledger%%'"
            ).all()
        print("explain on the grown database: " + ", ".join(f"{r} {n:,} rows" for r, n in sizes))
        for label, step in steps:
            step()  # once unexplained: the connection's statements are prepared as in the run
            plans.clear()
            step()
            _print_plans(label, plans)
        _explain_orders(arm, plans)
    finally:
        engine.dispose()


def _print_plans(label: str, plans: list[str]) -> None:
    for plan in plans:
        head, _, text = plan.partition("Query Text:")
        statement = " ".join(text.split())[:70]
        scans = sorted(set(SCAN.findall(text)))
        print(f"  {label}: {head.strip()} {statement!r}: {', '.join(scans) or 'no scan'}")


ORDERS_GROWN = 20_000  # order rows (and their actions) cloned in before the orders are explained


def _explain_orders(arm: Arm, plans: list[str]) -> None:
    """Each statement of an order's four steps, once the orders tables hold 20,000 rows (cloned
    in by SQL: the order path itself runs at a few orders a second here)."""
    from xinren.demo import samples
    from xinren.orders import service as orders
    from xinren.orders.model import Action
    from xinren.parties import deposits

    clock = arm.clock

    def one_order(tag: str) -> None:
        with unit_of_work(arm.factory) as s:
            view = orders.create_order(
                s, clock, f"o-{tag}", buyer="buyer:1", merchant="merchant:1", total=9_900,
                currency=CURRENCY, category="default", host="host:1", host_rate_bp=500,
            )  # fmt: skip
        for action in (Action.PAY, Action.SHIP, Action.CONFIRM):
            with unit_of_work(arm.factory) as s:
                orders.act(s, clock, view.id, action, f"o-{tag}-{action.value}", actor="bench")

    try:
        with unit_of_work(arm.factory) as s:
            samples.verified(s, clock, "merchant:1")
            deposits.pay_deposit(s, clock, "dep-1", "merchant:1", 100_000, CURRENCY)
            samples.verified(s, clock, "host:1")
        for i in range(6):
            one_order(f"warm{i}")
        with arm.engine.begin() as conn:
            for table in ("orders", "order_actions"):
                conn.exec_driver_sql(_clone_sql(conn, table, ORDERS_GROWN))
        plans.clear()
        one_order("explained")
    except Exception as err:  # the orders' API is another helper's to change: say, go on
        print(f"  orders: skipped ({err.__class__.__name__}: {err})")
        return
    _print_plans(f"order steps ({ORDERS_GROWN:,} orders)", plans)


def _clone_sql(conn: Any, table: str, copies: int) -> str:
    """INSERT ... SELECT of `copies` copies of the table's first row, with new idempotency keys."""
    columns = conn.exec_driver_sql(
        "SELECT column_name FROM information_schema.columns "
        f"WHERE table_name = '{table}' AND column_name <> 'id' ORDER BY ordinal_position"
    ).scalars()
    names = list(columns)
    values = [
        f"{c} || '-clone-' || g" if c == "idempotency_key" else c for c in names
    ]  # fmt: skip
    return (
        f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} "
        f"FROM (SELECT * FROM {table} ORDER BY id LIMIT 1) r, generate_series(1, {copies}) g"
    )


def _hold_post(arm: Arm) -> None:
    debit, credit = arm._pair()
    arm.n += 1
    with unit_of_work(arm.factory) as session:
        held = service.hold(session, arm.clock, f"h-{arm.n}", debit, credit, 1)
    assert held.hold_id is not None
    with unit_of_work(arm.factory) as session:
        service.post(session, arm.clock, f"p-{arm.n}", held.hold_id)


if __name__ == "__main__":
    sys.exit(main())
