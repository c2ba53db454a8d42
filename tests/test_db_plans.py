"""The ledger's plans stay index plans as its tables grow (PostgreSQL only).

A cached generic plan is made once, while the tables are small, and kept for the connection's
life: until issue 15 `make_engine` forced one, and a transfer's load ran sequential scans of
every transfer ever written (bench/ledger_growth_bench.py). These tests warm a pooled connection
on near-empty tables, grow the tables with no ANALYZE (so nothing would replan a cached plan),
and read the plans PostgreSQL actually ran for the next transfer (auto_explain, sent to the
client as notices). No planner switch is turned: on tables of 20,000 rows an index lookup is
genuinely the cheaper plan, so the planner picks it whenever it plans for the tables as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.ledger import service

pytestmark = pytest.mark.postgres

GROWN = 20_000  # rows added to the transfers and accounts tables after the warm-up
GROWN_TABLES = ("ledger_transfers", "ledger_accounts")


@pytest.fixture
def explained(fresh_url: str) -> Iterator[tuple[Engine, list[str]]]:
    """An engine of ONE pooled connection (every unit of work reuses it and its prepared
    statements) that collects the plan of every statement it runs."""
    plans: list[str] = []
    engine = make_engine(fresh_url, pool_size=1, max_overflow=0)

    @event.listens_for(engine, "connect")
    def _auto_explain(dbapi: Any, _record: Any) -> None:
        dbapi.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        with dbapi.cursor() as cur:
            cur.execute("LOAD 'auto_explain'")
            cur.execute("SET auto_explain.log_min_duration = 0")
            cur.execute("SET auto_explain.log_level = notice")
        dbapi.commit()

    try:
        with engine.connect():
            pass
    except Exception as err:  # a server without the contrib module
        engine.dispose()
        pytest.skip(f"auto_explain is not available on this server: {err}")
    yield engine, plans
    engine.dispose()


def test_a_fresh_engine_does_not_force_generic_plans(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    try:
        with engine.connect() as conn:
            mode = conn.exec_driver_sql("SHOW plan_cache_mode").scalar()
    finally:
        engine.dispose()
    assert mode == "force_custom_plan"


def _grow(engine: Engine) -> None:
    """Rows written behind the ledger's back: fast, and with no ANALYZE (statistics stay empty)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO ledger_transfers (idempotency_key, kind, payload_hash, reason, created_at)"
            f" SELECT 'grown-' || g, 'transfer', 'x', '', now() FROM generate_series(1, {GROWN}) g"
        )
        conn.exec_driver_sql(
            "INSERT INTO ledger_accounts (code, currency, created_at)"
            f" SELECT 'grown:' || g, 'CNY', now() FROM generate_series(1, {GROWN}) g"
        )


def test_a_transfer_uses_indexes_after_the_tables_grow(
    explained: tuple[Engine, list[str]],
) -> None:
    engine, plans = explained
    factory, clock = session_factory(engine), SystemClock()
    with unit_of_work(factory) as s:
        service.create_account(s, clock, "plans:a", "CNY")
        service.create_account(s, clock, "plans:b", "CNY")
    for i in range(10):  # past psycopg's prepare threshold and PostgreSQL's five custom plans
        with unit_of_work(factory) as s:
            service.move(s, clock, f"warm-{i}", "plans:a", "plans:b", 1)
    _grow(engine)

    plans.clear()
    with unit_of_work(factory) as s:
        service.move(s, clock, "after-growth", "plans:a", "plans:b", 1)

    ledger_plans = [p for p in plans if "ledger_" in p]
    assert ledger_plans, "auto_explain reported no plan for the transfer"
    seq_scans = [
        (table, p.partition("Query Text:")[2].strip()[:80])
        for p in ledger_plans
        for table in re.findall(r"Seq Scan on (\w+)", p)
        if table in GROWN_TABLES
    ]
    assert seq_scans == []
    # the load found its two accounts through an index (the key lookup: no seq scan, above)
    assert any(re.search(r"Index (Only )?Scan using \w+ on ledger_accounts", p) for p in plans)
