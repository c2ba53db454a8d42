"""Test databases and isolation.

The suite runs on SQLite by default, and on PostgreSQL when ``XINREN_TEST_DATABASE_URL`` names a
server (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``): it then creates its own
throw-away database there and drops it at the end, so no run depends on an earlier one.

The suite runs in parallel (``pytest -n auto``, pytest-xdist): each worker makes its own databases
(named with the worker id and a random part), its own temporary directories (pytest gives each
worker its own base), and servers listen on free ports, so no two workers share anything.

Isolation follows pypi/warehouse: each test runs inside an outer transaction that is rolled back,
and the code under test commits only savepoints. Tests that need real commits seen by other
connections (timers, concurrency, crashes, a real server) ask for `fresh_url`: a new database.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from xinren.cli import common
from xinren.cli.main import app as cli_app
from xinren.clock import FakeClock
from xinren.db import make_engine, upgrade

PG_HINT = (
    "needs PostgreSQL: set XINREN_TEST_DATABASE_URL="
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres (the tests create their own database)"
)


# the xdist worker running this process ("gw0", "gw1", ...), or "main" when not in parallel
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
DROPPERS = 8  # databases dropped at once at the end


def server_url() -> str | None:
    url = os.environ.get("XINREN_TEST_DATABASE_URL", "").strip()
    return url if url.startswith("postgresql") else None


def on_postgres() -> bool:
    return server_url() is not None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if on_postgres():
        return
    skip = pytest.mark.skip(reason=PG_HINT)
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _admin_engine(url: str, pool_size: int = 5) -> Engine:
    return create_engine(
        make_url(url).set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
    )


class Databases:
    """Creates throw-away databases (PostgreSQL) or files (SQLite) and removes them after.

    A migrated one is a copy of this worker's template, migrated once (CREATE DATABASE ...
    TEMPLATE on PostgreSQL, SQLite's backup on SQLite): about 15x faster than migrating each.
    """

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.server = server_url()
        self.created: list[str] = []
        self.template: str | None = None  # the migrated original: a database name or a file
        self.admin: Engine | None = None
        self.dropper: ThreadPoolExecutor | None = None
        self.dropping: list[Future[None]] = []

    def _name(self) -> str:
        return f"xinren_test_{WORKER}_{uuid.uuid4().hex[:12]}"

    def _create(self, name: str, template: str | None = None) -> str:
        assert self.server is not None
        admin = _admin_engine(self.server)
        with admin.connect() as conn:
            like = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{like}'))
        admin.dispose()
        self.created.append(name)
        url = make_url(self.server).set(drivername="postgresql+psycopg", database=name)
        return url.render_as_string(hide_password=False)

    def new(self) -> str:
        """An empty database: no tables, no migrations."""
        name = self._name()
        if self.server is None:
            return f"sqlite:///{self.tmp / (name + '.db')}"
        return self._create(name)

    def migrated(self) -> str:
        """A new database at the latest migration, its own copy of the worker's template."""
        if self.template is None:
            url = self.new()
            eng = make_engine(url)
            upgrade(eng)
            eng.dispose()  # no connection may stay on a template (PostgreSQL refuses the copy)
            self.template = make_url(url).database
        name = self._name()
        if self.server is not None:
            return self._create(name, template=self.template)
        path = self.tmp / (name + ".db")
        with closing(sqlite3.connect(self.template)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        return f"sqlite:///{path}"

    def release(self, url: str) -> None:
        """The test that asked for `url` is over: drop its database now, beside the next tests
        (each drop waits for a checkpoint); one still in use is left for `drop_all`."""
        if self.server is None:
            return
        if self.dropper is None:
            self.admin = _admin_engine(self.server, pool_size=DROPPERS)
            self.dropper = ThreadPoolExecutor(DROPPERS, thread_name_prefix="drop-test-db")
        name = make_url(url).database
        assert name is not None
        self.dropping.append(self.dropper.submit(self._drop, name, False))

    def _drop(self, name: str, force: bool) -> None:
        assert self.admin is not None
        try:
            with self.admin.connect() as conn:
                also = " WITH (FORCE)" if force else ""
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{also}'))
        except OperationalError:
            if force:
                raise
            return  # still in use (a thread the test left behind): dropped at the end
        self.created.remove(name)

    def drop_all(self) -> None:
        """Drop every database not dropped yet, several at once (concurrent drops share the
        checkpoint each waits for)."""
        if self.server is None:
            return
        if self.dropper is None:
            self.admin = _admin_engine(self.server, pool_size=DROPPERS)
            self.dropper = ThreadPoolExecutor(DROPPERS, thread_name_prefix="drop-test-db")
        for done in self.dropping:
            done.result()
        for done in [self.dropper.submit(self._drop, name, True) for name in list(self.created)]:
            done.result()
        self.dropper.shutdown()
        assert self.admin is not None
        self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    dbs = Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def engine(databases: Databases) -> Iterator[Engine]:
    """The shared, migrated test database; tests see it only through `session`."""
    eng = make_engine(databases.migrated())
    yield eng
    eng.dispose()


@pytest.fixture
def fresh_url(databases: Databases) -> Iterator[str]:
    """A new, migrated database of its own, for tests whose commits must really commit."""
    url = databases.migrated()
    yield url
    databases.release(url)


class Turns:
    """Gives a test marked `alone` the PostgreSQL server to itself in a parallel run.

    The event feed's horizon is cluster-wide: another worker's open transaction (a stateful
    test's lasts minutes) holds the feed back, whatever its database. So every other test holds
    a shared lock while it runs, and an `alone` test takes it exclusively, behind a turnstile
    that stops new tests from starting in the meantime (it is never starved). The lock files
    live in the run's temporary directory, which all workers of one run share.
    """

    def __init__(self, folder: Path) -> None:
        self.gate = (folder / "postgres.gate").open("a")
        self.room = (folder / "postgres.room").open("a")

    @contextmanager
    def turn(self, alone: bool) -> Iterator[None]:
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        except BaseException:
            fcntl.flock(self.gate, fcntl.LOCK_UN)
            raise
        if not alone:
            fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)

    def close(self) -> None:
        self.gate.close()
        self.room.close()


@pytest.fixture(scope="session")
def turns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Turns | None]:
    """The workers' shared locks: only in a parallel run on PostgreSQL."""
    if WORKER == "main" or not on_postgres():
        yield None
        return
    shared = Turns(tmp_path_factory.getbasetemp().parent)
    yield shared
    shared.close()


@pytest.fixture(autouse=True)
def _turn(request: pytest.FixtureRequest, turns: Turns | None) -> Iterator[None]:
    if turns is None:
        yield
        return
    with turns.turn(alone=request.node.get_closest_marker("alone") is not None):
        yield


@pytest.fixture
def connection(engine: Engine) -> Iterator[object]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def factory(connection: object) -> sessionmaker[Session]:
    """Sessions bound to the test's outer transaction: their commits are savepoints."""
    return sessionmaker(
        bind=connection,  # type: ignore[arg-type]
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
    )


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def wait_until_blocked(engine: Engine, worker: threading.Thread, timeout: float = 30) -> None:
    """Return once another connection to `engine`'s PostgreSQL database waits on a lock (a row,
    a key or a transaction the test holds), or once `worker` has finished without waiting.

    This orders a race between connections by what the database says, where a sleep only
    hopes the other side got there in time. Only the test's own database is looked at, so
    tests running in parallel on the same server do not see each other's waits.
    """
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    with engine.connect() as conn:
        while worker.is_alive():
            waiting = int(conn.execute(query).scalar_one())
            conn.rollback()  # pg_stat_activity is a snapshot per transaction
            if waiting:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{worker.name} neither waits on a lock nor finished")
            time.sleep(0.01)


@pytest.fixture
def until_blocked() -> Callable[[Engine, threading.Thread], None]:
    """`wait_until_blocked`: a barrier for a thread that must queue behind the test's lock."""
    return wait_until_blocked


# --- the command line, run in-process on a test's own database ---


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def cli(fresh_url: str, docs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `xinren ...` on the test's own database; assert the exit code, never a traceback."""
    monkeypatch.setenv("XINREN_DATABASE_URL", fresh_url)
    monkeypatch.setenv("XINREN_DOCUMENT_DIR", str(docs_dir))
    for console in (common.console, common.err_console):
        monkeypatch.setattr(console, "_width", 200)  # no wrapping inside the values we look for
    runner = CliRunner()

    def run(*args: str, code: int = 0, input: str | None = None) -> Result:
        result = runner.invoke(cli_app, list(args), input=input)
        assert result.exit_code == code, (result.stdout, result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        return result

    return run


@pytest.fixture
def count(fresh_url: str) -> Callable[[str], int]:
    def rows(table: str) -> int:
        engine = make_engine(fresh_url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()

    return rows
