"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on, and every transaction starts with
``BEGIN IMMEDIATE``: writers queue on the file lock at the start instead of failing with
"database is locked" halfway through, which is the only safe way for concurrent writers there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from xinren.config import database_url
from xinren.unit_of_work import transaction

SQLITE_BUSY_TIMEOUT_MS = 60_000

# Every execution of a prepared statement is planned for its own parameters and for the tables
# as they are now. A cached generic plan is made once, while the tables are small, and reused on
# the connection for as long as it lives; nothing replans it without an ANALYZE. Forced generic
# plans (until issue 15) and `auto` (which keeps the generic plan after five executions) both
# froze the ledger's load on sequential scans: 35-39 ms a transfer at 300k transfers against
# 1.9 ms planned fresh (tests/test_db_plans.py, bench/ledger_growth_bench.py). The planner reads
# a table's current size even without statistics, so a fresh plan follows the tables' growth.
# (random_page_cost 1.1 would keep a batch's 1,000 key lookups on the index where 4 prefers a
# sequential scan of 300k transfers, but it changes the load's plan on small tables into one
# under which tests/ledger/test_concurrency.py::test_bank_on_postgres loses a locked account:
# left at the server's setting until the load statement is safe under any plan.)
PG_PLANNER_OPTIONS = "-c plan_cache_mode=force_custom_plan"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (default: `XINREN_DATABASE_URL`) set up for the ledger's needs."""
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _setup_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(False))
    kwargs.setdefault("pool_size", 16)
    kwargs.setdefault("max_overflow", 16)
    # No pre-ping: it costs round trips on every checkout; recycle idle connections instead.
    kwargs.setdefault("pool_recycle", 1800)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("options", PG_PLANNER_OPTIONS)
    return create_engine(url, **kwargs)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(bind: Engine | Connection | Session) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back if it raises; driver errors
    come out as Xinren errors (`xinren.unit_of_work.transaction`). A CLI command that meets a
    deadlock is run again whole by `cli.common.friendly_errors`."""
    with transaction(factory) as session:
        yield session


# --- migrations -------------------------------------------------------------------------------


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("xinren") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (Alembic), in one transaction."""
    _migrate(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision`, in one transaction."""
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))


def _migrate(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run `step` in one transaction. On SQLite, with foreign keys off while it runs (checked
    before the commit): SQLite changes a table's constraints by rebuilding the table, and
    dropping the old one would fail, or cascade, while other tables' rows point at it. This is
    SQLite's own procedure for schema changes (https://sqlite.org/lang_altertable.html)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            step(alembic_config(conn))
        return
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction, where it takes effect
        try:
            with conn.begin():
                step(alembic_config(conn))
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def ensure_schema(engine: Engine) -> bool:
    """Migrate an empty database; refuse (with what to do) one that is behind. True if migrated."""
    has_tables = bool(inspect(engine).get_table_names())
    current = current_revision(engine)
    if not has_tables:
        upgrade(engine)
        return True
    if current != head_revision():
        from xinren.errors import Conflict

        raise Conflict(
            f"the database is at migration {current or 'none'}, the code needs "
            f"{head_revision()}: run `xinren db upgrade` first"
        )
    return False
