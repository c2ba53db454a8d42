"""`xinren report` writes the HTML, the JSON and the statements of reasons in batches of at most
100, each valid against the DSA Transparency Database's schema; `xinren demo` ends with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import samples
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.report import figures
from xinren.report.model import Period, flatten
from xinren.rules import service as rules
from xinren.rules import statement
from xinren.rules.model import Requested, SanctionKind

from . import history, pagecheck

YEAR = ["--from", "2026-01-01", "--to", "2026-12-31"]


def build(url, tmp_path, fill):
    engine = make_engine(url)
    clock = FakeClock(history.START)
    try:
        with unit_of_work(session_factory(engine)) as session:
            out = fill(session, clock, FileStore(tmp_path / "documents"))
        with unit_of_work(session_factory(engine)) as session:
            year = Period.parse("2026-01-01", "2026-12-31")
            report = figures.report(session, clock, year)
            ids = list(figures.statement_ids(session, year))
    finally:
        engine.dispose()
    return out, report, ids


def without_time(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "generated_at"}


def test_report_writes_html_json_and_statements(cli, fresh_url, tmp_path):
    _, report, ids = build(fresh_url, tmp_path, history.build)
    out = tmp_path / "out"
    result = cli("report", *YEAR, "--out", str(out))
    assert "Trust report for 2026-01-01 to 2026-12-31" in result.stdout
    assert "8 statement(s) of reasons in 1 batch(es)" in result.stdout
    data = json.loads((out / "report.json").read_text("utf-8"))
    assert without_time(data) == without_time(json.loads(json.dumps(report.as_dict())))
    page = (out / "report.html").read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "@media print" in page
    # both languages, each figure as in the JSON
    for lang in ("zh", "en"):
        part = page.split(f'<div class="lang" lang="{"zh-CN" if lang == "zh" else "en"}">')[1]
        part = part.split('<div class="lang"')[0]
        shown = pagecheck.check(pagecheck.figures_in(part), data, lang)
        assert "enforcement.merchants_cleared" in shown
    [batch_file] = sorted((out / "statements").iterdir())
    assert batch_file.name == "batch-0001.json"
    batch = json.loads(batch_file.read_text("utf-8"))
    assert len(batch["statements"]) == 8
    statement.batches(batch["statements"])  # the batch schema
    for s in batch["statements"]:
        statement.validate(s)  # the statement schema
    assert [s["puid"] for s in batch["statements"]] == [f"xinren-violation-{i}" for i in ids]
    assert flatten(data)["enforcement.statements_of_reasons"] == 8


def many_warnings(session, clock, store, n=101):
    """101 late-shipment warnings for one shop: 101 statements of reasons, cheaply."""
    shop = "merchant:r-late"
    samples.verified(session, clock, shop)
    deposits.pay_deposit(session, clock, "r-late-deposit", shop, 100_000, "CNY")
    order = orders.create_order(
        session,
        clock,
        "r-late-order",
        buyer="buyer:r-late",
        merchant=shop,
        total=1_000,
        currency="CNY",
        category="default",
    )
    for i in range(n):
        rules.decide(
            session,
            clock,
            f"r-late-{i}",
            subject=shop,
            rule_id="LF-1",
            conduct_at=clock.now() - timedelta(hours=1),
            facts=f"shipped late ({i + 1})",
            evidence=[f"order:{order.id}"],
            source="own_initiative",
            decided_by="reviewer:wang",
            requested=[Requested(SanctionKind.WARNING)],
        )
        clock.advance(minutes=1)
    return shop


def test_statements_come_in_batches_of_at_most_100(cli, fresh_url, tmp_path):
    build(fresh_url, tmp_path, many_warnings)
    out = tmp_path / "out"
    result = cli("report", *YEAR, "--out", str(out), "--lang", "en")
    assert "101 statement(s) of reasons in 2 batch(es)" in result.stdout
    files = sorted((out / "statements").iterdir())
    assert [f.name for f in files] == ["batch-0001.json", "batch-0002.json"]
    batches = [json.loads(f.read_text("utf-8")) for f in files]
    assert [len(b["statements"]) for b in batches] == [100, 1]
    puids = [s["puid"] for b in batches for s in b["statements"]]
    assert len(set(puids)) == 101
    assert batches[0]["statements"][0]["decision_visibility"] == ["DECISION_VISIBILITY_OTHER"]
    for b in batches:
        statement.batches(b["statements"])
        for s in b["statements"]:
            statement.validate(s)
    assert '<html lang="en" data-lang="en">' in (out / "report.html").read_text("utf-8")
    # a shorter period into the same folder leaves no batch of the longer one behind
    cli("report", "--from", "2025-01-01", "--to", "2025-12-31", "--out", str(out))
    assert list((out / "statements").iterdir()) == []
    assert json.loads((out / "report.json").read_text("utf-8"))["violations"]["decided"] == 0


def test_bad_input_says_what_to_do(cli, tmp_path):
    bad = cli("report", "--from", "2026-12-31", "--to", "2026-01-01", code=2)
    assert "error (to):" in bad.stderr and "before from" in bad.stderr
    bad = cli("report", "--from", "2026/01/01", "--to", "2026-12-31", code=2)
    assert "error (from):" in bad.stderr and "YYYY-MM-DD" in bad.stderr
    bad = cli("report", *YEAR, "--lang", "fr", code=2)
    assert "error (lang):" in bad.stderr
    bad = cli("report", *YEAR, "--tz", "Mars/Olympus", code=2)
    assert "error (tz):" in bad.stderr and "Asia/Shanghai" in bad.stderr
    a_file = tmp_path / "file"
    a_file.write_text("x")
    bad = cli("report", *YEAR, "--out", str(a_file), code=2)
    assert "error (out):" in bad.stderr and "folder" in bad.stderr


@pytest.mark.slow
def test_the_demo_ends_with_its_report(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "XINREN_DATABASE_URL"}
    env["COLUMNS"] = "200"
    out = subprocess.run(
        [sys.executable, "-m", "xinren.cli.main", "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "xinren-report"
    assert f"written to {folder}" in out.stdout
    data = json.loads((folder / "report.json").read_text("utf-8"))
    assert data["enforcement"]["merchants_cleared"] >= 1
    assert data["gate"]["listings_intercepted"] >= 1
    assert data["reviews"]["excluded"] >= 722
    assert data["compensation"]["paid"]["CNY"]["guarantee_fund"]["refund"] > 0
    assert (folder / "report.html").exists() and (
        folder / "statements" / "batch-0001.json"
    ).exists()
