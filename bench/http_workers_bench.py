"""Ledger transfers per second over real HTTP, `xinren serve --workers 1` against `--workers 2`.

Each round starts a fresh database (no maintenance step) and a real `xinren serve` process (its
timer loop on, as deployed), creates one pair of accounts per client, and lets `--clients`
threads (one keep-alive httpx connection each) send one transfer per request, each with its own
idempotency key, for `--transfers` requests in all. Printed beside `GET /healthz` requests/s of
the same server in the same round: the HTTP stack's own ceiling, no database. The clients run on
the same machine as the server and take CPU from it. Never asserts on time.

    python bench/http_workers_bench.py [--backend sqlite|postgres|both] [--workers 1,2]
        [--clients 32] [--transfers 1600] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
XINREN = [sys.executable, "-m", "xinren.cli.main"]


@contextmanager
def database(backend: str, pg_url: str) -> Iterator[str | None]:
    """A fresh, empty database of `backend` for one round (None: no PostgreSQL server)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"xinren_http_{uuid.uuid4().hex[:8]}"
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str, workers: int) -> Iterator[tuple[str, str]]:
    """`xinren serve --workers N` on `url`: yields (base URL, a platform key); stops it after."""
    env = {**os.environ, "XINREN_DATABASE_URL": url}
    with tempfile.TemporaryDirectory() as cwd:
        key = subprocess.run(
            [*XINREN, "keys", "create", "--role", "platform"],
            env=env, cwd=cwd, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        port = free_port()
        proc = subprocess.Popen(
            [*XINREN, "serve", "--port", str(port), "--workers", str(workers)],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield base, key
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def hammer(clients: int, total: int, one: Callable[[httpx.Client, int, int], int]) -> float:
    """Requests/s of `clients` threads sending `total` requests; counts and prints failures."""
    per = max(1, total // clients)
    statuses: Counter[int] = Counter()

    def client(c: int) -> None:
        with httpx.Client(timeout=60) as http:
            for i in range(per):
                statuses[one(http, c, i)] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    bad = {s: n for s, n in statuses.items() if s >= 300}
    if bad:
        print(f"    failures: {bad}")
    return (per * clients) / elapsed


def measure(url: str, workers: int, clients: int, total: int) -> tuple[float, float]:
    """(transfers/s, healthz requests/s) of one server with `workers` processes."""
    with server(url, workers) as (base, key):
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=60) as setup:
            for c in range(clients):
                for side in ("src", "dst"):
                    account = {"code": f"{side}{c}", "currency": "CNY"}
                    setup.post("/v1/ledger/accounts", json=account).raise_for_status()

        def transfer(http: httpx.Client, c: int, i: int) -> int:
            legs = [
                {"account": f"src{c}", "side": "debit", "amount": 1},
                {"account": f"dst{c}", "side": "credit", "amount": 1},
            ]
            headers = {**auth, "Idempotency-Key": f"c{c}-{i}"}
            r = http.post(f"{base}/v1/ledger/transfers", json={"legs": legs}, headers=headers)
            return r.status_code

        def health(http: httpx.Client, c: int, i: int) -> int:
            return http.get(f"{base}/healthz").status_code

        hammer(clients, clients * 2, health)  # warm up every worker's connections
        health_rate = hammer(clients, total, health)
        return hammer(clients, total, transfer), health_rate


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.1f} ({min(values):,.1f}..{max(values):,.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--transfers", type=int, default=1600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    print(
        f"machine: nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; "
        f"{args.clients} clients, {args.transfers} transfers per round (disjoint account pairs)"
    )
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        rates: dict[int, list[float]] = {w: [] for w in counts}
        health: dict[int, list[float]] = {w: [] for w in counts}
        for _ in range(args.rounds):
            for w in counts:  # interleaved: the machine's load falls on both alike
                with database(backend, args.pg_url) as url:
                    if url is None:
                        return 0
                    t, h = measure(url, w, args.clients, args.transfers)
                rates[w].append(t)
                health[w].append(h)
        base = statistics.median(rates[counts[0]])
        for w in counts:
            ratio = statistics.median(rates[w]) / base
            print(
                f"{backend}, {w} worker(s): {_spread(rates[w])} transfers/s over HTTP "
                f"(x{ratio:.2f} of {counts[0]} worker(s)); GET /healthz {_spread(health[w])} "
                f"req/s; median (min..max) of {args.rounds} rounds"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
