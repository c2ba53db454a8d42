"""What the trust report's figures count: a buyer paid nothing is not counted as paid, and a
blocked draft retried under one key is one listing intercepted (holes a review of the report
found, each pinned here)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from tests.detect.grey import fake_p50, grey_seller
from xinren.api.app import create_app
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.report import figures
from xinren.report.model import Period

from . import history

NEXT = Period(date(2027, 1, 1), date(2027, 12, 31))  # the year after the history


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
