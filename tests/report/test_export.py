"""`xinren report`'s export: its figures and its DSA statements of reasons come from one
snapshot, and the statements name no person who may have reported (holes a review of the report
found, each pinned here)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.orders.tables import orders as order_rows
from xinren.report import export
from xinren.report.model import Period
from xinren.rules import notices
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind

from . import history
from .test_cli import many_warnings

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.postgres
def test_the_exported_json_counts_the_statements_the_export_writes(fresh_url, tmp_path):
    """`xinren report` promises one read-only transaction, but on PostgreSQL (READ COMMITTED)
    each query sees a new snapshot: a decision committed while the export runs is in
    report.json's statements_of_reasons but not in statements/."""
    engine = make_engine(fresh_url)
    clock = FakeClock(history.START)
    try:
        with unit_of_work(session_factory(engine)) as s:
            many_warnings(s, clock, FileStore(tmp_path / "d"), n=1)

        class DecisionMeanwhile:
            def plan(self, steps: int) -> None:  # after the statements were listed
                with unit_of_work(session_factory(engine)) as other:
                    order = other.execute(select(order_rows.c.id)).scalar_one()
                    rules.decide(
                        other,
                        clock,
                        "r-late-meanwhile",
                        subject="merchant:r-late",
                        rule_id="LF-1",
                        conduct_at=clock.now() - timedelta(hours=1),
                        facts="shipped late again",
                        evidence=[f"order:{order}"],
                        source="own_initiative",
                        decided_by="reviewer:wang",
                        requested=[Requested(SanctionKind.WARNING)],
                    )

            def step(self, what: str) -> None:
                pass

        with unit_of_work(session_factory(engine)) as s:
            written = export.write(s, clock, YEAR, tmp_path / "out", progress=DecisionMeanwhile())
    finally:
        engine.dispose()
    data = json.loads(written.json.read_text("utf-8"))
    in_batches = sum(len(json.loads(b.read_text("utf-8"))["statements"]) for b in written.batches)
    assert data["enforcement"]["statements_of_reasons"] == in_batches
    assert data["violations"]["decided"] == in_batches


def test_statements_of_reasons_carry_no_buyer_identity(session, tmp_path):
    """A decision on a buyer's notice names the buyer as source_identity; the exported DSA
    statement publishes that buyer's account (personal data, DSA Art. 24(5))."""
    clock = FakeClock(history.START)
    case = stories.phone_case(session, clock, FileStore(tmp_path / "d"), "pd")
    shop = case.refs["shop"]
    notices.file_notice(
        session,
        clock,
        "pd-notice",
        reporter="buyer:wang-xiaoming",
        target=shop,
        category="after_sales_refusal",
        text="the shop refused my return",
    )
    rules.decide(
        session,
        clock,
        "pd-decision",
        subject=shop,
        rule_id="AS-1",
        conduct_at=clock.now() - timedelta(hours=1),
        facts="refused a return within the statutory seven days",
        evidence=[f"order:{case.order_id}"],
        source="notice",
        source_identity="buyer:wang-xiaoming",
        decided_by="reviewer:wang",
        points_given=2,
        requested=[Requested(SanctionKind.WARNING)],
    )
    written = export.write(session, clock, YEAR, tmp_path / "out")
    text = "".join(b.read_text("utf-8") for b in written.batches)
    assert "buyer:" not in text
