"""The buyer's side, end to end: the fake tea, a missed merchant deadline, appeals and the
complaint metrics; the money identity across every flow (the fund's stories are in
tests/remedies, the bird's-nest recall in tests/recalls)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, ValidationFailed
from xinren.events import service as events
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


def completed_order(session, clock, merchant, key, total, category, *, settle=True):
    o = orders.create_order(
        session,
        clock,
        key,
        buyer=f"buyer:{key}",
        merchant=merchant,
        total=total,
        currency="CNY",
        category=category,
    )
    for action, actor in (
        (Action.PAY, "platform"),
        (Action.SHIP, merchant),
        (Action.CONFIRM, f"buyer:{key}"),
    ):
        orders.act(session, clock, o.id, action, f"{key}-{action}", actor=actor)
    if settle:  # the settlement hold passes: the merchant's share becomes available
        for t in timers.pending(session):
            if t.kind == orders.RELEASE_SETTLEMENT and t.subject == str(o.id):
                orders._release_settlement(session, clock, t)
                timers.cancel(session, t.kind, t.subject)
    return orders.get_order(session, o.id)


def balanced(session):
    for cur, b in ledger.totals_by_currency(session).items():
        assert b.debits_posted == b.credits_posted, cur
        assert b.debits_pending == b.credits_pending, cur
    assert journal.verify(session).ok


def test_fake_tea_counterfeit_pays_three_times_with_the_500_minimum(session, clock):
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 100_000, "CNY")
    order = completed_order(session, clock, "merchant:tea", "tea1", 12_800, "tea")
    available_before = ledger.get_account(session, "merchant:tea:available").balance.net
    case = cases.file_case(
        session,
        clock,
        "c1",
        order_id=order.id,
        buyer=order.buyer,
        kind="counterfeit",
        statement="the tea stays hard after an hour of brewing; it is not the Longjing sold",
        evidence=[(f"order:{order.id}", "my order")],
    )
    assert case["state"] == "awaiting_merchant"
    cases.respond(session, clock, case["id"], merchant="merchant:tea", statement="it is genuine")
    cases.assign(session, clock, case["id"], reviewer="reviewer:li")
    with pytest.raises(Forbidden, match="assigned to reviewer:li"):
        cases.decide(
            session,
            clock,
            "d1",
            case["id"],
            decided_by="reviewer:wang",
            outcome="for_buyer",
            finding="counterfeit",
            reasons="x",
            relied_on=[f"order:{order.id}"],
        )
    decided = cases.decide(
        session,
        clock,
        "d1",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="counterfeit",
        reasons="lab comparison shows a different cultivar",
        relied_on=[f"order:{order.id}"],
    )
    assert decided["state"] == "decided" and decided["refund"] == 12_800
    assert decided["compensation"] == 50_000  # 3 x 128 = 384 < the 500 yuan minimum
    assert decided["rule"] == "consumer-fraud" and decided["proposed_rule"] == "CF-1"
    # the merchant paid from its available balance, then its deposit
    paid = ledger.get_account(session, "merchant:tea:available").balance.net
    dep = deposits.deposit_balance(session, "merchant:tea")
    assert (available_before - paid) + (100_000 - dep) == 62_800
    proposed = [e for e in events.read(session, limit=1000) if e.topic == "violation.proposed"]
    assert proposed[0].payload["rule"] == "CF-1"
    # a retried decision pays once
    again = cases.decide(
        session,
        clock,
        "d1",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="counterfeit",
        reasons="lab comparison shows a different cultivar",
        relied_on=[f"order:{order.id}"],
    )
    assert again == decided and deposits.deposit_balance(session, "merchant:tea") == dep
    with pytest.raises(Conflict):
        cases.decide(
            session,
            clock,
            "d2",
            case["id"],
            decided_by="reviewer:li",
            outcome="for_buyer",
            finding="counterfeit",
            reasons="again",
            relied_on=[f"order:{order.id}"],
        )
    balanced(session)


def test_a_missed_merchant_deadline_is_decided_by_the_default_rule(session, clock):
    samples.verified(session, clock, "merchant:slow")
    deposits.pay_deposit(session, clock, "dep", "merchant:slow", 100_000, "CNY")
    o = orders.create_order(
        session,
        clock,
        "o",
        buyer="buyer:1",
        merchant="merchant:slow",
        total=5_000,
        currency="CNY",
        category="default",
    )
    orders.act(session, clock, o.id, Action.PAY, "pay", actor="platform")
    orders.act(session, clock, o.id, Action.SHIP, "ship", actor="merchant:slow")
    case = cases.file_case(
        session,
        clock,
        "c",
        order_id=o.id,
        buyer="buyer:1",
        kind="not_as_described",
        statement="wrong colour",
    )
    clock.advance(hours=49)
    [timer] = [t for t in timers.pending(session) if t.kind == cases.MERCHANT_DEADLINE]
    cases._merchant_deadline(session, clock, timer)
    decided = cases.get_case(session, case["id"])
    assert decided["by_default"] and decided["outcome"] == "for_buyer"
    assert decided["reasons"].startswith("CASE-DEFAULT-1") and decided["refund"] == 5_000
    assert orders.get_order(session, o.id).state.refunded == 5_000  # from escrow
    balanced(session)


def test_appeals_metrics_and_bad_input(session, clock):
    samples.verified(session, clock, "merchant:m")
    deposits.pay_deposit(session, clock, "dep", "merchant:m", 1_000_000, "CNY")
    order = completed_order(session, clock, "merchant:m", "m1", 10_000, "default")
    with pytest.raises(ValidationFailed) as err:
        cases.file_case(
            session, clock, "c", order_id=order.id, buyer=order.buyer, kind="moody", statement="x"
        )
    assert err.value.field == "kind"
    with pytest.raises(Forbidden):
        cases.file_case(
            session, clock, "c", order_id=order.id, buyer="buyer:other", kind="scam", statement="x"
        )
    case = cases.file_case(
        session,
        clock,
        "c",
        order_id=order.id,
        buyer=order.buyer,
        kind="quality_defect",
        statement="broken on arrival",
    )
    with pytest.raises(IdempotencyKeyReused):
        cases.file_case(
            session, clock, "c", order_id=order.id, buyer=order.buyer, kind="scam", statement="x"
        )
    with pytest.raises(Conflict, match="has until"):  # the merchant is heard first
        cases.decide(
            session,
            clock,
            "d0",
            case["id"],
            decided_by="reviewer:a",
            outcome="for_buyer",
            finding="quality_defect",
            reasons="r",
            relied_on=[f"order:{order.id}"],
        )
    cases.respond(
        session, clock, case["id"], merchant="merchant:m", statement="it worked when sent"
    )
    with pytest.raises(ValidationFailed) as err:
        cases.decide(
            session,
            clock,
            "d",
            case["id"],
            decided_by="reviewer:a",
            outcome="for_buyer",
            finding="quality_defect",
            reasons="r",
            relied_on=[],
        )
    assert err.value.field == "relied_on"
    clock.advance(hours=10)
    cases.decide(
        session,
        clock,
        "d",
        case["id"],
        decided_by="reviewer:a",
        outcome="partly_for_buyer",
        finding="quality_defect",
        reasons="a scratch, not a defect",
        relied_on=[f"order:{order.id}"],
        refund=3_000,
    )
    cases.appeal(session, clock, case["id"], by=order.buyer, grounds="it does not switch on")
    with pytest.raises(Forbidden):
        cases.decide_appeal(
            session, clock, case["id"], reviewer="reviewer:a", outcome="upheld", reasons="r"
        )
    final = cases.decide_appeal(
        session,
        clock,
        case["id"],
        reviewer="reviewer:b",
        outcome="varied",
        reasons="the photos show it does not switch on",
        extra_compensation=2_000,
    )
    assert final["state"] == "final" and final["compensation"] == 2_000
    m = cases.metrics(session)
    assert m["decided"] == 1 and m["by_kind"] == {"quality_defect": 1}
    assert m["hours_to_decision_median"] == 10 and m["share_for_buyer"] == 1.0
    assert m["compensation_paid"] == 2_000
    balanced(session)
