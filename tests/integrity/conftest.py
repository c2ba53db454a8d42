"""Fixtures the money-path tests share: a clock on the day the stories happen, and a database of
the test's own whose commits really commit (for races between connections)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def db(fresh_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh database: each unit of work there commits for every connection."""
    engine = make_engine(fresh_url)
    yield session_factory(engine)
    engine.dispose()
