"""Holes a review found in the trust report, each pinned by a test."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.detect.grey import fake_p50, grey_seller
from xinren.api.app import create_app
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.orders.tables import orders as order_rows
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.report import export, figures
from xinren.report.model import Period
from xinren.rules import notices
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind

from . import history
from .test_cli import many_warnings

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
NEXT = Period(date(2027, 1, 1), date(2027, 12, 31))


def test_a_buyer_paid_nothing_is_not_counted_as_paid(session, tmp_path):
    """A bird's-nest buyer is refunded and compensated by a complaint in 2026; the batch is
    recalled in 2027 and the recall's remedy for that order pays nothing (all already paid).
    2027's report still counts the buyer as 'refunded or compensated' while paying 0."""
    clock = FakeClock(history.START)
    nest = stories.birds_nest_case(session, clock, FileStore(tmp_path / "d"), "zp", buyers=1)
    order = orders.get_order(session, nest.order_id)
    case = cases.file_case(
        session,
        clock,
        "zp-case",
        order_id=order.id,
        buyer=order.buyer,
        kind="counterfeit",
        statement="sugar water, not bird's nest",
    )
    cases.respond(session, clock, case["id"], merchant=nest.refs["shop"], statement="genuine")
    clock.advance(hours=5)
    cases.decide(
        session,
        clock,
        "zp-case-d",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="counterfeit",
        reasons="the independent lab found no bird's nest",
        relied_on=[f"order:{order.id}"],
    )
    clock.set(history.NEXT_YEAR + timedelta(days=30))
    recall = recalls.recall_batch(
        session,
        clock,
        "zp-recall",
        batch_id=nest.batch_id,
        finding="counterfeit",
        reason="no bird's nest in the batch",
        evidence=[nest.docs["independent_report"]],
        decided_by="reviewer:li",
    )
    [remedy] = remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
    assert remedy.payments == ()  # nothing left to pay this buyer

    got = figures.report(session, clock, NEXT).compensation
    assert all(p.refund == 0 and p.compensation == 0 for p in got.paid)
    assert got.buyers_paid == 0


def test_a_retried_blocked_listing_is_one_listing_intercepted(factory, tmp_path):
    """The merchant's client retries one blocked POST with the same Idempotency-Key: one
    listing, yet the report counts three listings intercepted (and two of them 'close to a
    listing intercepted before', i.e. to itself)."""
    clock = FakeClock(history.START)
    case, key, product = grey_seller(factory, clock, tmp_path / "d", "rt")
    client = TestClient(create_app(clock=clock, sessions=factory))
    for _ in range(3):
        r = client.post(
            "/v1/catalog/listings",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same-listing"},
            json=fake_p50(product, case.batch_id),
        )
        assert r.status_code == 409
    gate = client.get("/v1/transparency", params={"from": "2026-01-01", "to": "2026-12-31"})
    gate = gate.json()["gate"]
    assert gate["listings_intercepted"] == 1
    assert gate["by_reason"]["similar_text"] == 0


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


@pytest.mark.parametrize("path", ["/transparency", "/v1/transparency"])
def test_the_public_report_refuses_an_unbounded_period(session, factory, path):
    """Anyone may ask for 0001-01-01 to 9999-12-30: every decided complaint, appeal and blocked
    listing is then loaded into Python on each anonymous, uncached request."""
    clock = FakeClock(history.START)
    client = TestClient(create_app(clock=clock, sessions=factory))
    r = client.get(path, params={"from": "0001-01-01", "to": "9999-12-30"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] in ("from", "to")
