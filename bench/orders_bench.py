"""Completed orders per second, end to end through the service layer.

Each order is four transactions, as a platform would send them: create, pay (the payment into
escrow), ship (the countdown starts), confirm (settlement in one transfer to merchant, platform
and host), each step timed (p50/p99); then the same orders in batches (`orders.run_batch`:
create+pay, ship, confirm, one transaction each per batch). Printed next to the ledger's plain
transfers per second measured in the same run, so the figure reads as "an order costs N
transfers". Never asserts on time.

Each round starts from a fresh database (no maintenance step); the median and min..max of the
rounds are printed.

    python bench/orders_bench.py [--backend sqlite|postgres|both] [--orders N] [--rounds R]
        [--batch N]
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
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.demo import samples
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Round:
    """One round's figures, all from one fresh database."""

    transfers: float  # single ledger transfers/s
    single: float  # completed orders/s, one transaction per step
    batched: float | None  # completed orders/s in batches (None: not measured)
    steps: dict[str, list[float]] = field(default_factory=dict)  # seconds per step


def measure(url: str, n: int, batch: int = 0) -> Round:
    """Single ledger transfers/s, then completed orders/s one transaction per step (each
    step timed), then (``batch``) in batches with `orders.service.run_batch`, in one fresh
    database."""
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = SystemClock()
    with unit_of_work(factory) as s:
        ledger.create_account(s, clock, "bench:src", "CNY")
        ledger.create_account(s, clock, "bench:dst", "CNY")
    started = time.perf_counter()
    for i in range(n):
        with unit_of_work(factory) as s:
            ledger.move(s, clock, f"t{i}", "bench:src", "bench:dst", 1)
    transfers = n / (time.perf_counter() - started)
    with unit_of_work(factory) as s:
        for m in range(50):
            samples.verified(s, clock, f"merchant:{m}")
            deposits.pay_deposit(s, clock, f"dep-{m}", f"merchant:{m}", 100_000, "CNY")
        samples.verified(s, clock, "host:1")
    steps: dict[str, list[float]] = {"create": [], "pay": [], "ship": [], "confirm": []}
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        with unit_of_work(factory) as s:
            view = orders.create_order(s, clock, f"o{i}", **_order(i))
        steps["create"].append(time.perf_counter() - t0)
        for action in (Action.PAY, Action.SHIP, Action.CONFIRM):
            t0 = time.perf_counter()
            with unit_of_work(factory) as s:
                orders.act(s, clock, view.id, action, f"o{i}-{action.value}", actor="bench")
            steps[action.value].append(time.perf_counter() - t0)
    single = n / (time.perf_counter() - started)
    batched = _batched(factory, clock, n, batch) if batch else None
    engine.dispose()
    return Round(transfers, single, batched, steps)


def _batched(factory: Any, clock: SystemClock, n: int, size: int) -> float:
    """Completed orders/s sent in batches of `size`: create+pay, ship, confirm (3 transactions
    per batch)."""
    started = time.perf_counter()
    for first in range(0, n, size):
        numbers = range(first, min(n, first + size))
        with unit_of_work(factory) as s:
            made = orders.run_batch(
                s,
                clock,
                [orders.BatchItem("create_and_pay", f"b{i}", order=_order(i)) for i in numbers],
                actor="bench",
            )
        ids = [v.id for v in made if isinstance(v, orders.OrderView)]
        for step in ("ship", "confirm"):
            with unit_of_work(factory) as s:
                items = [orders.BatchItem(step, f"b{i}-{step}", i) for i in ids]
                done = orders.run_batch(s, clock, items, actor="bench")
            assert all(isinstance(v, orders.OrderView) for v in done), done
    return n / (time.perf_counter() - started)


def _order(i: int) -> dict[str, Any]:
    return dict(
        buyer="buyer:1",
        merchant=f"merchant:{i % 50}",
        total=9_900,
        currency="CNY",
        category="default",
        host="host:1",
        host_rate_bp=500,
    )


@contextmanager
def database(backend: str, pg_url: str) -> Iterator[str | None]:
    """A fresh, empty database of `backend` for one round (None: no PostgreSQL server)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"xinren_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        print(f"postgres: skipped ({err.__class__.__name__}: no server at {pg_url})")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(pg_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}..{max(values):,.1f})"


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--batch", type=int, default=100, help="orders per batch (run_batch); 0: not batched"
    )
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    print(f"machine: nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print("each round a fresh database, migrated, no maintenance step; median (min..max)")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        rounds: list[Round] = []
        for _ in range(args.rounds):
            with database(backend, args.pg_url) as url:
                if url is None:
                    break
                rounds.append(measure(url, args.orders, args.batch))
        if not rounds:
            continue
        transfers = [r.transfers for r in rounds]
        single = [r.single for r in rounds]
        costs = [t / c for c, t in zip(single, transfers, strict=True)]
        print(
            f"{backend}: {_spread(single)} completed orders/s, one transaction per step "
            f"(create, pay, ship, confirm); ledger transfers {_spread(transfers)}/s in the same "
            f"runs: an order costs {_spread(costs)} "
            f"single transfers' time ({len(rounds)} rounds of {args.orders} orders)"
        )
        batched = [r.batched for r in rounds if r.batched is not None]
        if batched:
            print(
                f"{backend}: {_spread(batched)} completed orders/s in batches of {args.batch} "
                f"(create+pay, ship, confirm: 3 transactions per batch), "
                f"x{statistics.median(batched) / statistics.median(single):.1f} single"
            )
        for step in ("create", "pay", "ship", "confirm"):
            times = [t for r in rounds for t in r.steps[step]]
            print(
                f"{backend}:   {step:<8} p50 {_ms(times, 0.5):6.1f} ms   "
                f"p99 {_ms(times, 0.99):6.1f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
