"""`xinren serve`: uvicorn worker processes for the API, and one timer loop beside them.

Workers are separate processes (uvicorn's multi-process mode, started with "spawn"), so each
builds its own app and its own connection pool from the environment through the factory
`xinren.api.app:create_app_from_env`; this parent sets the pool size there before they start.

The timer loop (due timers, then sweeping the clearing shards, then sealing the journal) runs
as a thread of this parent process, never in a worker: one `xinren serve` runs one loop
whatever N is, without an election, and the loop keeps its own two connections. The uvicorn
supervisor spends its time waiting on signals and restarting dead workers, so the loop does
not compete with request handling for a worker's event loop or pool. Several `serve` processes
on one database (several machines) are still safe: a due timer is claimed under a row lock
(`timers.service.run_due`), so it runs once, and two sweeps skip each other's shards.

SQLite: more than one worker is allowed. Each worker has its own connections to the file; WAL
lets them read at the same time, but writes still take the file's one write lock in turn
(`BEGIN IMMEDIATE`, waiting up to 60 s), so extra workers add request parsing and JSON in
parallel, not write throughput.
"""

from __future__ import annotations

import os
import threading

from xinren.cli.common import err_console, opened

#: the connections all workers share (PostgreSQL's default max_connections is 100): one worker
#: gets what one process had before (16 + 16 overflow), N workers split it
POOL_BUDGET = 32
POOL_SIZE_ENV = "XINREN_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "XINREN_DB_MAX_OVERFLOW"
THREADS_ENV = "XINREN_THREADS"
FACTORY = "xinren.api.app:create_app_from_env"


def default_workers() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def pool_per_worker(workers: int) -> int:
    """A worker's pool_size (and max_overflow): half its share of `POOL_BUDGET`, at least 2."""
    return max(2, POOL_BUDGET // (2 * max(1, workers)))


def size_pools(workers: int) -> None:
    """Tell the workers their pool size, and the threads their routes run in (as many as
    connections: a route beyond them only waits for one), through the environment, unless it
    says so already."""
    size = str(pool_per_worker(workers))
    os.environ.setdefault(POOL_SIZE_ENV, size)
    os.environ.setdefault(MAX_OVERFLOW_ENV, os.environ[POOL_SIZE_ENV])
    connections = int(os.environ[POOL_SIZE_ENV]) + int(os.environ[MAX_OVERFLOW_ENV])
    os.environ.setdefault(THREADS_ENV, str(connections))


def tick_once(engine: object) -> tuple[int, int, int]:
    """Run due timers, sweep the clearing shards into their accounts, then seal the journal;
    returns (timers run, shards swept, entries sealed)."""
    from sqlalchemy import Engine

    from xinren import handlers
    from xinren.clock import SystemClock
    from xinren.db import session_factory, unit_of_work
    from xinren.ledger import journal
    from xinren.ledger import service as ledger
    from xinren.timers import service as timers

    assert isinstance(engine, Engine)
    handlers.load()
    factory = session_factory(engine)
    clock = SystemClock()
    ran = timers.run_due(factory, clock)
    with unit_of_work(factory) as session:
        swept = ledger.sweep(session, clock)
    with unit_of_work(factory) as session:
        sealed = journal.seal(session, clock)
    return ran, swept, sealed


def run(host: str, port: int, tick_seconds: float, workers: int) -> None:
    """Serve until stopped (SIGINT/SIGTERM stop the workers too), ticking every `tick_seconds`."""
    import uvicorn

    size_pools(workers)
    with opened(pool_size=1, max_overflow=1) as engine:  # migrated here, once, before workers
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(tick_seconds):
                try:
                    tick_once(engine)
                except Exception as err:
                    err_console.print(f"[yellow]timer loop:[/yellow] {err}")

        if tick_seconds > 0:
            threading.Thread(target=loop, name="xinren-tick", daemon=True).start()
        try:
            uvicorn.run(
                FACTORY, factory=True, host=host, port=port, workers=workers, log_level="info"
            )
        finally:
            stop.set()
