"""Workers settling orders are SIGKILLed at random moments and restarted; afterwards every
order is settled exactly once and the ledger verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import samples
from xinren.events import service as events
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.ledger.tables import transfers
from xinren.orders import service as orders
from xinren.orders.model import Status
from xinren.parties import deposits

WORKER = Path(__file__).with_name("settle_worker.py")
WORKERS, PER_WORKER, MIN_KILLS = 3, 40, 6


@pytest.mark.slow
def test_settlement_survives_sigkill(fresh_url):
    engine = make_engine(fresh_url)
    factory = session_factory(engine)
    clock = SystemClock()
    with unit_of_work(factory) as s:
        samples.verified(s, clock, "merchant:1")
        samples.verified(s, clock, "host:1")
        deposits.pay_deposit(s, clock, "dep", "merchant:1", 100_000, "CNY")
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def start(w: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, str(WORKER), fresh_url, str(w * PER_WORKER), str(PER_WORKER)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    procs = {w: start(w) for w in range(WORKERS)}
    kills = 0
    deadline = time.monotonic() + 120
    while procs and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.2, 0.8))
        for w, proc in list(procs.items()):
            code = proc.poll()
            if code is not None:
                assert code == 0, proc.stderr.read().decode() if proc.stderr else code
                del procs[w]
        if procs and kills < MIN_KILLS:
            w = rng.choice(sorted(procs))
            procs[w].send_signal(signal.SIGKILL)
            procs[w].wait()
            kills += 1
            procs[w] = start(w)
    for proc in procs.values():
        assert proc.wait(timeout=120) == 0
    assert kills >= MIN_KILLS

    total = WORKERS * PER_WORKER
    with unit_of_work(factory) as s:
        settled = s.execute(
            select(func.count()).select_from(transfers).where(transfers.c.reason == "settlement")
        ).scalar_one()
        assert settled == total
        amounts = [1_000 + i for i in range(total)]
        shares = sum(a - a * 500 // 10_000 - a * 1_000 // 10_000 for a in amounts)
        assert ledger.family_balance(s, "merchant:1:pending_settlement").net == shares
        for i in range(total):
            view = orders.create_order(
                s,
                clock,
                f"crash-{i}",
                buyer="buyer:1",
                merchant="merchant:1",
                total=1_000 + i,
                currency="CNY",
                category="default",
                host="host:1",
                host_rate_bp=1_000,
            )
            assert view.replayed and view.state.status is Status.COMPLETED
            assert view.state.released == 1_000 + i and view.state.held == 0
        # one event per state change: none lost, none repeated by the restarts
        topics = [e.topic for e in events.read(s, limit=100_000)]
        for topic in ("order.created", "order.paid", "order.shipped", "order.completed"):
            assert topics.count(topic) == total, topic
        journal.seal(s, clock)
    with unit_of_work(factory) as s:
        assert journal.verify(s).ok
    engine.dispose()
