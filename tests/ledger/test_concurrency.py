"""A bank test in the spirit of Jepsen's: concurrent transfers, concurrent full reads.

Writers move random amounts (some too large, so limits refuse them) between limited accounts,
each with a fresh idempotency key, and record which keys succeeded; some also repeat an earlier
key (same payload: a replay with no effect; another payload: `IdempotencyKeyReused`) or retry a
refused one (a refusal leaves nothing behind, so it re-runs). Readers read every balance in one
statement and check that the money is all there and no limit is broken; another reads the whole
ledger (`journal.verify`) in one snapshot while a sealer seals the journal.

Afterwards every success has exactly one transfer with exactly its two legs, no refusal left a
row behind, the balances are the funding plus the recorded successes, and the ledger verifies.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from xinren.clock import SystemClock
from xinren.db import is_postgres, make_engine, session_factory, unit_of_work
from xinren.errors import IdempotencyKeyReused, LimitExceeded
from xinren.ledger import journal, service
from xinren.ledger.tables import accounts, entries, transfers

CURRENCY = "CNY"
SOURCE = "bank:source"
FUNDING = 1_000  # per account; writers move up to 1.5 times this, so some moves are refused
MAX_DB_RETRIES = 50


@dataclass(frozen=True, slots=True)
class Move:
    key: str
    debit: str
    credit: str
    amount: int


@dataclass
class WriterLog:
    """What one writer saw; only its own thread touches it until the threads are joined."""

    succeeded: dict[str, Move] = field(default_factory=dict)
    transfer_ids: dict[str, int] = field(default_factory=dict)
    refused: dict[str, Move] = field(default_factory=dict)
    replays: int = 0
    reuses_refused: int = 0
    refused_then_accepted: int = 0
    db_errors: list[str] = field(default_factory=list)


@dataclass
class Shared:
    stop: threading.Event = field(default_factory=threading.Event)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reads: int = 0
    verifies: int = 0
    seals: int = 0

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)
        self.stop.set()


def _codes(n: int) -> list[str]:
    return [f"bank:{i:02d}" for i in range(n)]


def _setup(factory: sessionmaker[Session], codes: list[str]) -> None:
    clock = SystemClock()
    with unit_of_work(factory) as session:
        service.create_account(session, clock, SOURCE, CURRENCY)
        for code in codes:
            service.create_account(
                session, clock, code, CURRENCY, debits_must_not_exceed_credits=True
            )
            service.move(session, clock, f"fund-{code}", SOURCE, code, FUNDING)


def _with_db_retries(
    log: WriterLog, shared: Shared, what: str, fn: Callable[[], object]
) -> object | None:
    """Run one transaction; retry deadlocks/serialization failures but log each one.

    Retrying is safe here because every retry carries the same idempotency key: a first try
    that did commit turns the retry into a replay. The test still fails if any were logged.
    """
    for _ in range(MAX_DB_RETRIES):
        try:
            return fn()
        except OperationalError as err:
            log.db_errors.append(f"{what}: {type(err.orig).__name__}: {err.orig}")
            time.sleep(0.01)
    shared.fail(f"{what}: gave up after {MAX_DB_RETRIES} database errors")
    return None


def _writer(
    wid: int,
    factory: sessionmaker[Session],
    codes: list[str],
    log: WriterLog,
    shared: Shared,
    seed: int,
) -> None:
    rng = random.Random(seed * 1000 + wid)
    clock = SystemClock()
    n = 0

    def submit(m: Move) -> service.Result:
        with unit_of_work(factory) as session:
            return service.move(session, clock, m.key, m.debit, m.credit, m.amount)

    try:
        while not shared.stop.is_set():
            roll = rng.random()
            # Each kind of repeat happens at least once per writer, then at random.
            replay = bool(log.succeeded) and (log.replays == 0 or roll < 0.10)
            reuse = bool(log.succeeded) and (log.reuses_refused == 0 or 0.10 <= roll < 0.13)
            if replay:
                # Repeat an earlier success with the same payload: a replay, no effect.
                key = rng.choice(list(log.succeeded))
                m = log.succeeded[key]
                result = _with_db_retries(log, shared, key, lambda m=m: submit(m))
                if not isinstance(result, service.Result):
                    continue
                if not result.replayed or result.id != log.transfer_ids[key]:
                    shared.fail(
                        f"repeat of {key} gave {result}, expected a replay of transfer "
                        f"{log.transfer_ids[key]}"
                    )
                log.replays += 1
                continue
            if reuse:
                # The same key with another payload must be refused, and have no effect.
                key = rng.choice(list(log.succeeded))
                m = log.succeeded[key]
                other = Move(key, m.debit, m.credit, m.amount + 1)
                try:
                    result = _with_db_retries(log, shared, key, lambda m=other: submit(m))
                except IdempotencyKeyReused as err:
                    if err.extra.get("transfer_id") != log.transfer_ids[key]:
                        shared.fail(f"reuse of {key} named {err.extra}, not its transfer")
                    log.reuses_refused += 1
                else:
                    shared.fail(f"reuse of {key} with another amount was accepted: {result}")
                continue
            if roll < 0.16 and log.refused:
                # A refused key can be retried: the refusal left nothing, so it runs again.
                key = rng.choice(list(log.refused))
                m = log.refused[key]
            else:
                debit, credit = rng.sample(codes, 2)
                amount = rng.randint(1, FUNDING * 3 // 2)
                m = Move(f"w{wid}-{n}", debit, credit, amount)
                n += 1
            errors_before = len(log.db_errors)
            try:
                result = _with_db_retries(log, shared, m.key, lambda m=m: submit(m))
            except LimitExceeded:
                log.refused[m.key] = m
                continue
            if not isinstance(result, service.Result):
                continue
            if result.replayed and len(log.db_errors) == errors_before:  # else: commit unsure
                shared.fail(f"first successful use of {m.key} came back as a replay: {result}")
            if m.key in log.refused:
                del log.refused[m.key]
                log.refused_then_accepted += 1
            log.succeeded[m.key] = m
            log.transfer_ids[m.key] = result.id
    except Exception:
        shared.fail(f"writer {wid} crashed:\n{traceback.format_exc()}")


def _reader(engine: Engine, codes: list[str], total: int, shared: Shared) -> None:
    """Read every account in ONE statement (one snapshot) and check the bank's invariants."""
    limited = set(codes)
    q = select(
        accounts.c.code,
        accounts.c.debits_posted,
        accounts.c.credits_posted,
        accounts.c.debits_pending,
        accounts.c.credits_pending,
    )
    try:
        while not shared.stop.is_set():
            with engine.connect() as conn:
                rows = conn.execute(q).all()
                conn.rollback()
            if {r.code for r in rows} != limited | {SOURCE}:
                shared.fail(f"a read saw accounts {sorted(r.code for r in rows)}")
                return
            net = {r.code: r.credits_posted - r.debits_posted for r in rows}
            in_bank = sum(v for code, v in net.items() if code in limited)
            if in_bank != total:
                shared.fail(f"a read summed to {in_bank}, not {total}: {net}")
            if sum(net.values()) != 0:
                shared.fail(f"a read's posted balances do not sum to 0: {net}")
            broken = {c: v for c, v in net.items() if c in limited and v < 0}
            if broken:
                shared.fail(f"a read saw limits broken: {broken}")
            if any(r.debits_pending or r.credits_pending for r in rows):
                shared.fail("a read saw pending totals, but nothing here holds money")
            with shared.lock:
                shared.reads += 1
    except Exception:
        shared.fail(f"reader crashed:\n{traceback.format_exc()}")


def _auditor(engine: Engine, total: int, shared: Shared) -> None:
    """Verify the whole ledger (many statements) inside one snapshot while writers write."""
    # One snapshot for many statements; SQLite transactions here are BEGIN IMMEDIATE already.
    snapshot = engine
    if is_postgres(engine):
        snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
    factory = session_factory(snapshot)
    try:
        while not shared.stop.wait(0.2):
            with unit_of_work(factory) as session:
                report = journal.verify(session)
                totals = service.totals_by_currency(session)
            if not report.ok:
                shared.fail(f"journal.verify during the run: {report.problems[:5]}")
            if totals[CURRENCY].debits_posted != totals[CURRENCY].credits_posted:
                shared.fail(f"totals_by_currency during the run: {totals}")
            with shared.lock:
                shared.verifies += 1
    except Exception:
        shared.fail(f"auditor crashed:\n{traceback.format_exc()}")


def _sealer(factory: sessionmaker[Session], shared: Shared) -> None:
    clock = SystemClock()
    try:
        while not shared.stop.wait(0.3):
            with unit_of_work(factory) as session:
                journal.seal(session, clock)
            with shared.lock:
                shared.seals += 1
    except Exception:
        shared.fail(f"sealer crashed:\n{traceback.format_exc()}")


def run_bank(url: str, *, writers: int, n_accounts: int, readers: int, seconds: float) -> None:
    seed = random.randrange(1_000_000)
    print(f"bank test seed {seed}: {writers} writers, {n_accounts} accounts, {seconds} s")
    codes = _codes(n_accounts)
    total = FUNDING * n_accounts
    engine = make_engine(url, pool_size=writers + readers + 4, max_overflow=4)
    try:
        factory = session_factory(engine)
        _setup(factory, codes)
        shared = Shared()
        logs = [WriterLog() for _ in range(writers)]
        threads = [
            threading.Thread(
                target=_writer, args=(w, factory, codes, logs[w], shared, seed), name=f"w{w}"
            )
            for w in range(writers)
        ]
        threads += [
            threading.Thread(target=_reader, args=(engine, codes, total, shared), name=f"r{r}")
            for r in range(readers)
        ]
        threads.append(threading.Thread(target=_auditor, args=(engine, total, shared)))
        threads.append(threading.Thread(target=_sealer, args=(factory, shared)))
        for t in threads:
            t.start()
        shared.stop.wait(seconds)
        shared.stop.set()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a worker thread did not stop"
        assert not shared.failures, "\n".join(shared.failures[:10])
        db_errors = [e for log in logs for e in log.db_errors]
        assert not db_errors, (
            f"{len(db_errors)} deadlock/serialization errors although the service locks "
            f"accounts in id order: {db_errors[:5]}"
        )
        _check_final(factory, codes, logs)
        stats = dict(
            seed=seed,
            moves=sum(len(log.succeeded) for log in logs),
            refused=sum(len(log.refused) for log in logs),
            refused_then_accepted=sum(log.refused_then_accepted for log in logs),
            replays=sum(log.replays for log in logs),
            reuses_refused=sum(log.reuses_refused for log in logs),
            reads=shared.reads,
            verifies=shared.verifies,
            seals=shared.seals,
        )
        print(f"bank test: {stats}")
        # The run must actually have exercised what it claims to test.
        assert stats["moves"] > 0 and stats["refused"] > 0, stats
        assert stats["replays"] > 0 and stats["reuses_refused"] > 0, stats
        assert stats["reads"] > 0 and stats["verifies"] > 0, stats
    finally:
        engine.dispose()


def _check_final(factory: sessionmaker[Session], codes: list[str], logs: list[WriterLog]) -> None:
    succeeded = {k: m for log in logs for k, m in log.succeeded.items()}
    refused = {k for log in logs for k in log.refused}
    ids = {k: i for log in logs for k, i in log.transfer_ids.items()}
    clock = SystemClock()
    with unit_of_work(factory) as session:
        journal.seal(session, clock)
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(transfers.c.idempotency_key, transfers.c.id, transfers.c.kind)
        ).all()
        legs = session.execute(
            select(
                transfers.c.idempotency_key,
                accounts.c.code,
                entries.c.debits_posted,
                entries.c.credits_posted,
                entries.c.debits_pending,
                entries.c.credits_pending,
            )
            .join(transfers, transfers.c.id == entries.c.transfer_id)
            .join(accounts, accounts.c.id == entries.c.account_id)
        ).all()
        balances = {code: service.get_account(session, code).balance for code in codes}
        source = service.get_account(session, SOURCE).balance
        report = journal.verify(session)

    per_key = Counter(r.idempotency_key for r in rows)
    doubled = {k: n for k, n in per_key.items() if n != 1}
    assert not doubled, f"keys with more than one transfer: {doubled}"
    funding = {f"fund-{c}" for c in codes}
    lost = sorted(set(succeeded) - set(per_key))
    assert not lost, f"successful transfers lost: {lost[:10]}"
    left = sorted(refused & set(per_key))
    assert not left, f"refused transfers left rows behind: {left[:10]}"
    extra = sorted(set(per_key) - set(succeeded) - funding)
    assert not extra, f"transfers nobody recorded as successful: {extra[:10]}"
    stored_ids = {r.idempotency_key: r.id for r in rows}
    wrong_id = {k: (i, stored_ids.get(k)) for k, i in ids.items() if stored_ids.get(k) != i}
    assert not wrong_id, f"stored transfer ids differ from the returned ones: {wrong_id}"

    got_legs: dict[str, dict[str, tuple[int, int, int, int]]] = defaultdict(dict)
    for key, code, dp, cp, dq, cq in legs:
        assert code not in got_legs[key], f"{key} has two entries on {code}"
        got_legs[key][code] = (dp, cp, dq, cq)
    for key, m in succeeded.items():
        want = {m.debit: (m.amount, 0, 0, 0), m.credit: (0, m.amount, 0, 0)}
        assert got_legs[key] == want, f"{key}: entries {got_legs[key]}, expected {want}"

    expected = {code: FUNDING for code in codes}
    for m in succeeded.values():
        expected[m.debit] -= m.amount
        expected[m.credit] += m.amount
    actual = {code: b.net for code, b in balances.items()}
    assert actual == expected, f"balances {actual}, expected from the log {expected}"
    assert source.net == -FUNDING * len(codes), f"source account moved: {source}"
    assert all(b.debits_posted + b.debits_pending <= b.credits_posted for b in balances.values()), (
        balances
    )
    assert report.ok, report.problems[:10]
    assert report.unsealed == 0 and report.blocks > 0, report


@pytest.mark.postgres
@pytest.mark.slow
def test_bank_on_postgres(fresh_url: str) -> None:
    run_bank(fresh_url, writers=8, n_accounts=8, readers=2, seconds=10)


def test_bank_short(fresh_url: str) -> None:
    """The same bank test, shorter: runs on SQLite by default so laptops exercise it too."""
    run_bank(fresh_url, writers=4, n_accounts=8, readers=2, seconds=3)
