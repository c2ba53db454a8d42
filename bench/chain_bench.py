"""How long the chain of custody and a liability assessment take as a batch's history grows.

The phone case from the article gets `--events` extra custody events (inspections and
confirmations while the seller holds the goods), then the chain and a liability assessment are
computed `--repeat` times. Printed beside the time to merely load the batch's events in the
same run, so the figure reads as "reasoning costs N x reading". Never asserts on time.

    python bench/chain_bench.py [--backend sqlite|postgres|both] [--events N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work, upgrade
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.provenance import chain as chains
from xinren.provenance import custody as provenance_events

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def measure(url: str, extra: int, repeat: int, docs: Path) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    clock = FakeClock(datetime(2026, 7, 20, tzinfo=UTC))
    store = FileStore(docs)
    with unit_of_work(factory) as s:
        case = stories.phone_case(s, clock, store, "bench")
        line = chains.line_of(s, case.order_id)
        b = stories._Builder(s, clock, store, "bench-extra")
        start = clock.now() - timedelta(days=20)
        for i in range(extra):
            b.event(
                "ObjectEvent",
                "inspecting",
                start + timedelta(seconds=i),
                line.batch.epc_class,
                source=case.refs["shop"],
                dest=case.refs["shop"],
            )
        b.import_events(recorded_by=case.refs["shop"])
    timings: dict[str, list[float]] = {"load events": [], "chain": [], "chain + liability": []}
    work: dict[str, Callable[[Session], object]] = {
        "load events": lambda s: provenance_events.events_for(s, [line.batch.epc_class]),
        "chain": lambda s: chains.chain_of(s, case.order_id),
        "chain + liability": lambda s: liability.facts(s, case.order_id, Finding.NOT_AS_DESCRIBED),
    }
    for _ in range(repeat):
        for label, job in work.items():  # each in its own session, as a request would be
            with factory() as s:
                t = time.perf_counter()
                job(s)
                timings[label].append(time.perf_counter() - t)
    engine.dispose()
    return {k: statistics.median(v) for k, v in timings.items()}


def run(backend: str, extra: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
            figures = measure(url, extra, repeat, Path(tmp) / "docs")
        else:
            name = f"xinren_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
                figures = measure(url, extra, repeat, Path(tmp) / "docs")
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()
    base = figures["load events"]
    print(f"{backend}: batch with {extra + 5} events, median of {repeat} runs")
    for label, seconds in figures.items():
        print(f"  {label:18} {seconds * 1000:8.1f} ms  ({seconds / base:4.1f}x loading the events)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        run(backend, args.events, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
