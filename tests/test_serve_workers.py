"""`xinren serve --workers 2` over real HTTP: both workers answer, due timers run once (the loop
runs in the parent only), and stopping the parent stops every worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from xinren.db import make_engine
from xinren.ledger.tables import transfers
from xinren.timers.tables import timers

XINREN = [sys.executable, "-m", "xinren.cli.main"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def alive(pid: int) -> bool:
    """Running (a zombie, waiting to be reaped, has stopped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        assert server.poll() is None, log.read_text()[-2000:]
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("server did not start")


def worker_pids(base: str, tries: int = 400) -> set[int]:
    """The pids answering /healthz, each request on a new connection, 16 at a time."""
    seen: set[int] = set()
    with ThreadPoolExecutor(16) as pool:
        for _ in range(tries // 16):
            for r in pool.map(lambda _: httpx.get(f"{base}/healthz", timeout=10), range(16)):
                seen.add(r.json()["pid"])
            if len(seen) >= 2:
                break
    return seen


@pytest.mark.slow
def test_two_workers_answer_timers_run_once_and_stop_together(fresh_url, tmp_path):
    env = {**os.environ, "XINREN_DATABASE_URL": fresh_url, "COLUMNS": "120"}
    key = subprocess.run(
        [*XINREN, "keys", "create", "--role", "platform"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    log = tmp_path / "serve.log"  # a file, not a pipe nobody reads (its buffer would fill)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*XINREN, "serve", "--port", str(port), "--workers", "2", "--tick-seconds", "0.2"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    pids: set[int] = set()
    try:
        wait_healthy(base, server, log)
        pids = worker_pids(base)
        assert len(pids) == 2 and server.pid not in pids  # two workers, neither the parent
        h = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=h, timeout=30) as c:
            for code in ("psp", "shop"):
                r = c.post("/v1/ledger/accounts", json={"code": code, "currency": "CNY"})
                assert r.status_code == 201, r.text
            hold = c.post(
                "/v1/ledger/holds",
                json={
                    "debit": "psp",
                    "credit": "shop",
                    "amount": 5,
                    "expires_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
                    "expiry_action": "void",
                },
                headers={"Idempotency-Key": "hold-1"},
            )
            assert hold.status_code == 201, hold.text
            hold_id = hold.json()["hold_id"]

        def transfer(i: int) -> tuple[int, int]:
            body = {
                "legs": [
                    {"account": "psp", "side": "debit", "amount": 1},
                    {"account": "shop", "side": "credit", "amount": 1},
                ]
            }
            # a new connection per request spreads them over both workers; the same key twice
            # is one transfer whichever worker answers
            r = httpx.post(
                f"{base}/v1/ledger/transfers",
                json=body,
                headers={**h, "Idempotency-Key": f"t{i % 20}"},
                timeout=30,
            )
            assert "id" in r.json(), r.text
            return r.status_code, r.json()["id"]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(transfer, range(40)))
        assert {status for status, _ in results} <= {200, 201}
        assert len({tid for _, tid in results}) == 20
        with httpx.Client(base_url=base, headers=h, timeout=30) as c:
            for _ in range(100):
                if c.get(f"/v1/ledger/holds/{hold_id}").json()["status"] == "voided":
                    break
                time.sleep(0.1)
            assert c.get(f"/v1/ledger/holds/{hold_id}").json()["status"] == "voided"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    for pid in pids:
        for _ in range(100):
            if not alive(pid):
                break
            time.sleep(0.1)
        assert not alive(pid), f"worker {pid} outlived the server"
    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        expiry = conn.execute(select(timers).where(timers.c.subject == str(hold_id))).one()
        voids = conn.execute(
            select(func.count()).where(transfers.c.hold_id == hold_id, transfers.c.kind == "void")
        ).scalar_one()
        moved = conn.execute(
            select(func.count()).where(transfers.c.kind == "transfer")
        ).scalar_one()
    engine.dispose()
    assert (expiry.status, expiry.attempts, voids) == ("done", 0, 1)  # the timer ran once
    assert moved == 20


@pytest.mark.slow
def test_http_workers_bench_smoke(capsys):
    from bench.http_workers_bench import main

    args = ["--backend", "sqlite", "--workers", "1", "--clients", "2", "--transfers", "4"]
    assert main([*args, "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "transfers/s over HTTP" in out and "failures" not in out


def test_each_worker_builds_its_pool_from_the_environment(monkeypatch, tmp_path):
    from xinren.api import threads
    from xinren.api.app import create_app_from_env
    from xinren.cli import serve

    assert [serve.pool_per_worker(n) for n in (1, 2, 4, 16)] == [16, 8, 4, 2]
    for name in (serve.POOL_SIZE_ENV, serve.MAX_OVERFLOW_ENV, serve.THREADS_ENV):
        monkeypatch.setenv(name, "")  # recorded, so the values size_pools sets are undone after
        monkeypatch.delenv(name)
    serve.size_pools(2)
    assert os.environ[serve.POOL_SIZE_ENV] == os.environ[serve.MAX_OVERFLOW_ENV] == "8"
    assert os.environ[serve.THREADS_ENV] == "16"  # a route thread per connection
    monkeypatch.setenv(serve.POOL_SIZE_ENV, "3")
    monkeypatch.setenv(serve.THREADS_ENV, "")
    monkeypatch.delenv(serve.THREADS_ENV)
    serve.size_pools(2)  # an operator's own setting wins
    assert os.environ[serve.POOL_SIZE_ENV] == "3"
    assert os.environ[serve.THREADS_ENV] == "11"
    monkeypatch.setenv("XINREN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    try:
        engine = create_app_from_env().state.session_factory.kw["bind"]
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 8)
        assert threads._size[0] == 11
        engine.dispose()
    finally:
        threads.configure(threads.DEFAULT_THREADS)
