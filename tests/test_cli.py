"""The command line as a user runs it: real processes, a real database, real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

XINREN = [sys.executable, "-m", "xinren.cli.main"]


def run(args: list[str], url: str, cwd: Path, **kw) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINREN_DATABASE_URL": url, "COLUMNS": "120"}
    return subprocess.run(
        [*XINREN, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, **kw
    )


@pytest.mark.slow
def test_demo_on_the_default_sqlite_file(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XINREN_DATABASE_URL"}
    env["COLUMNS"] = "120"
    out = subprocess.run(
        [*XINREN, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "xinren.db").exists()
    assert "¥141.55" in out.stdout and "¥7.45" in out.stdout
    assert "Ledger verified" in out.stdout
    for line in ("completed", "refunded", "¥599.00", "¥200.00"):
        assert line in out.stdout
    # the accountability cases: the chain, the liability with reasons, the recall's reach
    for line in (
        "rule misrepresentation-by-host",
        "the product facts say '4G'",
        "rule counterfeit-at-source",
        "prevails over the report of lab:xinxuan-lab",
        "reached 8 buyers on 8 orders",
        "compensation ¥9,288.00",
        "48 serious points -> clearance",
        "restrictions now: clearance;",
        "does not permit penalty_payment",
        "¥10,000.00 -> ¥10,000.00",
        "report 6: not processed (reporter suspended)",
        "compensation ¥500.00 (3x ¥128 is ¥384",
        "guarantee fund paid ¥1,196.00 at once",
        "4 buyers refunded in full plus 3x",
        "still owed to the fund ¥196.00",
        "after discounting 722 reviews",
        "listing -> block",
    ):
        assert line in out.stdout, line
    assert (tmp_path / "xinren-documents").is_dir()
    again = subprocess.run(
        [*XINREN, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "order 1002" in again.stdout


@pytest.mark.slow
def test_demo_then_verify_then_tamper(fresh_url, tmp_path):
    assert run(["demo"], fresh_url, tmp_path).returncode == 0
    ok = run(["ledger", "verify"], fresh_url, tmp_path)
    assert ok.returncode == 0 and "ledger verified" in ok.stdout
    from sqlalchemy import update

    from xinren.db import make_engine
    from xinren.ledger.tables import accounts

    engine = make_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.code == "platform:commission")
            .values(credits_posted=accounts.c.credits_posted + 1)
        )
    engine.dispose()
    bad = run(["ledger", "verify"], fresh_url, tmp_path)
    assert bad.returncode == 1
    assert "platform:commission" in bad.stderr


def test_bad_database_url_says_what_to_do(tmp_path):
    out = run(["ledger", "verify"], "postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    assert out.returncode == 2
    assert "XINREN_DATABASE_URL" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_db_upgrade_and_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    up = run(["db", "upgrade"], url, tmp_path)
    assert up.returncode == 0 and "database at" in up.stdout
    key = run(["keys", "create", "--role", "admin"], url, tmp_path)
    assert key.returncode == 0 and key.stdout.strip().startswith("xr_")
    merchant = run(["keys", "create", "--role", "merchant", "--party", "42"], url, tmp_path)
    assert merchant.returncode == 0 and "merchant" in merchant.stderr
    from xinren.access import service as access
    from xinren.db import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as s:
        principal = access.authenticate(s, merchant.stdout.strip())
    engine.dispose()
    assert (principal.role, principal.subject) == ("merchant", "merchant:42")
    bad = run(["keys", "create", "--role", "emperor"], url, tmp_path)
    assert bad.returncode == 2 and "role must be one of" in bad.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_over_real_http(fresh_url, tmp_path):
    key = run(["keys", "create", "--role", "platform"], fresh_url, tmp_path).stdout.strip()
    port = free_port()
    env = {**os.environ, "XINREN_DATABASE_URL": fresh_url}
    server = subprocess.Popen(
        [*XINREN, "serve", "--port", str(port), "--tick-seconds", "0.2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("server did not start")
        h = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=h, timeout=10) as c:
            assert (
                c.post("/v1/ledger/accounts", json={"code": "psp", "currency": "CNY"}).status_code
                == 201
            )
            assert (
                c.post(
                    "/v1/ledger/accounts",
                    json={
                        "code": "shop",
                        "currency": "CNY",
                        "debits_must_not_exceed_credits": True,
                    },
                ).status_code
                == 201
            )
            body = {
                "legs": [
                    {"account": "psp", "side": "debit", "amount": 100},
                    {"account": "shop", "side": "credit", "amount": 100},
                ]
            }
            r = c.post("/v1/ledger/transfers", json=body, headers={"Idempotency-Key": "t1"})
            assert r.status_code == 201
            r = c.post(
                "/v1/ledger/transfers",
                json={**body, "legs": body["legs"][:1]},
                headers={"Idempotency-Key": "t2"},
            )
            assert r.status_code == 422
            assert r.headers["content-type"] == "application/problem+json"
            # the server's timer loop seals the journal in the background
            for _ in range(100):
                if c.get("/v1/ledger/verify").json()["unsealed"] == 0:
                    break
                time.sleep(0.1)
            report = c.get("/v1/ledger/verify").json()
            assert report["ok"] and report["unsealed"] == 0 and report["blocks"] >= 1
    finally:
        server.terminate()
        server.wait(timeout=10)
