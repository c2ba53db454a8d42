"""Crash test: workers killed with SIGKILL mid-transfer, restarted, retried from the start.

Four `crash_worker.py` processes apply deterministic plans of moves with keys ``w{id}-{i}``.
The test SIGKILLs a random running worker at random moments (at least `MIN_KILLS` times) and
restarts it; a restarted worker begins again at step 0, so everything it had committed comes back
as a replay. Afterwards each key has exactly one transfer with exactly its planned legs, every
balance is what the plans say, and ``xinren ledger verify`` passes. Runs on whatever backend
`fresh_url` gives (SQLite by default, PostgreSQL with ``XINREN_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import select

from tests.ledger.crash_worker import CURRENCY, SOURCE, account_codes, funding, plan, wallet
from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.ledger import service
from xinren.ledger.tables import accounts, entries, transfers

WORKER = Path(__file__).with_name("crash_worker.py")
WORKERS = 4
STEPS = 600  # per worker; enough that kills land mid-plan, small enough to finish in seconds
MIN_KILLS = 10
MIN_NEW_WORK_KILLS = 3  # kills of a worker that was applying moves not committed before
MAX_KILLS = 40
LIFETIME = 0.5  # seconds: an incarnation is killed uniformly within this after it connects
FINISH_TIMEOUT = 180  # seconds for the last runs to finish; only a hang should ever reach it


@dataclass
class Run:
    """One incarnation of a worker process, its output captured in files."""

    worker: int
    proc: subprocess.Popen[str]
    out: Path
    err: Path
    files: list[IO[str]] = field(default_factory=list)
    kill_at: float | None = None  # monotonic time of its SIGKILL, drawn once it has connected

    def started(self) -> bool:
        return "started" in self.out.read_text()

    def doing_new_work(self) -> bool:
        return "fresh from" in self.out.read_text()

    def close(self) -> None:
        for f in self.files:
            f.close()

    def describe(self) -> str:
        return (
            f"worker {self.worker} exited {self.proc.returncode}\n"
            f"stdout: {self.out.read_text()}\nstderr: {self.err.read_text()}"
        )


def _start(url: str, worker: int, incarnation: int, tmp: Path) -> Run:
    out = tmp / f"w{worker}-{incarnation}.out"
    err = tmp / f"w{worker}-{incarnation}.err"
    fo, fe = out.open("w"), err.open("w")
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), url, str(worker), str(STEPS)],
        stdout=fo,
        stderr=fe,
        text=True,
    )
    return Run(worker, proc, out, err, [fo, fe])


def _committed(url: str, worker: int) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            keys = conn.execute(
                select(transfers.c.idempotency_key).where(
                    transfers.c.idempotency_key.startswith(f"w{worker}-")
                )
            ).all()
            conn.rollback()
        return len(keys)
    finally:
        engine.dispose()


def _setup(url: str) -> None:
    engine = make_engine(url)
    try:
        clock = SystemClock()
        with unit_of_work(session_factory(engine)) as session:
            service.create_account(session, clock, SOURCE, CURRENCY)
            for code in account_codes(WORKERS):
                service.create_account(
                    session, clock, code, CURRENCY, debits_must_not_exceed_credits=True
                )
            for w in range(WORKERS):
                service.move(session, clock, f"fund-w{w}", SOURCE, wallet(w), funding(w, STEPS))
    finally:
        engine.dispose()


def _xinren() -> list[str]:
    script = Path(sys.executable).with_name("xinren")
    if script.exists():
        return [str(script)]
    found = shutil.which("xinren")
    assert found, "the xinren console script is not installed (pip install -e .)"
    return [found]


@pytest.mark.slow
def test_sigkilled_workers_apply_each_key_exactly_once(fresh_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    print(f"crash test seed {seed} on {fresh_url.split(':')[0]}")
    _setup(fresh_url)

    incarnations: Counter[int] = Counter()
    runs: dict[int, Run] = {}
    finished: set[int] = set()
    kills: list[tuple[int, int, bool]] = []  # worker, its keys committed, killed mid new work

    def start(w: int) -> None:
        runs[w] = _start(fresh_url, w, incarnations[w], tmp_path)
        incarnations[w] += 1

    def reap(w: int) -> None:
        run = runs[w]
        run.close()
        assert run.proc.returncode == 0, run.describe()
        finished.add(w)

    def want_kills() -> bool:
        new_work = sum(new for _, _, new in kills)
        enough = len(kills) >= MIN_KILLS and new_work >= MIN_NEW_WORK_KILLS
        return not enough and len(kills) < MAX_KILLS

    try:
        t0 = time.perf_counter()
        for w in range(WORKERS):
            start(w)
        # Each incarnation lives a random time after it has connected, then gets SIGKILL.
        while want_kills() and len(finished) < WORKERS:
            time.sleep(0.01)
            for w, run in runs.items():
                if w in finished or not want_kills():
                    continue
                if run.proc.poll() is not None:
                    reap(w)
                    continue
                if run.kill_at is None:
                    if run.started():
                        run.kill_at = time.monotonic() + rng.uniform(0.0, LIFETIME)
                    continue
                if time.monotonic() < run.kill_at:
                    continue
                during_new_work = run.doing_new_work()
                run.proc.send_signal(signal.SIGKILL)
                code = run.proc.wait()
                run.close()
                if code == 0:  # it finished just before the signal landed
                    finished.add(w)
                    continue
                assert code == -signal.SIGKILL, run.describe()
                kills.append((w, _committed(fresh_url, w), during_new_work))
                start(w)
        assert len(kills) >= MIN_KILLS, (
            f"only {len(kills)} kills before every worker finished: raise STEPS"
        )
        t_kill = time.perf_counter()
        for w, run in runs.items():
            if w in finished:
                continue
            try:
                run.proc.wait(timeout=FINISH_TIMEOUT)
            except subprocess.TimeoutExpired:
                run.proc.kill()
                run.proc.wait()
                raise AssertionError(f"worker {w} hung:\n{run.describe()}") from None
            reap(w)
    finally:
        for run in runs.values():
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()
            run.close()
    print(f"kill phase {t_kill - t0:.1f} s, finishing {time.perf_counter() - t_kill:.1f} s")
    print(f"kills (worker, keys committed after the kill, during new work): {kills}")
    print("last runs: " + "; ".join(runs[w].out.read_text().strip() for w in sorted(runs)))
    new_work = sum(new for _, _, new in kills)
    assert new_work >= MIN_NEW_WORK_KILLS, f"only {new_work} kills hit new work: {kills}"

    _check_ledger(fresh_url)

    result = subprocess.run(
        [*_xinren(), "ledger", "verify"],
        env={**os.environ, "XINREN_DATABASE_URL": fresh_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"xinren ledger verify:\n{result.stdout}\n{result.stderr}"
    assert "ledger verified" in result.stdout, result.stdout


def _check_ledger(url: str) -> None:
    steps = [step for w in range(WORKERS) for step in plan(w, STEPS)]
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            per_key = Counter(session.execute(select(transfers.c.idempotency_key)).scalars())
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
            codes = [SOURCE, *account_codes(WORKERS)]
            nets = {code: service.get_account(session, code).balance.net for code in codes}
    finally:
        engine.dispose()

    wanted_keys = {s.key for s in steps} | {f"fund-w{w}" for w in range(WORKERS)}
    not_once = {k: per_key[k] for k in wanted_keys if per_key[k] != 1}
    assert not not_once, f"keys without exactly one transfer: {dict(list(not_once.items())[:10])}"
    extra = sorted(set(per_key) - wanted_keys)
    assert not extra, f"unexpected transfers: {extra[:10]}"

    got: dict[str, dict[str, tuple[int, int, int, int]]] = defaultdict(dict)
    for key, code, dp, cp, dq, cq in legs:
        assert code not in got[key], f"{key} has two entries on {code}"
        got[key][code] = (dp, cp, dq, cq)
    for s in steps:
        want = {s.debit: (s.amount, 0, 0, 0), s.credit: (0, s.amount, 0, 0)}
        assert got[s.key] == want, f"{s.key}: entries {got[s.key]}, planned {want}"

    expected: dict[str, int] = defaultdict(int)
    for w in range(WORKERS):
        expected[SOURCE] -= funding(w, STEPS)
        expected[wallet(w)] += funding(w, STEPS)
    for s in steps:
        expected[s.debit] -= s.amount
        expected[s.credit] += s.amount
    assert nets == {code: expected[code] for code in nets}, "balances differ from the plans"
    assert all(v >= 0 for code, v in nets.items() if code != SOURCE), nets
