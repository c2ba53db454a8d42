"""GET /v1/events on both databases: paging from the cursor, refused cursors, who may read, what
reading writes (nothing), and the migration that gives old databases the commit-order feed."""

from __future__ import annotations

import time

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from tests.events import CLOCK, consumer, make_key, settle, subjects, write
from xinren.db import alembic_config, is_postgres, make_engine, session_factory, upgrade
from xinren.events import service as events
from xinren.events.tables import outbox


@pytest.fixture
def db(fresh_url):
    eng = make_engine(fresh_url)
    yield eng
    eng.dispose()


def test_the_route_pages_from_its_cursor_refuses_an_unknown_one_and_needs_a_key(db):
    _pages_each_event_once(db)
    _refuses_a_cursor_that_names_no_event(db)
    _needs_a_platform_or_auditor_key(db)


def _pages_each_event_once(db):
    write(db, "a", "b", "c")
    write(db, "d", "e")
    settle(db)
    feed = consumer(db)
    pages = [subjects(feed.page(limit=2)) for _ in range(4)]
    assert pages == [["a", "b"], ["c", "d"], ["e"], []]
    assert feed.cursor == str(feed.seen[-1]["id"])  # an empty page keeps the cursor
    write(db, "f")
    settle(db)
    assert subjects(feed.drain()) == ["f"]
    assert feed.subjects() == ["a", "b", "c", "d", "e", "f"]


def _refuses_a_cursor_that_names_no_event(db):
    feed = consumer(db)
    for bad in (999_999, -1, 2**63, "ten"):
        r = feed.get(after=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["after"], (bad, r.json())
    assert "names no event" in feed.get(after=999_999).json()["detail"]


def _needs_a_platform_or_auditor_key(db):
    feed = consumer(db)
    assert feed.client.get("/v1/events").status_code == 401
    for role, subject in (("buyer", "buyer:7"), ("merchant", "merchant:42")):
        feed.key = make_key(db, role, subject)
        assert feed.get().status_code == 403
    for role in ("platform", "auditor", "admin"):
        feed.key = make_key(db, role)
        assert subjects(feed.get(limit=1).json()["items"]) == ["a"]


def test_a_reader_sees_its_own_transactions_events(db):
    """As any read does (the test suite reads inside its own transactions). On PostgreSQL they
    show once nothing older runs on the server, which another suite there may delay."""
    with session_factory(db)() as s:
        events.append(s, CLOCK, "test.written", "mine", {})
        deadline = time.monotonic() + 60
        while not (found := events.feed(s)) and time.monotonic() < deadline:
            time.sleep(0.005)  # each statement reads a fresh snapshot in the same transaction
        assert [e.subject for e in found] == ["mine"]
        s.rollback()


@pytest.mark.postgres
def test_reading_the_feed_writes_nothing(db):
    """No transaction id is taken: a reader never holds the horizon back, and commits nothing."""
    write(db, "a")
    settle(db)
    with session_factory(db)() as s:
        assert [e.subject for e in events.feed(s, after=0)] == ["a"]
        events.feed(s, after=events.feed(s)[0].id)
        assert s.execute(text("SELECT pg_current_xact_id_if_assigned()")).scalar() is None


def test_the_migration_keeps_old_events_first_in_id_order(databases):
    """Events written before 0015 come first, in id order; an old cursor keeps its place."""
    eng = make_engine(databases.new())
    try:
        upgrade(eng, "0014")
        write(eng, "old-1", "old-2")
        write(eng, "old-3")
        upgrade(eng, "0015")
        write(eng, "new-1")
        write(eng, "new-2")
        settle(eng)
        with session_factory(eng)() as s:
            everything = events.feed(s)
            assert [e.subject for e in everything] == ["old-1", "old-2", "old-3", "new-1", "new-2"]
            old_cursor = everything[0].id
            assert [e.subject for e in events.feed(s, after=old_cursor)][:2] == ["old-2", "old-3"]
            txids = {r.subject: r.txid for r in s.execute(select(outbox.c.subject, outbox.c.txid))}
        column = next(c for c in inspect(eng).get_columns("outbox") if c["name"] == "txid")
        if is_postgres(eng):
            assert [txids[f"old-{i}"] for i in (1, 2, 3)] == [0, 0, 0]
            assert 0 < txids["new-1"] < txids["new-2"]
            assert not column["nullable"] and "pg_current_xact_id" in column["default"]
        else:
            assert set(txids.values()) == {None}
        assert "ix_outbox_txid" in {i["name"] for i in inspect(eng).get_indexes("outbox")}
        with eng.begin() as conn:
            command.downgrade(alembic_config(conn), "0014")
        assert "txid" not in {c["name"] for c in inspect(eng).get_columns("outbox")}
        upgrade(eng, "0015")
    finally:
        eng.dispose()
