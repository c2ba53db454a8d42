"""The feed under concurrent writers on PostgreSQL, where ids do not commit in id order.

A consumer pages ``GET /v1/events`` from its cursor. It must never receive a page after which a
committed event with a place before its cursor appears: that event would be lost to it. First
two hand-made interleavings (a later id commits first; a later id belongs to the older
transaction), then many writers racing a consumer, some of them rolling back.
"""

from __future__ import annotations

import random
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, select

from tests.events import CLOCK, Consumer, consumer, settle, subjects, write, xid
from xinren.db import make_engine, session_factory
from xinren.events import service as events
from xinren.events.tables import outbox

pytestmark = pytest.mark.postgres

WRITERS = 8
TRANSACTIONS = 40  # per writer and round
ROUNDS = 3


@pytest.fixture
def db(fresh_url):
    eng = make_engine(fresh_url)
    yield eng
    eng.dispose()


def test_a_later_id_that_commits_first_waits_for_the_earlier_one(db):
    write(db, "before")
    settle(db)
    feed = consumer(db)
    assert subjects(feed.drain()) == ["before"]
    new = session_factory(db)
    with new() as t1, new() as t2:
        events.append(t1, CLOCK, "test.written", "first", {})  # the lower id, still open
        events.append(t2, CLOCK, "test.written", "second", {})
        top = max(xid(t1), xid(t2))
        t2.commit()
        settle(db, past=xid(t1) - 1)  # as far as the feed can go while t1 is open
        assert feed.drain() == []  # "second" is committed but held behind the open "first"
        t1.commit()
    settle(db, past=top)
    got = feed.drain()
    assert subjects(got) == ["first", "second"]
    assert got[0]["id"] < got[1]["id"]
    assert feed.subjects() == ["before", "first", "second"]


def test_a_later_id_of_the_older_transaction_comes_first(db):
    """Ids need not ascend: the older transaction's event is ahead whatever its id."""
    feed = consumer(db)
    new = session_factory(db)
    with new() as older, new() as younger:
        older_xid = xid(older)  # as its first write (of anything) would
        events.append(younger, CLOCK, "test.written", "younger", {})  # the lower id
        events.append(older, CLOCK, "test.written", "older", {})
        younger_xid = xid(younger)
        assert older_xid < younger_xid
        older.commit()
        settle(db, past=older_xid)
        assert subjects(feed.drain()) == ["older"]  # shown while the lower id is still open
        younger.commit()
    settle(db, past=younger_xid)
    assert subjects(feed.drain()) == ["younger"]
    first, second = feed.seen
    assert first["id"] > second["id"]


@dataclass
class Log:
    """What the writers and the consumer did; each thread appends to its own lists only."""

    committed: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _writer(db: Engine, index: int, rnd: int, barrier: threading.Barrier, log: Log) -> None:
    """Small transactions of one to three events; every third writer rolls some back."""
    rng = random.Random(f"{rnd}-{index}")
    new = session_factory(db)
    barrier.wait()
    for n in range(TRANSACTIONS):
        names = [f"w{index}:r{rnd}:t{n}:e{k}" for k in range(rng.randint(1, 3))]
        with new() as s:
            for name in names:
                events.append(s, CLOCK, "test.written", name, {"writer": index})
            if index % 3 == 0 and rng.random() < 0.3:
                s.rollback()
                log.rolled_back.extend(names)
            else:
                s.commit()
                log.committed.extend(names)


def _reader(feed: Consumer, barrier: threading.Barrier, done: threading.Event) -> None:
    rng = random.Random(0)
    barrier.wait()
    while not done.is_set():
        feed.page(limit=rng.choice([1000, 1000, 1000, 7]))


def _guarded(log: Log, target: Callable[..., None], *args: object) -> threading.Thread:
    """A thread that records its traceback instead of dying silently."""

    def run() -> None:
        try:
            target(*args)
        except BaseException:
            log.failures.append(traceback.format_exc())

    return threading.Thread(target=run)


def test_concurrent_writers_never_make_the_feed_skip_or_repeat(db):
    feed = consumer(db)
    committed: list[str] = []
    rolled_back: list[str] = []
    for rnd in range(ROUNDS):
        barrier = threading.Barrier(WRITERS + 1)
        done = threading.Event()
        logs = [Log() for _ in range(WRITERS + 1)]
        writers = [_guarded(logs[i], _writer, db, i, rnd, barrier, logs[i]) for i in range(WRITERS)]
        reader = _guarded(logs[-1], _reader, feed, barrier, done)
        for t in [*writers, reader]:
            t.start()
        for t in writers:
            t.join()
        done.set()
        reader.join()
        failures = [f for log in logs for f in log.failures]
        assert not failures, failures[0]
        seen_while_writing = len(feed.seen)
        settle(db)
        feed.drain()
        for log in logs:
            committed += log.committed
            rolled_back += log.rolled_back
        seen = Counter(feed.subjects())
        context = f"round {rnd}: {feed.pages} pages, {seen_while_writing} events while writing"
        assert [s for s, n in seen.items() if n > 1] == [], context
        assert set(committed) - set(seen) == set(), context
        assert set(seen) & set(rolled_back) == set(), context
        assert set(seen) == set(committed), context
    with db.connect() as conn:
        stored = set(conn.execute(select(outbox.c.subject)).scalars())
    assert stored == set(committed) and rolled_back
