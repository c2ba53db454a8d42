"""Completed orders per second over real HTTP, one order step per request, as a platform sends them.

Each round starts a fresh database (no maintenance step), sets up the market through the service
layer (merchants verified, deposits paid, listings with stock, hosts verified; not timed), then a
real `xinren serve --workers N` process (its timer loop on, as deployed) and its platform key, as
`bench/http_workers_bench.py` starts them. `--clients` threads, one keep-alive httpx connection
each, then run complete orders: create (from a listing, quantity 1, so the stock is taken), pay,
ship, confirm, each step one POST with its own Idempotency-Key; every request's latency is kept
by step. Two scenarios:

- spread: the orders go round-robin over 50 merchants, each with its own listing; the orders of
  every other merchant name a host (5% commission);
- flash: a live-stream flash sale: ONE listing of ONE merchant with ONE host (5% commission),
  every order buying from it, each from a distinct buyer; the stock is exactly the orders.

Printed for each backend x workers x scenario: completed orders/s (median and min..max of the
rounds), p50/p99 latency of each step, the failed requests by step and status (a healthy run
has none: the exit code is 1 if any order failed or the stock taken differs from the orders
completed), flash / spread orders/s, and, as the same run's ceiling of the HTTP stack without
a database, `GET /healthz` requests/s of the same clients on the same server. The clients run
on the same machine as the server and take CPU from it. Never asserts on time.

Each round starts its own server, and a start (`keys create`, then `serve` spawning its workers)
takes about 10 s on a 2-core machine: the defaults (2 backends x 2 worker counts x 2 scenarios x
3 rounds = 24 servers, 256 orders each) take about 10 minutes there, `--quick` (128 orders, one
round) about 2.5.

    python -m bench.orders_http_bench [--backend sqlite|postgres|both] [--workers 1,2]
        [--scenario flash|spread|both] [--clients 32] [--orders 256] [--rounds 3] [--quick]
        [--pg-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.http_workers_bench import PG_URL, database, hammer, server
from bench.http_workers_bench import _spread as spread
from xinren.catalog import service as catalog
from xinren.clock import Clock, SystemClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.demo import samples
from xinren.parties import deposits

STEPS = ("create", "pay", "ship", "confirm")
MERCHANTS = 50  # spread
HOSTS = 5  # spread: the hosts of the even merchants
HOST_RATE_BP = 500
PRICE = 9_900
DEPOSIT = 100_000  # what category "default" requires


@dataclass(frozen=True, slots=True)
class Line:
    """What an order buys: the listing, its merchant, and the host it is sold by (or none)."""

    merchant: str
    listing_id: int
    host: str | None


@dataclass
class Round:
    """One round: one fresh database, one server."""

    rate: float  # completed orders/s
    health: float  # GET /healthz requests/s
    completed: int
    latencies: dict[str, list[float]]  # seconds, by step
    failures: Counter[str]  # "step status": requests
    first: dict[str, str]  # "step status": the first such request and its response
    stock_taken: int


@dataclass
class Client:
    """What one client thread saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    failures: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)
    completed: int = 0


def _listing(s: Any, clock: Clock, tag: str, merchant: str, stock: int) -> int:
    """A listing of `merchant`'s (verified, deposit paid) of a product of its own, one batch."""
    samples.verified(s, clock, merchant)
    deposits.pay_deposit(s, clock, f"dep-{tag}", merchant, DEPOSIT, "CNY")
    made = samples.listing(
        s, clock, tag, merchant, price=PRICE, stock=stock, quantity=max(stock, 1)
    )
    return made.id


def setup(url: str, scenario: str, orders: int) -> list[Line]:
    """The market of `scenario` in the fresh database at `url`; order g buys lines[g % len]."""
    engine = make_engine(url)
    upgrade(engine)
    clock = SystemClock()
    lines: list[Line] = []
    with unit_of_work(session_factory(engine)) as s:
        if scenario == "flash":
            samples.verified(s, clock, "host:flash")
            listing = _listing(s, clock, "flash", "merchant:flash", orders)
            lines.append(Line("merchant:flash", listing, "host:flash"))
        else:
            for h in range(HOSTS):
                samples.verified(s, clock, f"host:h{h}")
            per = -(-orders // MERCHANTS)  # each merchant's share, rounded up
            for m in range(MERCHANTS):
                listing = _listing(s, clock, f"m{m}", f"merchant:m{m}", per)
                lines.append(
                    Line(f"merchant:m{m}", listing, f"host:h{m % HOSTS}" if m % 2 == 0 else None)
                )
    engine.dispose()
    return lines


def stock_taken(url: str, lines: list[Line], orders: int) -> int:
    """Units taken from the listings' stock (each listing started with its share of `orders`)."""
    engine = make_engine(url)
    per = orders if len(lines) == 1 else -(-orders // MERCHANTS)
    with unit_of_work(session_factory(engine)) as s:
        left = sum(catalog.get_listing(s, line.listing_id).stock or 0 for line in lines)
    engine.dispose()
    return per * len(lines) - left


def run_orders(base: str, key: str, lines: list[Line], clients: int, orders: int) -> list[Client]:
    """`clients` threads run orders 0..orders-1 (client c: c, c + clients, ...), each order its
    four steps in turn, one request each; an order stops at its first failed step."""

    def client(c: int) -> Client:
        seen = Client()
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=60) as http:
            for g in range(c, orders, clients):
                line = lines[g % len(lines)]
                body: dict[str, Any] = {
                    "buyer": f"buyer:b{g}",
                    "merchant": line.merchant,
                    "listing_id": line.listing_id,
                    "quantity": 1,
                }
                if line.host is not None:
                    body |= {"host": line.host, "host_rate_bp": HOST_RATE_BP}
                if _order(http, seen, g, body):
                    seen.completed += 1
        return seen

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(client, range(clients)))


def _order(http: httpx.Client, seen: Client, g: int, body: dict[str, Any]) -> bool:
    """Create, pay, ship and confirm order `g`; whether it ended completed."""
    order_id = 0
    for step in STEPS:
        path = "/v1/orders" if step == "create" else f"/v1/orders/{order_id}/{step}"
        headers = {"Idempotency-Key": f"o{g}-{step}"}
        started = time.perf_counter()
        try:
            r = http.post(path, json=body if step == "create" else {}, headers=headers)
        except httpx.HTTPError as err:
            seen.latencies[step].append(time.perf_counter() - started)
            _failed(seen, step, "transport error", f"POST {path}: {err.__class__.__name__}: {err}")
            return False
        seen.latencies[step].append(time.perf_counter() - started)
        if r.status_code != (201 if step == "create" else 200):
            _failed(seen, step, str(r.status_code), f"POST {path} -> {r.status_code}: {r.text}")
            return False
        view = r.json()
        order_id = view["id"]
    if view["status"] != "completed":
        _failed(seen, "confirm", f"200 status {view['status']}", f"POST {path} -> 200: {r.text}")
        return False
    return True


def _failed(seen: Client, step: str, status: str, what: str) -> None:
    label = f"{step} {status}"
    seen.failures[label] += 1
    seen.first.setdefault(label, what)


def measure(url: str, workers: int, scenario: str, clients: int, orders: int) -> Round:
    """One round of `scenario` on a fresh server with `workers` processes over `url`."""
    lines = setup(url, scenario, orders)
    with server(url, workers) as (base, key):

        def health(http: httpx.Client, c: int, i: int) -> int:
            return http.get(f"{base}/healthz").status_code

        hammer(clients, clients * 2, health)  # warm up every worker's connections
        health_rate = hammer(clients, len(STEPS) * orders, health)
        started = time.perf_counter()
        seen = run_orders(base, key, lines, clients, orders)
        elapsed = time.perf_counter() - started
    completed = sum(c.completed for c in seen)
    failures: Counter[str] = Counter()
    first: dict[str, str] = {}
    for c in seen:
        failures.update(c.failures)
        for label, what in c.first.items():
            first.setdefault(label, what)
    return Round(
        rate=completed / elapsed,
        health=health_rate,
        completed=completed,
        latencies={s: [t for c in seen for t in c.latencies[s]] for s in STEPS},
        failures=failures,
        first=first,
        stock_taken=stock_taken(url, lines, orders),
    )


def _ms(values: list[float], q: int) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0] * 1000:.1f}"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[q - 1] * 1000:.1f}"


def report(backend: str, workers: int, scenario: str, rounds: list[Round], orders: int) -> bool:
    """Print one backend x workers x scenario; whether every order of every round completed
    and took exactly one unit of stock."""
    rates = [r.rate for r in rounds]
    steps_per_s = [r.rate * len(STEPS) for r in rounds]
    health = [r.health for r in rounds]
    share = statistics.median(steps_per_s) / statistics.median(health)
    print(
        f"{backend}, {workers} worker(s), {scenario}: {spread(rates)} completed orders/s "
        f"(= {spread(steps_per_s)} step requests/s, {share:.0%} of GET /healthz "
        f"{spread(health)} req/s); median (min..max) of {len(rounds)} rounds"
    )
    latency = ", ".join(
        f"{s} {_ms([t for r in rounds for t in r.latencies[s]], 50)}/"
        f"{_ms([t for r in rounds for t in r.latencies[s]], 99)}"
        for s in STEPS
    )
    print(f"    latency p50/p99 ms (all rounds' requests): {latency}")
    failures: Counter[str] = Counter()
    first: dict[str, str] = {}
    for r in rounds:
        failures.update(r.failures)
        for label, what in r.first.items():
            first.setdefault(label, what)
    if failures:
        print(f"    FAILED requests by step and status: {dict(sorted(failures.items()))}")
        for label, what in sorted(first.items()):
            print(f"      first {label}: {what}")
    else:
        print("    failed requests: 0")
    completed = [r.completed for r in rounds]
    taken = [r.stock_taken for r in rounds]
    print(f"    orders completed per round: {completed} of {orders}; stock units taken: {taken}")
    return not failures and completed == taken == [orders] * len(rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--scenario", choices=["flash", "spread", "both"], default="both")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--orders", type=int, default=None, help="per round (default 256)")
    parser.add_argument("--rounds", type=int, default=None, help="default 3")
    parser.add_argument("--quick", action="store_true", help="128 orders, 1 round")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    orders = args.orders or (128 if args.quick else 256)
    n_rounds = args.rounds or (1 if args.quick else 3)
    counts = [int(w) for w in args.workers.split(",")]
    scenarios = ["spread", "flash"] if args.scenario == "both" else [args.scenario]
    print(
        f"machine: nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; "
        f"{args.clients} clients, {orders} orders per round (create, pay, ship, confirm: one "
        f"request each), {n_rounds} round(s)"
    )
    healthy = True
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        rounds: dict[tuple[int, str], list[Round]] = {(w, s): [] for w in counts for s in scenarios}
        skipped = False
        for _ in range(n_rounds):
            for w in counts:  # interleaved: the machine's load falls on all alike
                for scenario in scenarios:
                    with database(backend, args.pg_url) as url:
                        if url is None:
                            skipped = True
                            break
                        rounds[w, scenario].append(measure(url, w, scenario, args.clients, orders))
                if skipped:
                    break
            if skipped:
                break
        if skipped:
            continue
        for w in counts:
            for scenario in scenarios:
                healthy &= report(backend, w, scenario, rounds[w, scenario], orders)
            if len(scenarios) == 2:
                flash = statistics.median(r.rate for r in rounds[w, "flash"])
                spread_rate = statistics.median(r.rate for r in rounds[w, "spread"])
                print(
                    f"{backend}, {w} worker(s): flash / spread = {flash / spread_rate:.0%} "
                    f"of spread's completed orders/s (medians; target >= 80%)"
                )
    if not healthy:
        print("FAILED: some orders did not complete (see above)")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
