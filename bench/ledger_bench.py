#!/usr/bin/env python
"""Ledger write-path benchmark: transfers/s and hold-then-post cycles/s, next to raw SQL.

Measures, on SQLite and on PostgreSQL, with one writer and with N concurrent writers (threads):

* ledger transfers one per transaction (``service.move`` in its own ``unit_of_work``);
* ledger transfers batched (``service.submit`` with ``--batch`` TransferOps per transaction);
* hold-then-post cycles one at a time (hold in one transaction, post in the next);
* hold-then-post cycles batched (a batch of holds in one transaction, a batch of posts in the
  next);

and, in the same run, through the same driver (the SQLAlchemy engine from ``make_engine``, with
``exec_driver_sql``), two raw-SQL baselines on plain tables in the same database:

* (a) one transfer per transaction: one INSERT of two leg rows, two UPDATEs of balance rows,
  commit;
* (b) ``--batch`` transfers per transaction: one multi-row INSERT of the legs and ONE set-based
  UPDATE of the balances (``UPDATE ... FROM (VALUES ...)``, which SQLite supports since 3.33).

Every figure is printed as a ratio ledger/raw. Nothing asserts on wall time. Each ledger
measurement is bracketed by its own raw baseline (half the time just before, half just after), so
a change in machine load moves both alike.

Fairness notes (also printed):

* The raw writers each hold one connection for the whole measurement; the ledger checks a
  Session out of the pool per transaction, as an application does (on PostgreSQL that includes
  ``make_engine``'s ``pool_pre_ping``). That is part of what is measured.
* A hold-then-post cycle is two transactions, so its raw equivalent is the raw rate / 2.
* Each writer moves money round a ring of its own accounts (limited accounts, funded first from an
  unlimited source, so the limit path runs), so writers do not contend on rows. The "contended"
  rows put every writer on one hot pair of accounts.
* Writers are threads of one Python process: Python-side work is serialised by the GIL. On SQLite
  writers also serialise on the database file lock (``BEGIN IMMEDIATE``); that is expected.

``--profile`` skips the benchmark and instead profiles the one-at-a-time and batched transfer
paths (statement counts, round trips, time per statement, Python share, cProfile hot spots), then
times "what-if" prototypes of the same writes with fixed SQL text next to raw and the ledger.

Usage: ``python bench/ledger_bench.py [--backend sqlite|postgres|both] [--seconds S | --count N]
[--quick] [--writers 8] [--batch 1000] [--pg-url URL] [--profile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import re
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, cast

import psycopg
import psycopg.waiting
import sqlalchemy
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.errors import XinrenError
from xinren.ids import payload_hash
from xinren.ledger import model, service

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACCOUNTS_PER_WRITER = 8  # each writer moves money round a ring of its own accounts
FUNDING = 10**12  # minor units given to every limited account before the runs
SOURCE = "bench:source"
CURRENCY = "CNY"


# --- settings and results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    seconds: float | None  # per measurement, or None when `count` is given
    count: int | None  # operations per writer per measurement (batched: whole batches)
    writers: int
    batch: int
    warmup: bool


@dataclass(frozen=True, slots=True)
class Rate:
    ops: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Accounts:
    """One writer's accounts: ledger codes and the matching raw_accounts ids."""

    codes: tuple[str, ...]
    ids: tuple[int, ...]

    def pair(self, n: int) -> tuple[int, int]:
        """Indexes of the n-th transfer's debit and credit accounts (round the ring)."""
        k = len(self.codes)
        return n % k, (n + 1) % k


@dataclass(frozen=True, slots=True)
class Layout:
    writers: int

    def own(self, writer: int) -> Accounts:
        k = ACCOUNTS_PER_WRITER
        return Accounts(
            tuple(f"bench:w{writer}:a{j}" for j in range(k)),
            tuple(writer * k + j + 1 for j in range(k)),
        )

    def hot(self) -> Accounts:
        base = self.writers * ACCOUNTS_PER_WRITER
        return Accounts(("bench:hot:a", "bench:hot:b"), (base + 1, base + 2))

    def everyone(self) -> list[Accounts]:
        return [self.own(w) for w in range(self.writers)] + [self.hot()]


@dataclass(slots=True)
class Bench:
    """One backend's database, engine and accounts."""

    backend: str
    engine: Engine
    factory: sessionmaker[Session]
    layout: Layout
    clock: SystemClock = field(default_factory=SystemClock)

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @property
    def ph(self) -> str:
        """The driver's positional placeholder (psycopg: format, sqlite3: qmark)."""
        return "%s" if self.postgres else "?"


# --- workers ----------------------------------------------------------------------------------


class Worker(Protocol):
    def warm(self) -> None:
        """Untimed: fill the pool, caches and prepared statements (a small batch for batches)."""
        ...

    def step(self) -> int:
        """Do one unit of work; return how many operations (transfers or cycles) it did."""
        ...

    def close(self) -> None: ...


WARM_STEPS = 20  # one-at-a-time workers warm up with this many steps
WARM_BATCH = 20  # batch workers warm up with one batch of this size (a full one can take seconds)


class OneAtATime:
    """A worker whose step is one transfer or cycle; warms up with a few steps."""

    warm_steps = WARM_STEPS

    def warm(self) -> None:
        for _ in range(self.warm_steps):
            self.step()

    def step(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


class Batched:
    """A worker whose step is one batch of `batch` operations; warms up with a small batch."""

    def __init__(self, batch: int) -> None:
        self.batch = batch

    def warm(self) -> None:
        self.run(min(self.batch, WARM_BATCH))

    def step(self) -> int:
        return self.run(self.batch)

    def run(self, size: int) -> int:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _accepted(outcomes: Sequence[service.Outcome]) -> list[service.Result]:
    results: list[service.Result] = []
    for outcome in outcomes:
        if isinstance(outcome, XinrenError):
            raise outcome
        results.append(outcome)
    return results


class RawSingle(OneAtATime):
    """Baseline (a): INSERT two legs, UPDATE two balances, commit; one transfer per transaction."""

    def __init__(self, bench: Bench, accounts: Accounts, *, hold_connection: bool = True) -> None:
        self.bench = bench
        self.ids = accounts.ids
        self.n = 0
        ph = bench.ph
        self.insert = f"INSERT INTO raw_legs (account_id, amount) VALUES ({ph}, {ph}), ({ph}, {ph})"
        self.update = f"UPDATE raw_accounts SET balance = balance + {ph} WHERE id = {ph}"
        self.conn = bench.engine.connect() if hold_connection else None

    def step(self) -> int:
        i, j = self._pair()
        debit, credit = self.ids[i], self.ids[j]
        self.n += 1
        if self.conn is None:  # profile variant: a pool checkout per transaction
            with self.bench.engine.begin() as conn:
                self._transfer(conn, debit, credit)
        else:
            with self.conn.begin():
                self._transfer(self.conn, debit, credit)
        return 1

    def _pair(self) -> tuple[int, int]:
        k = len(self.ids)
        return self.n % k, (self.n + 1) % k

    def _transfer(self, conn: sqlalchemy.Connection, debit: int, credit: int) -> None:
        conn.exec_driver_sql(self.insert, (debit, -1, credit, 1))
        for account_id, delta in sorted(((debit, -1), (credit, 1))):  # id order: no deadlocks
            conn.exec_driver_sql(self.update, (delta, account_id))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class RawBatch(Batched):
    """Baseline (b): `batch` transfers per transaction, one multi-row INSERT of the legs and ONE
    set-based UPDATE of the balances (deltas summed per account in Python, as the ledger does).

    PostgreSQL: ``UPDATE raw_accounts SET balance = balance + v.delta FROM (VALUES ...) AS
    v(id, delta) WHERE raw_accounts.id = v.id``. SQLite (>= 3.33) has the same ``UPDATE ... FROM``;
    its VALUES columns are called column1, column2, so a sub-select names them. Both are a single
    statement, the honest equivalent of each other.
    """

    def __init__(self, bench: Bench, accounts: Accounts, batch: int) -> None:
        super().__init__(batch)
        self.bench = bench
        self.ids = accounts.ids
        self.n = 0
        self._inserts: dict[int, str] = {}
        self._updates: dict[int, str] = {}
        self.conn = bench.engine.connect()

    def _insert_sql(self, rows: int) -> str:
        sql = self._inserts.get(rows)
        if sql is None:
            ph = self.bench.ph
            values = ", ".join([f"({ph}, {ph})"] * rows)
            sql = self._inserts[rows] = f"INSERT INTO raw_legs (account_id, amount) VALUES {values}"
        return sql

    def _update_sql(self, rows: int) -> str:
        sql = self._updates.get(rows)
        if sql is None:
            if self.bench.postgres:
                values = ", ".join(["(%s::bigint, %s::bigint)"] * rows)
                sql = (
                    "UPDATE raw_accounts SET balance = raw_accounts.balance + v.delta "
                    f"FROM (VALUES {values}) AS v(id, delta) WHERE raw_accounts.id = v.id"
                )
            else:
                values = ", ".join(["(?, ?)"] * rows)
                sql = (
                    "UPDATE raw_accounts SET balance = raw_accounts.balance + v.delta "
                    f"FROM (SELECT column1 AS id, column2 AS delta FROM (VALUES {values})) AS v "
                    "WHERE raw_accounts.id = v.id"
                )
            self._updates[rows] = sql
        return sql

    def run(self, size: int) -> int:
        legs: list[int] = []
        deltas: dict[int, int] = defaultdict(int)
        k = len(self.ids)
        for _ in range(size):
            debit, credit = self.ids[self.n % k], self.ids[(self.n + 1) % k]
            self.n += 1
            legs += (debit, -1, credit, 1)
            deltas[debit] -= 1
            deltas[credit] += 1
        params = tuple(x for account_id in sorted(deltas) for x in (account_id, deltas[account_id]))
        with self.conn.begin():
            self.conn.exec_driver_sql(self._insert_sql(2 * size), tuple(legs))
            self.conn.exec_driver_sql(self._update_sql(len(deltas)), params)
        return size

    def close(self) -> None:
        self.conn.close()


class LedgerMove(OneAtATime):
    """Ledger: one `service.move` per `unit_of_work`."""

    def __init__(self, bench: Bench, accounts: Accounts, tag: str) -> None:
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0

    def step(self) -> int:
        i, j = self.accounts.pair(self.n)
        key = f"{self.tag}-{self.n}"
        self.n += 1
        with unit_of_work(self.bench.factory) as session:
            service.move(
                session, self.bench.clock, key, self.accounts.codes[i], self.accounts.codes[j], 1
            )
        return 1

    def close(self) -> None:
        pass


class LedgerBatch(Batched):
    """Ledger: `service.submit` with `batch` TransferOps per `unit_of_work`."""

    def __init__(self, bench: Bench, accounts: Accounts, tag: str, batch: int) -> None:
        super().__init__(batch)
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0

    def run(self, size: int) -> int:
        codes = self.accounts.codes
        ops: list[model.Operation] = []
        for _ in range(size):
            i, j = self.accounts.pair(self.n)
            legs = (
                model.Leg(codes[i], model.Side.DEBIT, 1),
                model.Leg(codes[j], model.Side.CREDIT, 1),
            )
            ops.append(model.TransferOp(model.Meta(f"{self.tag}-{self.n}"), legs))
            self.n += 1
        with unit_of_work(self.bench.factory) as session:
            _accepted(service.submit(session, self.bench.clock, ops))
        return size


class LedgerHoldPost(OneAtATime):
    """Ledger: a hold in one `unit_of_work`, its post in the next; one cycle per step."""

    warm_steps = WARM_STEPS // 2

    def __init__(self, bench: Bench, accounts: Accounts, tag: str) -> None:
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0

    def step(self) -> int:
        i, j = self.accounts.pair(self.n)
        key = f"{self.tag}-{self.n}"
        self.n += 1
        clock = self.bench.clock
        with unit_of_work(self.bench.factory) as session:
            held = service.hold(
                session, clock, f"{key}-h", self.accounts.codes[i], self.accounts.codes[j], 1
            )
        if held.hold_id is None:
            raise RuntimeError(f"hold {key} returned no hold id")
        with unit_of_work(self.bench.factory) as session:
            service.post(session, clock, f"{key}-p", held.hold_id)
        return 1


class LedgerHoldPostBatch(Batched):
    """Ledger: a batch of `batch` holds in one `unit_of_work`, then a batch of their posts."""

    def __init__(self, bench: Bench, accounts: Accounts, tag: str, batch: int) -> None:
        super().__init__(batch)
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0

    def run(self, size: int) -> int:
        codes = self.accounts.codes
        holds: list[model.Operation] = []
        for _ in range(size):
            i, j = self.accounts.pair(self.n)
            holds.append(model.HoldOp(model.Meta(f"{self.tag}-{self.n}-h"), codes[i], codes[j], 1))
            self.n += 1
        clock = self.bench.clock
        with unit_of_work(self.bench.factory) as session:
            held = _accepted(service.submit(session, clock, holds))
        posts: list[model.Operation] = []
        for op, result in zip(holds, held, strict=True):
            if result.hold_id is None:
                raise RuntimeError(f"hold {op.meta.key} returned no hold id")
            posts.append(model.PostOp(model.Meta(op.meta.key[:-2] + "-p"), result.hold_id))
        with unit_of_work(self.bench.factory) as session:
            _accepted(service.submit(session, clock, posts))
        return size


# --- the harness ------------------------------------------------------------------------------


def measure(make: Callable[[int], Worker], writers: int, settings: Settings) -> Rate:
    """Run `writers` threads of `make(i)` workers for the set time or count; ops over wall time."""
    workers = [make(i) for i in range(writers)]
    ready = threading.Barrier(writers + 1)
    go = threading.Event()
    deadline = [0.0]
    counts = [0] * writers
    ends = [0.0] * writers
    errors: list[BaseException] = []

    def run(index: int) -> None:
        worker = workers[index]
        try:
            if settings.warmup:
                worker.warm()
        except BaseException as err:
            errors.append(err)
        ready.wait()
        go.wait()
        done = 0
        try:
            if errors:
                return
            if settings.count is not None:
                while done < settings.count:
                    done += worker.step()
            else:
                while time.perf_counter() < deadline[0]:
                    done += worker.step()
        except BaseException as err:
            errors.append(err)
        finally:
            counts[index] = done
            ends[index] = time.perf_counter()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(writers)]
    try:
        for thread in threads:
            thread.start()
        ready.wait()
        start = time.perf_counter()
        deadline[0] = start + (settings.seconds or 0.0)
        go.set()
        for thread in threads:
            thread.join()
    finally:
        for worker in workers:
            worker.close()
    if errors:
        raise errors[0]
    return Rate(sum(counts), max(ends) - start)


# --- databases --------------------------------------------------------------------------------


def _psycopg_url(url: str) -> sqlalchemy.URL:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throw-away database ``xinren_bench_<random>`` on the server; dropped at the end."""
    parsed = _psycopg_url(admin_url)
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"xinren_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="xinren_bench_") as tmp:
        yield f"sqlite:///{tmp}/bench.db"


@contextmanager
def open_bench(backend: str, pg_url: str, writers: int) -> Iterator[Bench]:
    database = postgres_database(pg_url) if backend == "postgres" else sqlite_database()
    with database as url:
        engine = make_engine(url)
        try:
            bench = Bench(backend, engine, session_factory(engine), Layout(writers))
            prepare(bench)
            yield bench
        finally:
            engine.dispose()


def prepare(bench: Bench) -> None:
    """Migrate, open and fund the ledger accounts, create and fill the raw tables."""
    upgrade(bench.engine)
    clock = bench.clock
    groups = bench.layout.everyone()
    with unit_of_work(bench.factory) as session:
        service.create_account(session, clock, SOURCE, CURRENCY)
        for group in groups:
            for code in group.codes:
                service.create_account(
                    session, clock, code, CURRENCY, debits_must_not_exceed_credits=True
                )
    funding: list[model.Operation] = [
        model.TransferOp(
            model.Meta(f"fund-{code.replace(':', '.')}"),
            (
                model.Leg(SOURCE, model.Side.DEBIT, FUNDING),
                model.Leg(code, model.Side.CREDIT, FUNDING),
            ),
        )
        for group in groups
        for code in group.codes
    ]
    with unit_of_work(bench.factory) as session:
        _accepted(service.submit(session, clock, funding))

    if bench.postgres:
        ddl = [
            "CREATE TABLE raw_accounts (id bigint PRIMARY KEY, balance bigint NOT NULL)",
            "CREATE TABLE raw_legs (id bigserial PRIMARY KEY, account_id bigint NOT NULL, "
            "amount bigint NOT NULL)",
        ]
    else:
        ddl = [
            "CREATE TABLE raw_accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
            "CREATE TABLE raw_legs (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, "
            "amount INTEGER NOT NULL)",
        ]
    ph = bench.ph
    rows = [(account_id, FUNDING) for group in groups for account_id in group.ids]
    with bench.engine.begin() as conn:
        for statement in ddl:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(f"INSERT INTO raw_accounts (id, balance) VALUES ({ph}, {ph})", rows)
    # no VACUUM or ANALYZE: the ledger has to be fast on a database nobody has maintained


def database_facts(bench: Bench) -> str:
    with bench.engine.connect() as conn:
        if bench.postgres:
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            sync = conn.exec_driver_sql("SHOW synchronous_commit").scalar()
            fsync = conn.exec_driver_sql("SHOW fsync").scalar()
            return f"PostgreSQL {version} (synchronous_commit={sync}, fsync={fsync})"
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync_level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
        sync_name = names.get(int(sync_level or 0), str(sync_level))
        return f"SQLite {version} (journal_mode={mode}, synchronous={sync_name}, temp file)"


def machine_facts() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"machine: {platform.system()} {platform.release()} {platform.machine()}, "
        f"nproc {nproc}, cpu {cpu}",
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"sqlalchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__} "
        f"({psycopg.pq.__impl__}), sqlite3 library {sqlite3.sqlite_version}",
    ]


# --- the benchmark ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    what: str
    unit: str
    writers: int
    ledger: Rate
    baseline: str
    raw: Rate  # the raw baseline bracketing this measurement
    halve: bool = False  # cycles: two transactions each, so the raw equivalent is raw / 2

    @property
    def raw_equivalent(self) -> float:
        return self.raw.per_second / (2 if self.halve else 1)

    @property
    def ratio(self) -> float:
        return self.ledger.per_second / self.raw_equivalent if self.raw_equivalent else 0.0


def _percent(ratio: float) -> str:
    return f"{ratio:.1%}" if ratio < 0.095 else f"{ratio:.0%}"


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_backend(bench: Bench, settings: Settings, console: Console) -> tuple[Table, str]:
    """Every ledger measurement is bracketed by its raw baseline (half the time before, half
    after, summed), so a change in machine load during the run moves both alike."""
    layout = bench.layout
    batch = settings.batch
    counts = [1] if settings.writers == 1 else [1, settings.writers]
    half = replace(settings, seconds=settings.seconds / 2) if settings.seconds is not None else None

    def bracketed(
        label: str, raw: Callable[[int], Worker], ledger: Callable[[int], Worker], writers: int
    ) -> tuple[Rate, Rate]:
        if console.is_terminal:  # progress only on a terminal: keep captured output clean
            console.log(f"{bench.backend}: {label}, {writers} writer(s)")
        if half is None:  # --count: one raw run of the same count
            return measure(ledger, writers, settings), measure(raw, writers, settings)
        before = measure(raw, writers, half)
        rate = measure(ledger, writers, settings)
        after = measure(raw, writers, half)
        return rate, Rate(before.ops + after.ops, before.seconds + after.seconds)

    def raw_a(hot: bool = False) -> Callable[[int], Worker]:
        return lambda w: RawSingle(bench, layout.hot() if hot else layout.own(w))

    def raw_b(w: int) -> Worker:
        return RawBatch(bench, layout.own(w), batch)

    def moves(tag: str, hot: bool = False) -> Callable[[int], Worker]:
        return lambda w: LedgerMove(bench, layout.hot() if hot else layout.own(w), f"{tag}.w{w}")

    def batches(tag: str) -> Callable[[int], Worker]:
        return lambda w: LedgerBatch(bench, layout.own(w), f"{tag}.w{w}", batch)

    def cycles(tag: str) -> Callable[[int], Worker]:
        return lambda w: LedgerHoldPost(bench, layout.own(w), f"{tag}.w{w}")

    def cycle_batches(tag: str) -> Callable[[int], Worker]:
        return lambda w: LedgerHoldPostBatch(bench, layout.own(w), f"{tag}.w{w}", batch)

    lines: list[Line] = []
    for n in counts:
        rate, raw = bracketed("transfers 1 per tx", raw_a(), moves(f"t{n}"), n)
        lines.append(Line("transfers, 1 per tx", "transfers/s", n, rate, "(a)", raw))
    if settings.writers > 1:
        n = settings.writers
        rate, raw = bracketed("hot pair", raw_a(hot=True), moves("th", hot=True), n)
        what = "transfers, 1 per tx, contended: one hot pair"
        lines.append(Line(what, "transfers/s", n, rate, "(a) hot pair", raw))
    for n in counts:
        rate, raw = bracketed("transfers batched", raw_b, batches(f"tb{n}"), n)
        lines.append(Line(f"transfers, {batch:,} per tx", "transfers/s", n, rate, "(b)", raw))
    for n in counts:
        rate, raw = bracketed("hold->post 1 per tx", raw_a(), cycles(f"h{n}"), n)
        lines.append(Line("hold->post, 1 per tx", "cycles/s", n, rate, "(a) / 2", raw, True))
    for n in counts:
        rate, raw = bracketed("hold->post batched", raw_b, cycle_batches(f"hb{n}"), n)
        what = f"hold->post, {batch:,} holds then {batch:,} posts"
        lines.append(Line(what, "cycles/s", n, rate, "(b) / 2", raw, True))

    table = Table(
        title=f"{bench.backend}: {database_facts(bench)}",
        caption=_caption(settings),
        caption_justify="left",
    )
    table.add_column("ledger measurement")
    table.add_column("writers", justify="right")
    table.add_column("ledger", justify="right")
    table.add_column("ledger ops", justify="right")
    table.add_column("raw baseline", justify="left")
    table.add_column("raw", justify="right")
    table.add_column("raw ops", justify="right")
    table.add_column("ledger/raw", justify="right")
    for line in lines:
        table.add_row(
            line.what,
            str(line.writers),
            f"{line.ledger.per_second:,.0f} {line.unit}",
            f"{line.ledger.ops:,}",
            line.baseline,
            f"{line.raw_equivalent:,.0f}/s",
            f"{line.raw.ops:,}",
            _percent(line.ratio),
        )

    one = next(line for line in lines if line.baseline == "(a)" and line.writers == 1)
    batched = next(line for line in lines if line.baseline == "(b)" and line.writers == 1)
    summary = (
        f"{bench.backend}: transfers one-at-a-time: {one.ledger.per_second:,.0f}/s = "
        f"{_percent(one.ratio)} of raw (a); batched: {batched.ledger.per_second:,.0f}/s = "
        f"{_percent(batched.ratio)} of raw (b)"
    )
    return table, summary


def _caption(settings: Settings) -> str:
    if settings.seconds is not None:
        span = (
            f"{settings.seconds:g} s per ledger measurement, bracketed by its raw baseline "
            f"({settings.seconds / 2:g} s before + {settings.seconds / 2:g} s after)"
        )
    else:
        span = f"{settings.count} ops per writer per measurement (raw: same count)"
    return (
        f"{span}; batch {settings.batch:,}. A batched run does at least one whole batch per "
        "writer, so it may overrun.\n"
        "Raw (a): INSERT 2 legs + 2 UPDATEs + commit per transfer. Raw (b): batch transfers per "
        "tx: one multi-row INSERT + ONE set-based UPDATE.\n"
        f"Writers are threads of one process (GIL); each has its own ring of "
        f"{ACCOUNTS_PER_WRITER} limited accounts (no row contention), except the 'hot pair' row, "
        "where all writers share 2 accounts.\n"
        "A hold->post cycle is 2 transactions, so its raw equivalent is raw / 2. Raw writers hold "
        "one connection each; the ledger checks one out per unit_of_work.\n"
        "SQLite: writers serialise on the file lock (BEGIN IMMEDIATE). 'ops': operations counted."
    )


# --- profiling --------------------------------------------------------------------------------

_STATEMENT = re.compile(
    r"^\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT\b.*?\bFROM|BEGIN\b[\w ]*|COMMIT|SAVEPOINT)\s*"
    r"(\w+)?",
    re.IGNORECASE | re.DOTALL,
)


def statement_label(statement: str, parameters: Any, executemany: bool) -> str:
    text = " ".join(statement.split())
    match = _STATEMENT.match(text)
    if match is None:
        label = text[:40]
    else:
        verb, table = match.group(1), match.group(2) or ""
        if verb.upper().startswith("SELECT"):
            verb = "SELECT"
        label = f"{verb.split()[0] if verb.upper().startswith('INSERT') else verb} {table}".strip()
    if " FOR UPDATE" in text.upper():
        label += " FOR UPDATE"
    if " RETURNING " in text.upper():
        label += " RETURNING"
    if executemany and isinstance(parameters, list | tuple):
        label += f" (executemany of {len(parameters)})"
    elif " VALUES " in text.upper():
        rows = text.upper().split(" VALUES ", 1)[1].count("), (") + 1
        if rows > 1:
            label += f" ({rows} rows)"
    return label


class Instrument:
    """Counts and times statements (cursor events), commits, pre-pings and psycopg's waits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.cursor_seconds = 0.0
        self.commits = [0.0, 0.0]
        self.pings = [0.0, 0.0]
        self.waits = [0.0, 0.0]  # psycopg round trips: each wait() drives one query to its end
        self._saved: dict[str, Any] = {}

    def _before(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        elapsed = time.perf_counter() - conn.info["bench_t0"].pop()
        self.cursor_seconds += elapsed
        entry = self.statements[statement_label(statement, parameters, many)]
        entry[0] += 1
        entry[1] += elapsed

    def _timed(self, name: str, sink: list[float]) -> Callable[..., Any]:
        original = self._saved[name]

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                sink[0] += 1
                sink[1] += time.perf_counter() - t0

        return wrapper

    def __enter__(self) -> Instrument:
        dialect = self.engine.dialect
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        self._saved["do_commit"] = dialect.do_commit
        self._saved["do_ping"] = dialect.do_ping
        self._saved["wait"] = psycopg.waiting.wait
        setattr(dialect, "do_commit", self._timed("do_commit", self.commits))  # noqa: B010
        setattr(dialect, "do_ping", self._timed("do_ping", self.pings))  # noqa: B010
        setattr(psycopg.waiting, "wait", self._timed("wait", self.waits))  # noqa: B010
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        delattr(self.engine.dialect, "do_commit")
        delattr(self.engine.dialect, "do_ping")
        setattr(psycopg.waiting, "wait", self._saved["wait"])  # noqa: B010


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def _time_steps(worker: Worker, steps: int) -> float:
    """Seconds per step."""
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        worker.step()
        done += 1
    return (time.perf_counter() - t0) / steps


def breakdown(
    title: str, bench: Bench, worker: Worker, steps: int, per: str, console: Console
) -> None:
    """Plain timing, then an instrumented run: where one step's time goes."""
    wall = _time_steps(worker, steps)
    with Instrument(bench.engine) as ins:
        wall_instrumented = _time_steps(worker, steps)
    table = Table(title=f"{bench.backend}: {title} — {_us(wall)} per {per} ({1 / wall:,.0f}/s)")
    table.add_column("statement / phase")
    table.add_column(f"per {per}", justify="right")
    table.add_column("each", justify="right")
    table.add_column(f"total per {per}", justify="right")
    table.add_column("share of wall", justify="right")
    for label, (calls, seconds) in sorted(ins.statements.items(), key=lambda kv: -kv[1][1]):
        table.add_row(
            label,
            f"{calls / steps:g}",
            _us(seconds / calls),
            _us(seconds / steps),
            f"{seconds / steps / wall_instrumented:.0%}",
        )
    table.add_section()
    rows: list[tuple[str, list[float]]] = [("COMMIT (dialect.do_commit)", ins.commits)]
    if ins.pings[0]:
        rows.append(("pool pre-ping (dialect.do_ping)", ins.pings))
    for label, (calls, seconds) in rows:
        table.add_row(
            label,
            f"{calls / steps:g}",
            _us(seconds / calls) if calls else "",
            _us(seconds / steps),
            f"{seconds / steps / wall_instrumented:.0%}",
        )
    db = ins.cursor_seconds + ins.commits[1] + ins.pings[1]
    table.add_row(
        "all statements + commit + ping (driver and database)",
        "",
        "",
        _us(db / steps),
        f"{db / steps / wall_instrumented:.0%}",
    )
    table.add_row(
        "rest: Python outside the driver (xinren, SQLAlchemy, session, pool)",
        "",
        "",
        _us(wall_instrumented - db / steps),
        f"{1 - db / steps / wall_instrumented:.0%}",
    )
    if bench.postgres:
        calls, seconds = ins.waits
        table.add_row(
            "psycopg round trips (waiting on socket: network + server)",
            f"{calls / steps:g}",
            _us(seconds / calls) if calls else "",
            _us(seconds / steps),
            f"{seconds / steps / wall_instrumented:.0%}",
        )
        table.add_row(
            "everything but waiting on the server (all Python incl. psycopg)",
            "",
            "",
            _us(wall_instrumented - seconds / steps),
            f"{1 - seconds / steps / wall_instrumented:.0%}",
        )
    table.caption = (
        f"{steps} {per}s timed plain, then {steps} instrumented "
        f"({_us(wall_instrumented)} per {per} with instrumentation; shares are of that)."
    )
    table.caption_justify = "left"
    console.print(table)


def hot_spots(bench: Bench, worker: Worker, steps: int, per: str, console: Console) -> None:
    """cProfile: cumulative time per step of the write path's phases, and the top functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    _time_steps(worker, steps)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw = cast(dict[tuple[str, int, str], tuple[int, int, float, float, Any]], stats.stats)  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in raw.values())
    wanted = [
        ("xinren/db.py", "unit_of_work"),
        ("xinren/ledger/service.py", "submit"),
        ("xinren/ledger/service.py", "_claim_keys"),
        ("xinren/ledger/service.py", "_lock_holds"),
        ("xinren/ledger/service.py", "_lock_accounts"),
        ("xinren/ledger/model.py", "plan_batch"),
        ("xinren/ledger/service.py", "_write"),
        ("xinren/ledger/service.py", "_write_holds"),
        ("xinren/ids.py", "payload_hash"),
        ("xinren/ids.py", "check_idempotency_key"),
        ("sqlalchemy/orm/session.py", "execute"),
        ("sqlalchemy/orm/session.py", "commit"),
        ("sqlalchemy/orm/session.py", "close"),
        ("sqlalchemy/sql/elements.py", "_compiler"),
        ("sqlalchemy/sql/compiler.py", "__init__"),
        ("sqlalchemy/sql/cache_key.py", "_generate_cache_key"),
        ("sqlalchemy/pool/base.py", "_checkout"),
        ("sqlalchemy/engine/default.py", "_do_ping_w_event"),
        ("psycopg/cursor.py", "execute"),
        ("psycopg/cursor.py", "executemany"),
    ]
    table = Table(
        title=f"{bench.backend}: cProfile of {steps} {per}s "
        f"(profiler inflates Python; {_us(total / steps)} per {per} profiled)"
    )
    table.add_column("function")
    table.add_column(f"calls per {per}", justify="right")
    table.add_column(f"cumulative per {per}", justify="right")
    table.add_column("share", justify="right")
    for suffix, name in wanted:
        hits = [
            (cc, ct)
            for (fname, _, func), (cc, _nc, _tt, ct, _) in raw.items()
            if func == name and fname.replace("\\", "/").endswith(suffix)
        ]
        if not hits:
            continue
        calls = sum(h[0] for h in hits)
        cum = max(h[1] for h in hits)
        table.add_row(
            f"{suffix}:{name}", f"{calls / steps:g}", _us(cum / steps), f"{cum / total:.0%}"
        )
    console.print(table)
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats("tottime").print_stats(15)
    lines = buf.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    console.print(f"top functions by own time ({steps} {per}s):", markup=False)
    for line in lines[start:]:
        if line.strip():
            console.print("  " + line.rstrip(), markup=False, highlight=False)


def profile_backend(bench: Bench, settings: Settings, console: Console) -> None:
    layout = bench.layout
    steps = settings.count or 300  # one-at-a-time steps per timing (--count overrides)
    batches = max(1, min(3, steps // 100))
    batch = settings.batch
    console.print(f"\n== profile: {bench.backend}, {database_facts(bench)}", markup=False)

    raw_held = RawSingle(bench, layout.own(0))
    raw_pool = RawSingle(bench, layout.own(0), hold_connection=False)
    move = LedgerMove(bench, layout.own(0), "pm")
    first: tuple[Worker, ...] = (raw_held, raw_pool, move)
    for worker in first:
        _time_steps(worker, 100)
    with bench.engine.connect() as conn:
        t0 = time.perf_counter()
        for _ in range(steps):
            conn.exec_driver_sql("SELECT 1").scalar()
        select_one = (time.perf_counter() - t0) / steps
    held = _time_steps(raw_held, steps)
    pooled = _time_steps(raw_pool, steps)
    console.print(
        f"round trip (SELECT 1 on a held connection): {_us(select_one)}; raw (a) per transfer: "
        f"{_us(held)} on a held connection, {_us(pooled)} with a pool checkout per transaction "
        f"(engine.begin())",
        markup=False,
    )
    breakdown("raw (a), one per transaction", bench, raw_held, steps, "transfer", console)
    breakdown("ledger move, one per transaction", bench, move, steps, "transfer", console)
    hot_spots(bench, move, steps, "transfer", console)

    cycle = LedgerHoldPost(bench, layout.own(1 % layout.writers), "ph")
    _time_steps(cycle, 20)
    breakdown("ledger hold->post, one per transaction", bench, cycle, steps // 2, "cycle", console)

    raw_b = RawBatch(bench, layout.own(0), batch)
    ledger_b = LedgerBatch(bench, layout.own(0), "pb", batch)
    warm: tuple[Worker, ...] = (raw_b, ledger_b)
    for worker in warm:
        _time_steps(worker, 1)
    breakdown(f"raw (b), {batch:,} per transaction", bench, raw_b, batches, "batch", console)
    breakdown(
        f"ledger submit, {batch:,} per transaction", bench, ledger_b, batches, "batch", console
    )
    hot_spots(bench, ledger_b, batches, "batch", console)

    holds_b = LedgerHoldPostBatch(bench, layout.own(1 % layout.writers), "phb", batch)
    _time_steps(holds_b, 1)
    breakdown(
        f"ledger {batch:,} holds then {batch:,} posts",
        bench,
        holds_b,
        batches,
        "cycle batch",
        console,
    )
    for raw in (raw_held, raw_pool, raw_b):
        raw.close()
    what_if(bench, steps, batch, console)


# --- what-if prototypes (profile only) --------------------------------------------------------
#
# The ledger's own writes (claim the key, lock/check the accounts, journal entries, balance
# update) written directly against its tables with fixed SQL text through the same engine: an
# estimate of what a leaner implementation of `service.submit` could reach. Not the ledger: no
# replay handling, no detailed errors (limits are left to the tables' CHECK constraints).


def _transfer_hash(debit: str, credit: str, amount: int) -> str:
    body = {
        "kind": "transfer",
        "reason": "",
        "refs": {},
        "legs": [[debit, "debit", amount], [credit, "credit", amount]],
    }
    return payload_hash(body)


def _created_at(bench: Bench) -> Any:
    """Now, as SQLAlchemy's DateTime stores it (SQLite: text; PostgreSQL: timestamptz)."""
    now = bench.clock.now()
    return now if bench.postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")


PG_ONE_STATEMENT = """
WITH v AS (
    SELECT id,
           CASE WHEN code = %(debit)s THEN %(amount)s::bigint ELSE 0::bigint END AS dp,
           CASE WHEN code = %(credit)s THEN %(amount)s::bigint ELSE 0::bigint END AS cp
    FROM ledger_accounts WHERE code IN (%(debit)s, %(credit)s) ORDER BY id FOR UPDATE
), t AS (
    INSERT INTO ledger_transfers (kind, idempotency_key, payload_hash, reason, created_at)
    VALUES ('transfer', %(key)s, %(hash)s, '', %(now)s)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
), a AS (
    UPDATE ledger_accounts
    SET debits_posted = ledger_accounts.debits_posted + v.dp,
        credits_posted = ledger_accounts.credits_posted + v.cp
    FROM v, t WHERE ledger_accounts.id = v.id
)
INSERT INTO ledger_entries
    (transfer_id, account_id, debits_posted, credits_posted, debits_pending, credits_pending)
SELECT t.id, v.id, v.dp, v.cp, 0, 0 FROM t, v
"""

SQLITE_CLAIM_ONE = (
    "INSERT INTO ledger_transfers (kind, idempotency_key, payload_hash, reason, created_at) "
    "VALUES ('transfer', ?, ?, '', ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
SQLITE_BALANCES_TWO = (
    "UPDATE ledger_accounts SET debits_posted = ledger_accounts.debits_posted + v.dp, "
    "credits_posted = ledger_accounts.credits_posted + v.cp "
    "FROM (SELECT column1 AS code, column2 AS dp, column3 AS cp "
    "FROM (VALUES (?, ?, 0), (?, 0, ?))) AS v "
    "WHERE ledger_accounts.code = v.code RETURNING ledger_accounts.id, ledger_accounts.code"
)
ENTRY_COLUMNS = (
    "INSERT INTO ledger_entries "
    "(transfer_id, account_id, debits_posted, credits_posted, debits_pending, credits_pending) "
)


class ProtoSingle(OneAtATime):
    """What-if: one transfer per transaction with fixed SQL on a held connection. PostgreSQL: ONE
    statement (CTE: lock in id order, claim, update balances, insert entries) + COMMIT; SQLite:
    claim, UPDATE ... FROM ... RETURNING, entries."""

    def __init__(self, bench: Bench, accounts: Accounts, tag: str) -> None:
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0
        self.conn = bench.engine.connect()

    def step(self) -> int:
        i, j = self.accounts.pair(self.n)
        debit, credit = self.accounts.codes[i], self.accounts.codes[j]
        key = f"{self.tag}-{self.n}"
        self.n += 1
        digest = _transfer_hash(debit, credit, 1)
        conn = self.conn
        with conn.begin():
            if self.bench.postgres:
                params = dict(
                    debit=debit,
                    credit=credit,
                    amount=1,
                    key=key,
                    hash=digest,
                    now=_created_at(self.bench),
                )
                conn.exec_driver_sql(PG_ONE_STATEMENT, params)
            else:
                claimed = conn.exec_driver_sql(
                    SQLITE_CLAIM_ONE, (key, digest, _created_at(self.bench))
                ).scalar()
                if claimed is None:
                    return 1  # a replay: nothing to do in this prototype
                ids = dict(
                    (code, aid)
                    for aid, code in conn.exec_driver_sql(
                        SQLITE_BALANCES_TWO, (debit, 1, credit, 1)
                    ).all()
                )
                conn.exec_driver_sql(
                    ENTRY_COLUMNS + "VALUES (?, ?, ?, 0, 0, 0), (?, ?, 0, ?, 0, 0)",
                    (claimed, ids[debit], 1, claimed, ids[credit], 1),
                )
        return 1

    def close(self) -> None:
        self.conn.close()


class ProtoBatch(Batched):
    """What-if: a batch with a fixed number of fixed-text statements: claim all keys in one
    INSERT ... RETURNING, lock the accounts in one SELECT ... FOR UPDATE (id order), check limits
    in Python, insert all entries in one statement, update balances in ONE statement. PostgreSQL
    passes arrays (``unnest``), so the SQL text never changes with the batch size."""

    def __init__(self, bench: Bench, accounts: Accounts, tag: str, batch: int) -> None:
        super().__init__(batch)
        self.bench = bench
        self.accounts = accounts
        self.tag = tag
        self.n = 0
        self.conn = bench.engine.connect()
        self._sql: dict[tuple[str, int], str] = {}

    def _cached(self, name: str, rows: int, build: Callable[[int], str]) -> str:
        sql = self._sql.get((name, rows))
        if sql is None:
            sql = self._sql[(name, rows)] = build(rows)
        return sql

    def run(self, size: int) -> int:
        codes = self.accounts.codes
        keys: list[str] = []
        hashes: list[str] = []
        pairs: list[tuple[str, str]] = []
        for _ in range(size):
            i, j = self.accounts.pair(self.n)
            keys.append(f"{self.tag}-{self.n}")
            hashes.append(_transfer_hash(codes[i], codes[j], 1))
            pairs.append((codes[i], codes[j]))
            self.n += 1
        now = _created_at(self.bench)
        pg = self.bench.postgres
        conn = self.conn
        with conn.begin():
            if pg:
                claimed = conn.exec_driver_sql(
                    "INSERT INTO ledger_transfers "
                    "(kind, idempotency_key, payload_hash, reason, created_at) "
                    "SELECT 'transfer', k, h, '', %(now)s "
                    "FROM unnest(%(keys)s::text[], %(hashes)s::text[]) AS u(k, h) "
                    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key",
                    dict(now=now, keys=keys, hashes=hashes),
                ).all()
                wanted = sorted(set(codes))
                locked = conn.exec_driver_sql(
                    "SELECT id, code, debits_posted, credits_posted, debits_pending, "
                    "credits_pending, debits_must_not_exceed_credits "
                    "FROM ledger_accounts WHERE code = ANY(%(codes)s) ORDER BY id FOR UPDATE",
                    dict(codes=wanted),
                ).all()
            else:
                claimed = []
                for start in range(0, size, 1000):
                    end = start + 1000
                    chunk = list(zip(keys[start:end], hashes[start:end], strict=True))
                    sql = self._cached(
                        "claim",
                        len(chunk),
                        lambda rows: (
                            "INSERT INTO ledger_transfers "
                            "(kind, idempotency_key, payload_hash, reason, created_at) VALUES "
                            + ", ".join(["('transfer', ?, ?, '', ?)"] * rows)
                            + " ON CONFLICT (idempotency_key) DO NOTHING"
                            + " RETURNING id, idempotency_key"
                        ),
                    )
                    params = tuple(x for k, h in chunk for x in (k, h, now))
                    claimed += conn.exec_driver_sql(sql, params).all()
                wanted = sorted(set(codes))
                locked = conn.exec_driver_sql(
                    "SELECT id, code, debits_posted, credits_posted, debits_pending, "
                    "credits_pending, debits_must_not_exceed_credits FROM ledger_accounts "
                    f"WHERE code IN ({', '.join(['?'] * len(wanted))}) ORDER BY id",
                    tuple(wanted),
                ).all()
            tid = {key: transfer_id for transfer_id, key in claimed}
            account_id = {row[1]: row[0] for row in locked}
            available = {row[1]: row[3] - row[2] - row[4] for row in locked if row[6]}
            e_tid: list[int] = []
            e_acc: list[int] = []
            e_dp: list[int] = []
            e_cp: list[int] = []
            dp: dict[int, int] = defaultdict(int)
            cp: dict[int, int] = defaultdict(int)
            for key, (debit, credit) in zip(keys, pairs, strict=True):
                if debit in available:
                    if available[debit] < 1:
                        raise RuntimeError(f"prototype: limit of {debit} exceeded")
                    available[debit] -= 1
                if credit in available:
                    available[credit] += 1
                t, d, c = tid[key], account_id[debit], account_id[credit]
                e_tid += (t, t)
                e_acc += (d, c)
                e_dp += (1, 0)
                e_cp += (0, 1)
                dp[d] += 1
                cp[c] += 1
            touched = sorted(set(dp) | set(cp))
            if pg:
                conn.exec_driver_sql(
                    ENTRY_COLUMNS + "SELECT t, a, dp, cp, 0, 0 FROM unnest(%(t)s::bigint[], "
                    "%(a)s::bigint[], %(dp)s::bigint[], %(cp)s::bigint[]) AS u(t, a, dp, cp)",
                    dict(t=e_tid, a=e_acc, dp=e_dp, cp=e_cp),
                )
                conn.exec_driver_sql(
                    "UPDATE ledger_accounts SET "
                    "debits_posted = ledger_accounts.debits_posted + u.dp, "
                    "credits_posted = ledger_accounts.credits_posted + u.cp "
                    "FROM unnest(%(a)s::bigint[], %(dp)s::bigint[], %(cp)s::bigint[]) "
                    "AS u(id, dp, cp) WHERE ledger_accounts.id = u.id",
                    dict(a=touched, dp=[dp[a] for a in touched], cp=[cp[a] for a in touched]),
                )
            else:
                conn.exec_driver_sql(
                    ENTRY_COLUMNS + "VALUES (?, ?, ?, ?, 0, 0)",
                    list(zip(e_tid, e_acc, e_dp, e_cp, strict=True)),
                )
                sql = self._cached(
                    "balances",
                    len(touched),
                    lambda rows: (
                        "UPDATE ledger_accounts SET "
                        "debits_posted = ledger_accounts.debits_posted + v.dp, "
                        "credits_posted = ledger_accounts.credits_posted + v.cp "
                        "FROM (SELECT column1 AS id, column2 AS dp, column3 AS cp FROM (VALUES "
                        + ", ".join(["(?, ?, ?)"] * rows)
                        + ")) AS v WHERE ledger_accounts.id = v.id"
                    ),
                )
                conn.exec_driver_sql(sql, tuple(x for a in touched for x in (a, dp[a], cp[a])))
        return size

    def close(self) -> None:
        self.conn.close()


def _best_of(workers: Sequence[Worker], steps: int, rounds: int = 3) -> list[float]:
    """Seconds per step for each worker: interleaved rounds, best round (the machine is shared)."""
    best = [float("inf")] * len(workers)
    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        for index, worker in enumerate(workers):
            best[index] = min(best[index], _time_steps(worker, per_round))
    return best


def what_if(bench: Bench, steps: int, batch: int, console: Console) -> None:
    layout = bench.layout
    accounts = layout.own(2 % layout.writers)
    no_ping_engine = make_engine(
        bench.engine.url.render_as_string(hide_password=False),
        **({"pool_pre_ping": False} if bench.postgres else {}),
    )
    no_ping = Bench(bench.backend, no_ping_engine, session_factory(no_ping_engine), layout)
    try:
        singles: list[tuple[str, Worker]] = [
            ("raw (a)", RawSingle(bench, accounts)),
            ("ledger move (as shipped)", LedgerMove(bench, accounts, "wa")),
            ("ledger move, engine without pool_pre_ping", LedgerMove(no_ping, accounts, "wb")),
            ("prototype: fixed SQL, held connection", ProtoSingle(bench, accounts, "wc")),
        ]
        batches: list[tuple[str, Worker]] = [
            ("raw (b)", RawBatch(bench, accounts, batch)),
            ("ledger submit (as shipped)", LedgerBatch(bench, accounts, "wd", batch)),
            (
                "prototype: fixed statements, arrays/values",
                ProtoBatch(bench, accounts, "we", batch),
            ),
        ]
        for _, worker in singles:
            worker.warm()
        for _, worker in batches:
            worker.step()
        single_times = _best_of([w for _, w in singles], steps)
        batch_times = _best_of([w for _, w in batches], max(3, steps // 100))
        table = Table(
            title=f"{bench.backend}: what-if, interleaved, best of 3 rounds "
            "(prototypes are NOT the ledger: no replays, no detailed errors)"
        )
        table.add_column("variant")
        table.add_column("per op", justify="right")
        table.add_column("transfers/s", justify="right")
        table.add_column("vs raw", justify="right")
        for (name, _), seconds in zip(singles, single_times, strict=True):
            table.add_row(
                name, _us(seconds), f"{1 / seconds:,.0f}", f"{single_times[0] / seconds:.0%}"
            )
        table.add_section()
        for (name, _), seconds in zip(batches, batch_times, strict=True):
            table.add_row(
                f"{name}, {batch:,} per tx",
                _us(seconds / batch),
                f"{batch / seconds:,.0f}",
                f"{batch_times[0] / seconds:.0%}",
            )
        console.print(table)
        for _, worker in singles + batches:
            worker.close()
    finally:
        no_ping_engine.dispose()


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(
        description="Ledger write-path benchmark next to raw-SQL baselines (SQLite, PostgreSQL)."
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG_URL,
        help="server to create the throw-away xinren_bench_<random> database on",
    )
    span = parser.add_mutually_exclusive_group()
    span.add_argument("--seconds", type=float, default=None, help="per measurement (default 3)")
    span.add_argument(
        "--count",
        type=int,
        default=None,
        help="operations per writer per measurement (batched runs round up to whole batches)",
    )
    parser.add_argument("--quick", action="store_true", help="a very short smoke run")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers (default 8)")
    parser.add_argument("--batch", type=int, default=1000, help="operations per batch")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the benchmark, profile the transfer paths (statement counts, timings)",
    )
    args = parser.parse_args(argv)
    if args.writers < 1 or args.batch < 1:
        parser.error("--writers and --batch must be at least 1")
    if args.batch > model.MAX_BATCH:
        parser.error(f"--batch is at most {model.MAX_BATCH} (the ledger's batch limit)")
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.quick:
        settings = Settings(
            seconds=None,
            count=args.count or 3,
            writers=min(args.writers, 2),
            batch=min(args.batch, 20),
            warmup=False,
        )
    else:
        seconds = None if args.count is not None else (args.seconds or 3.0)
        settings = Settings(seconds, args.count, args.writers, args.batch, warmup=True)
    return args, settings


def postgres_reachable(url: str) -> str | None:
    """None if the server answers, else why not."""
    engine = create_engine(_psycopg_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return None
    except Exception as err:
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args, settings = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for line in machine_facts():
        console.print(line, markup=False, highlight=False)
    console.print(
        f"load average at start (1, 5, 15 min): {load_average()} "
        "(other processes on the machine skew absolute figures; ratios are bracketed)",
        markup=False,
        highlight=False,
    )
    summaries: list[str] = []
    started = time.perf_counter()
    for backend in backends:
        if backend == "postgres":
            problem = postgres_reachable(args.pg_url)
            if problem is not None:
                shown = make_url(args.pg_url).render_as_string(hide_password=True)
                message = f"postgres: skipped, cannot connect to {shown}: {problem}"
                console.print(message, markup=False)
                if args.backend == "postgres":
                    return 2
                summaries.append(message)
                continue
        with open_bench(backend, args.pg_url, settings.writers) as bench:
            if args.profile:
                profile_backend(bench, settings, console)
                continue
            table, summary = run_backend(bench, settings, console)
            console.print(table)
            summaries.append(summary)
    for summary in summaries:
        console.print(summary, markup=False, highlight=False)
    console.print(
        f"total time {time.perf_counter() - started:.0f} s; load average at end: {load_average()}",
        markup=False,
        highlight=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
