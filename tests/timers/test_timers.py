"""Timers run exactly once, even when runners race; failures back off and are kept."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.ledger import journal, service
from xinren.ledger.model import HoldStatus
from xinren.timers import service as timers
from xinren.timers.model import MAX_ATTEMPTS, TimerStatus
from xinren.timers.tables import timers as timer_table

CALLS: Counter[str] = Counter()
LOCK = threading.Lock()


@timers.handler("test.count")
def _count(session, clock, timer) -> None:
    with LOCK:
        CALLS[timer.subject] += 1


@timers.handler("test.fail")
def _fail(session, clock, timer) -> None:
    raise RuntimeError("supplier API down")


def test_racing_runners_run_each_timer_once(fresh_url):
    engine = make_engine(fresh_url)
    factory = session_factory(engine)
    clock = FakeClock()
    n = 60
    with unit_of_work(factory) as s:
        service.create_account(s, clock, "src", "CNY")
        service.create_account(s, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
        service.create_account(s, clock, "shop", "CNY", debits_must_not_exceed_credits=True)
        service.move(s, clock, "fund", "src", "escrow", n * 100)
        hold_ids = [
            service.hold(
                s,
                clock,
                f"h{i}",
                "escrow",
                "shop",
                100,
                expires_at=clock.now() + timedelta(hours=1),
                expiry_action="post",
            ).hold_id
            for i in range(n)
        ]
        for i in range(n):
            timers.schedule(s, clock, "test.count", f"race-{i}", clock.now() + timedelta(hours=1))
    clock.advance(hours=2)
    CALLS.clear()
    ran: list[int] = []
    start = threading.Barrier(4)

    def runner() -> None:
        start.wait()
        ran.append(timers.run_due(factory, clock))

    threads = [threading.Thread(target=runner) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(ran) == 2 * n
    assert Counter({f"race-{i}": 1 for i in range(n)}) == CALLS
    with unit_of_work(factory) as s:
        statuses = {service.get_hold(s, h).status for h in hold_ids}
        assert statuses == {HoldStatus.POSTED}
        assert service.get_account(s, "shop").balance.net == n * 100
        assert timers.pending(s) == []
        journal.seal(s, clock)
    with unit_of_work(factory) as s:
        assert journal.verify(s).ok
    engine.dispose()


def test_failing_timer_backs_off_then_is_kept_as_failed(factory, clock):
    with factory() as s:
        timers.schedule(s, clock, "test.fail", "x", clock.now())
        s.commit()
    for _ in range(MAX_ATTEMPTS):
        assert timers.run_due(factory, clock) == 1
        clock.advance(hours=24)
    with factory() as s:
        row = s.execute(select(timer_table).where(timer_table.c.kind == "test.fail")).one()
    assert row.status == TimerStatus.FAILED.value
    assert row.attempts == MAX_ATTEMPTS
    assert "supplier API down" in row.last_error


def test_failed_attempt_waits_for_its_back_off(factory, clock):
    with factory() as s:
        timers.schedule(s, clock, "test.fail", "y", clock.now())
        s.commit()
    assert timers.run_due(factory, clock) == 1
    assert timers.run_due(factory, clock) == 0  # not due again until the back-off passes
    clock.advance(seconds=31)
    assert timers.run_due(factory, clock) == 1
