"""Holes a review found on the buyer's side, each pinned by a test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.test_stories import balanced, completed_order
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore
from xinren.errors import Conflict, ValidationFailed
from xinren.events import service as events
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.recalls import model as recall_model
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def decide(session, clock, case_id, order_id, key="d", **kw):
    args = (
        dict(
            decided_by="reviewer:li",
            outcome="for_buyer",
            finding="counterfeit",
            reasons="lab comparison",
            relied_on=[f"order:{order_id}"],
        )
        | kw
    )
    return cases.decide(session, clock, key, case_id, **args)


@pytest.fixture
def tea(session, clock):
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 500_000, "CNY")
    return completed_order(session, clock, "merchant:tea", "t1", 12_800, "tea")


def file(session, clock, order, key="c", kind="counterfeit"):
    case = cases.file_case(
        session, clock, key, order_id=order.id, buyer=order.buyer, kind=kind, statement="fake tea"
    )
    cases.respond(session, clock, case["id"], merchant=order.merchant, statement="genuine")
    return case


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


def test_case_then_recall_on_the_same_order_pays_once(session, clock, tmp_path):
    nest = stories.birds_nest_case(session, clock, FileStore(tmp_path / "d"), "dup", buyers=1)
    order = orders.get_order(session, nest.order_id)
    case = file(session, clock, order)
    decide(session, clock, case["id"], order.id)
    recall = recalls.recall_batch(
        session,
        clock,
        "rc",
        batch_id=nest.batch_id,
        finding="counterfeit",
        reason="sugar water",
        evidence=[nest.docs["independent_report"]],
        decided_by="reviewer:li",
    )
    [remedy] = remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
    assert remedy.refund == 0 and remedy.compensation == 0
    assert remedies.paid_on_order(session, order.id, "compensation") == max(
        3 * order.state.total, 50_000
    )
    balanced(session)


def test_recall_and_complaint_policies_agree():
    rules = recalls._rules()[1]
    for finding, category in [
        ("counterfeit", "food"),
        ("counterfeit", "tea"),
        ("safety_hazard", "food"),
    ]:
        for total in (1_000, 25_800, 500_000):
            by_recall = recall_model.remedy(
                rules, Finding(finding), category, total, total
            ).compensation
            assert by_recall == remedies.compensation(finding, category, total).amount, (
                finding,
                category,
            )


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


def test_appeal_variation_paid_by_the_fund_is_recovered(session, clock):
    samples.verified(session, clock, "merchant:gone")
    deposits.pay_deposit(session, clock, "dep", "merchant:gone", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 10_000_000, "CNY")
    order = completed_order(session, clock, "merchant:gone", "g1", 10_000, "digital")
    parties.decide(
        session,
        clock,
        "x",
        "merchant:gone",
        Status.REJECTED,
        reason="vanished",
        decided_by="reviewer:li",
    )
    case = cases.file_case(
        session,
        clock,
        "c",
        order_id=order.id,
        buyer=order.buyer,
        kind="scam",
        statement="never delivered",
    )
    clock.advance(hours=49)
    decide(session, clock, case["id"], order.id, finding="scam")
    cases.appeal(session, clock, case["id"], by=order.buyer, grounds="more losses")
    with pytest.raises(ValidationFailed, match="between 1 and"):
        cases.decide_appeal(
            session,
            clock,
            case["id"],
            reviewer="reviewer:wang",
            outcome="varied",
            reasons="r",
            extra_compensation=10**9,
        )
    cases.decide_appeal(
        session,
        clock,
        case["id"],
        reviewer="reviewer:wang",
        outcome="varied",
        reasons="proven losses",
        extra_compensation=20_000,
    )
    position = remedies.fund_position(session)
    assert position["claimed"] == position["paid_first"]  # every fund payment has its claim
    balanced(session)


def test_the_fund_keeps_one_account_per_currency(session, clock):
    samples.verified(session, clock, "merchant:usd")
    deposits.pay_deposit(session, clock, "dep", "merchant:usd", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 1_000_000, "CNY")
    o = orders.create_order(
        session,
        clock,
        "u",
        buyer="buyer:u",
        merchant="merchant:usd",
        total=5_000,
        currency="USD",
        category="default",
    )
    orders.act(session, clock, o.id, Action.PAY, "p", actor="platform")
    orders.act(session, clock, o.id, Action.SHIP, "s", actor="merchant:usd")
    case = file(session, clock, orders.get_order(session, o.id), kind="not_as_described")
    done = decide(session, clock, case["id"], o.id, finding="not_as_described")
    assert done["refund"] == 5_000  # from the USD escrow; the CNY fund is untouched
    assert remedies.fund_balance(session, "CNY") == 1_000_000
