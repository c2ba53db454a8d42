"""A complaint from a buyer whose identifiers tie them to abusive accounts weighs less: it is
held for a reviewer with a decision date, and the weight is for staff only, never shown to the
merchant (holes a review of detection found, each pinned here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.cases.test_stories import completed_order
from tests.detect.test_abuse_and_appeals import unfounded
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.detect import buyers
from xinren.parties import deposits
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _held_case(session, clock):
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 500_000, "CNY")
    order = completed_order(session, clock, "merchant:tea", "ab", 12_800, "tea")
    for n in range(4):
        unfounded(session, clock, f"buyer:ring{n}", 3, f"r{n}-", "merchant:tea")
        buyers.add_identifier(session, clock, f"buyer:ring{n}", "address", "Room 1, 8 Lane")
    buyers.add_identifier(session, clock, order.buyer, "address", "room 1, 8 lane")
    filed = cases.file_case(
        session,
        clock,
        "c-held",
        order_id=order.id,
        buyer=order.buyer,
        kind="counterfeit",
        statement="fake tea",
    )
    assert cases.get_case(session, filed["id"], staff=True)["buyer_weight"] < 0.5
    return order, filed


def test_a_case_held_for_review_keeps_a_deadline(session, clock):
    """The held case goes to mediation with no timer, no reviewer and no decision date: nothing
    brings it back (cases.yaml's decision_days is never used)."""
    _, filed = _held_case(session, clock)
    clock.advance(timedelta(hours=49))
    for t in [t for t in timers.pending(session) if t.kind == cases.MERCHANT_DEADLINE]:
        cases._merchant_deadline(session, clock, t)
        timers.cancel(session, t.kind, t.subject)
    held = cases.get_case(session, filed["id"])
    assert held["state"] == "in_mediation" and held["outcome"] is None
    waiting = [t for t in timers.pending(session) if t.subject == str(filed["id"])]
    assert waiting, "a held case has no timer: it waits for a reviewer for ever"


def test_the_merchant_does_not_see_the_buyers_abuse_weight(factory, clock):
    """GET /v1/cases/{id} returns every column, buyer_weight included: the merchant learns that
    the buyer is rated abusive (from identifiers shared with other accounts)."""
    with factory() as s:
        _, filed = _held_case(s, clock)
        merchant = access.create_key(s, clock, "merchant", subject="merchant:tea")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {merchant}"}
    one = client.get(f"/v1/cases/{filed['id']}", headers=auth)
    assert one.status_code == 200
    assert "buyer_weight" not in one.json()
    assert all("buyer_weight" not in c for c in client.get("/v1/cases", headers=auth).json())
