"""Deciding a complaint: one per order, the reviewer's and the merchant's turn, what a default
decision finds, and the checks on a reviewer's own award."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.complaints import decide, file, tea_order
from tests.cases.test_stories import balanced
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.errors import Conflict, ValidationFailed
from xinren.events import service as events
from xinren.orders import service as orders
from xinren.remedies import service as remedies


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def tea(session, clock):
    return tea_order(session, clock)


def test_one_complaint_per_order_and_no_double_payment(session, clock, tea):
    case = file(session, clock, tea)
    decide(session, clock, case["id"], tea.id)
    with pytest.raises(Conflict, match="one complaint per order"):
        cases.file_case(
            session,
            clock,
            "c2",
            order_id=tea.id,
            buyer=tea.buyer,
            kind="counterfeit",
            statement="again",
        )
    assert remedies.still_owed(session, orders.get_order(session, tea.id)) == 0
    # a later recall-style payment on the same order pays only what is still due
    again = remedies.pay_buyer(
        session,
        clock,
        "sys:later",
        order_id=tea.id,
        refund=0,
        compensation_due=50_000,
        payer="merchant:tea",
        basis="recall",
        origin="recall_task:x",
    )
    assert again.compensation == 0 and again.payments == ()
    balanced(session)


def test_reviewers_cannot_take_over_and_must_wait_for_the_merchant(session, clock, tea):
    case = cases.file_case(
        session, clock, "c", order_id=tea.id, buyer=tea.buyer, kind="counterfeit", statement="fake"
    )
    cases.assign(session, clock, case["id"], reviewer="reviewer:li")
    with pytest.raises(Conflict, match="assigned to reviewer:li"):
        cases.assign(session, clock, case["id"], reviewer="reviewer:wang")
    clock.advance(hours=49)
    with pytest.raises(Conflict, match="deadline to answer passed"):
        cases.respond(session, clock, case["id"], merchant="merchant:tea", statement="late")


def test_default_decision_makes_no_finding(session, clock, tea):
    case = cases.file_case(
        session, clock, "c", order_id=tea.id, buyer=tea.buyer, kind="counterfeit", statement="fake"
    )
    clock.advance(hours=49)
    cases._merchant_deadline(session, clock, type("T", (), {"subject": str(case["id"])})())
    decided = cases.get_case(session, case["id"])
    assert decided["rule"] == "CASE-DEFAULT-1" and decided["compensation"] == 0
    assert decided["proposed_rule"] is None
    assert not [e for e in events.read(session, limit=1000) if e.topic == "violation.proposed"]


def test_compensation_overrides_are_checked_and_recorded(session, clock, tea):
    case = file(session, clock, tea)
    with pytest.raises(ValidationFailed, match="at least the statutory 50000"):
        decide(session, clock, case["id"], tea.id, compensation=1)
    with pytest.raises(ValidationFailed, match="between 0 and"):
        decide(session, clock, case["id"], tea.id, outcome="partly_for_buyer", compensation=10**12)
    with pytest.raises(ValidationFailed, match="not evidence in case"):
        decide(
            session,
            clock,
            case["id"],
            tea.id,
            relied_on=[f"event:{events.read(session, limit=1)[0].id}"],
        )
    done = decide(session, clock, case["id"], tea.id, compensation=80_000)
    assert done["rule"] == "reviewer-award" and done["compensation"] == 80_000
