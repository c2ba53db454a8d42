"""Helpers for the event feed's tests: a consumer paging ``GET /v1/events`` from its cursor as
the integrating platform does, writers, and waiting out the horizon on PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.db import is_postgres, session_factory
from xinren.events import service as events
from xinren.events.tables import outbox

SETTLE_TIMEOUT = 120.0  # seconds; only a transaction left open elsewhere should ever reach it

CLOCK = FakeClock()


def make_key(engine: Engine, role: str, subject: str | None = None) -> str:
    """A key to read the feed with. Making a key is an event too (``api_key.created``), which
    these tests, counting exactly the events they wrote, take out again."""
    with session_factory(engine)() as s:
        principal, secret = access.create_key(s, CLOCK, role, subject=subject)
        s.execute(outbox.delete().where(outbox.c.subject == f"api_key:{principal.key_id}"))
        s.commit()
    return secret


@dataclass
class Consumer:
    """Pages the feed from its cursor and keeps everything it received, in order."""

    client: TestClient
    key: str
    cursor: str = "0"
    seen: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0

    def get(self, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.key}"}
        return self.client.get("/v1/events", params=params, headers=headers)

    def page(self, limit: int = 100) -> list[dict[str, Any]]:
        r = self.get(after=self.cursor, limit=limit)
        assert r.status_code == 200, r.text
        body = r.json()
        self.cursor = body["next_cursor"]
        self.seen.extend(body["items"])
        self.pages += 1
        return list(body["items"])

    def drain(self, limit: int = 100) -> list[dict[str, Any]]:
        """Every page up to the first empty one."""
        got: list[dict[str, Any]] = []
        while items := self.page(limit):
            got.extend(items)
        return got

    def subjects(self) -> list[str]:
        return [e["subject"] for e in self.seen]


def consumer(engine: Engine, role: str = "platform") -> Consumer:
    app = create_app(engine, clock=CLOCK)
    return Consumer(TestClient(app), make_key(engine, role))


def subjects(items: list[dict[str, Any]]) -> list[str]:
    return [e["subject"] for e in items]


def write(engine: Engine, *subject: str) -> None:
    """One committed transaction appending an event per subject."""
    with session_factory(engine)() as s:
        for each in subject:
            events.append(s, CLOCK, "test.written", each, {"subject": each})
        s.commit()


def xid(session: Session) -> int:
    """The session's transaction id (PostgreSQL), assigning one as a first write would."""
    return int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())


def settle(engine: Engine, past: int | None = None) -> None:
    """Wait until every transaction up to `past` (default: all finished ones) has ended.

    PostgreSQL only; SQLite shows a commit at once. The feed's horizon is cluster-wide, and
    other test suites may share the server: their open transactions hold the feed back (the
    documented limit). Waiting for them orders nothing inside a test. One that outlives
    `SETTLE_TIMEOUT` fails the test, naming it.
    """
    if not is_postgres(engine):
        return
    deadline = time.monotonic() + SETTLE_TIMEOUT
    with engine.connect() as conn:
        if past is None:
            past = _scalar(conn, "pg_snapshot_xmax(pg_current_snapshot())::text::bigint") - 1
        while _scalar(conn, "pg_snapshot_xmin(pg_current_snapshot())::text::bigint") <= past:
            if time.monotonic() > deadline:
                holders = conn.execute(
                    text(
                        "SELECT pid, datname, state, backend_xid::text, left(query, 80) "
                        "FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
                    )
                ).all()
                raise AssertionError(f"transactions still hold the feed back: {holders}")
            time.sleep(0.005)


def _scalar(conn: Any, sql: str) -> int:
    value = int(conn.execute(text(f"SELECT {sql}")).scalar_one())
    conn.rollback()  # a fresh snapshot each time round
    return value
