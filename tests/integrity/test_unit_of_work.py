"""Hole 9: one unit of work for every route, command and timer: it commits once, translates
driver errors, and runs the unit again after a deadlock or a serialization failure.

Before the fix routes committed themselves, a deadlock came back to the client as a 500, and
nothing ran a broken-off request again.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tests.integrity.world import MERCHANT, market, race, settled_order
from xinren.api.app import create_app
from xinren.api.deps import SessionDep
from xinren.errors import Busy, Conflict, XinrenError
from xinren.events import service as events
from xinren.events.tables import outbox
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.parties import deposits
from xinren.remedies import service as remedies
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind
from xinren.unit_of_work import run, translate

SRC = Path(__file__).resolve().parents[2] / "src" / "xinren"


class _Driver(Exception):
    """Stands in for a driver exception carrying a SQLSTATE, as psycopg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(cls: type, sqlstate: str) -> Exception:
    return cls("SELECT 1", {}, _Driver(sqlstate))


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (_wrapped(OperationalError, "40P01"), 503, "database-busy"),
        (_wrapped(OperationalError, "40001"), 503, "database-busy"),
        (_wrapped(IntegrityError, "23505"), 409, "concurrent-request"),
        (_wrapped(IntegrityError, "23514"), 409, "conflict"),
        (_wrapped(DataError, "22003"), 422, "validation-failed"),
        (psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), 422, None),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), 422, None),
        (_wrapped(OperationalError, "08006"), 503, "database-unavailable"),
        (RuntimeError("a bug"), 500, "internal-error"),
    ],
)
def test_every_error_becomes_a_xinren_error(error, status, slug):
    err = translate(error)
    assert isinstance(err, XinrenError) and err.status == status
    assert slug is None or err.slug == slug


# --- the HTTP unit of work, on a small app sharing the real middleware and a real database ---


@pytest.fixture
def probe(factory, clock):
    """An app whose routes write an event, then fail in a chosen way the first `fails` times."""
    app = create_app(clock=clock, sessions=factory)
    calls: list[str] = []
    plan: dict[str, tuple[Exception | None, int]] = {}

    @app.post("/probe/{name}")
    def probe_route(name: str, session: SessionDep) -> dict[str, int]:
        calls.append(name)
        events.append(session, clock, "probe", name, {"n": len(calls)})
        error, fails = plan.get(name, (None, 0))
        if error is not None and calls.count(name) <= fails:
            raise error
        return {"runs": calls.count(name)}

    return TestClient(app), calls, plan


def _probes(session: Session, name: str) -> int:
    return len(session.execute(select(outbox.c.id).where(outbox.c.subject == name)).scalars().all())


def test_a_deadlocked_request_runs_again_and_leaves_one_result(probe, session):
    client, calls, plan = probe
    plan["dl"] = (_wrapped(OperationalError, "40P01"), 2)
    r = client.post("/probe/dl")
    assert r.status_code == 200 and r.json() == {"runs": 3}
    assert calls.count("dl") == 3 and _probes(session, "dl") == 1  # two runs rolled back


def test_a_request_that_keeps_deadlocking_gets_a_503_with_retry_after(probe, session):
    client, _, plan = probe
    plan["always"] = (_wrapped(OperationalError, "40P01"), 99)
    r = client.post("/probe/always")
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/database-busy")
    assert _probes(session, "always") == 0


def test_errors_roll_back_and_kept_errors_commit(probe, session):
    client, _, plan = probe
    plan["bug"] = (RuntimeError("boom"), 1)
    plan["refused"] = (Conflict("no"), 1)
    plan["kept"] = (Conflict("refused, but what was done stays", keep=True), 1)
    bug = client.post("/probe/bug")
    assert bug.status_code == 500 and bug.json()["type"].endswith("/internal-error")
    assert "boom" not in bug.text  # a bug's details are logged, never shown
    assert client.post("/probe/refused").status_code == 409
    assert client.post("/probe/kept").status_code == 409
    assert (_probes(session, "bug"), _probes(session, "refused"), _probes(session, "kept")) == (
        0,
        0,
        1,
    )


def test_no_module_commits_or_begins_outside_the_unit_of_work():
    """Routes, services and commands never end a transaction themselves."""
    allowed = {SRC / "unit_of_work.py", SRC / "db.py"}
    found = []
    for path in SRC.rglob("*.py"):
        if path in allowed or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback", "begin")
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} .{node.func.attr}()")
    assert found == []


# --- real deadlocks (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
def test_two_units_locking_in_opposite_orders_both_finish(db, clock):
    """A deadlock forced on purpose: each unit holds one account and waits for the other's.
    PostgreSQL breaks it off in one of them; the unit of work runs that one again."""

    def setup(s: Session) -> None:
        for code in ("dead:a", "dead:b"):
            ledger.create_account(s, clock, code, "CNY")

    run(db, setup)
    both_hold_one = threading.Barrier(2, timeout=30)
    runs = {"ab": 0, "ba": 0}

    def unit(first: str, second: str, name: str) -> Callable[[Session], None]:
        def fn(s: Session) -> None:
            runs[name] += 1
            ledger.lock_accounts(s, [first])
            if runs[name] == 1:
                both_hold_one.wait()
            ledger.lock_accounts(s, [second])
            s.execute(text("SELECT 1"))

        return fn

    outcomes = race(db, [unit("dead:a", "dead:b", "ab"), unit("dead:b", "dead:a", "ba")])
    assert all(o.error is None for o in outcomes), outcomes
    assert sorted(runs.values()) == [1, 2]  # one was broken off and ran again


@pytest.mark.postgres
def test_remedies_and_sanctions_on_one_merchant_never_surface_a_deadlock(db, clock, tmp_path):
    """Refunds from the merchant's balance and deposit, recovery into the fund, a penalty
    from the deposit and a freeze of the balance, all at once on one merchant: each use case
    makes several ledger moves, and none of them reaches the caller as a database error."""
    from xinren.documents import service as documents
    from xinren.documents.model import DocType, DocumentMeta
    from xinren.documents.store import FileStore

    store = FileStore(tmp_path / "documents")

    def setup(s: Session) -> str:
        market(s, clock)
        remedies.top_up_fund(s, clock, "fund", 10_000_000, "CNY")
        report = documents.add(
            s,
            clock,
            store,
            b"sampling: not the brand's tea",
            DocumentMeta(
                DocType.SAMPLING_REPORT, "text/plain", "lab:cqi", MERCHANT, accreditation="CNAS"
            ),
        )
        return f"document:{report.sha256}"

    report = run(db, setup)
    for r in range(3):  # the fourth counterfeit finding would clear the merchant out
        orders_ = [
            run(db, lambda s, r=r, i=i: settled_order(s, clock, f"d{r}-{i}", 20_000))
            for i in range(3)
        ]
        units = [
            lambda s, o=o, r=r: remedies.pay_buyer(
                s,
                clock,
                f"refund-{r}-{o.id}",
                order_id=o.id,
                refund=o.state.paid,
                compensation_due=60_000,
                payer=MERCHANT,
                basis="counterfeit",
                origin=f"case:{r}:{o.id}",
            )
            for o in orders_
        ]
        units.append(
            lambda s, r=r: rules.decide(
                s,
                clock,
                f"penalty-{r}",
                subject=MERCHANT,
                rule_id="CF-1",
                conduct_at=clock.now(),
                facts="independent sampling found the goods counterfeit",
                evidence=[report],
                source="inspection",
                decided_by="reviewer:a",
                requested=[
                    Requested(SanctionKind.PENALTY_PAYMENT, amount=500_000),
                    Requested(SanctionKind.SETTLEMENT_FREEZE, days=1),
                ],
            )
        )
        outcomes = race(db, units)
        surfaced = [o.error for o in outcomes if isinstance(o.error, Busy)]
        assert surfaced == [], surfaced
        assert all(o.error is None for o in outcomes), outcomes
        run(
            db,
            lambda s, r=r: deposits.pay_deposit(s, clock, f"top-{r}", MERCHANT, 500_000, "CNY"),
        )
        clock.advance(days=2)
    report_ = run(db, journal.verify)
    assert report_.ok, report_.problems


@pytest.mark.postgres
def test_a_request_holding_locks_never_waits_for_a_thread_the_routes_hold(db, clock):
    """Routes run in a pool of threads; a request whose route is done holds its row locks until
    its answer is serialised and its transaction committed. If either needed a thread of that
    pool, routes blocked on those locks could hold every thread and the holder would wait for
    ever (here, with a lock timeout, the blocked route is broken off and runs again). The pool
    here has one thread: the second request's route takes it and waits for the first's lock."""
    import asyncio

    import httpx

    from xinren.api import threads

    def setup(s: Session) -> None:
        ledger.create_account(s, clock, "locked:row", "CNY")

    run(db, setup)
    app = create_app(sessions=db, clock=clock)
    router = threads.Router()
    runs: list[str] = []

    @router.post("/test/hold/{name}")
    def hold(name: str, session: SessionDep) -> dict[str, str]:
        runs.append(name)
        session.execute(text("SET LOCAL lock_timeout = '3s'"))
        ledger.lock_accounts(session, ["locked:row"])  # the second waits for the first's commit
        if name == "first":
            threading.Event().wait(0.3)  # the second is queued for the one thread meanwhile
        return {"done": name}

    app.include_router(router)

    async def both() -> list[int]:
        from anyio import to_thread

        to_thread.current_default_thread_limiter().total_tokens = 1  # anyio's pool too
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.post("/test/hold/first"))
            await asyncio.sleep(0.1)
            second = asyncio.create_task(client.post("/test/hold/second"))
            return [r.status_code for r in await asyncio.gather(first, second)]

    threads.configure(1)
    try:
        assert asyncio.run(both()) == [200, 200]
    finally:
        threads.configure(threads.DEFAULT_THREADS)
    assert runs == ["first", "second"]  # the second was never broken off and run again
