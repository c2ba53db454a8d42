"""The buyer's side, end to end: the fake tea, the vanished host's paid course, the bird's-nest
recall; remedies paid once; the money identity across every flow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore
from xinren.errors import Conflict, Forbidden, IdempotencyKeyReused, ValidationFailed
from xinren.events import service as events
from xinren.ledger import journal
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
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


def test_vanished_host_course_the_fund_pays_first_and_recovers(session, clock):
    samples.verified(session, clock, "merchant:course")
    deposits.pay_deposit(session, clock, "dep", "merchant:course", 100_000, "CNY")
    remedies.top_up_fund(session, clock, "fund", 10_000_000, "CNY")
    order = completed_order(session, clock, "merchant:course", "course1", 29_900, "digital")
    # the seller withdraws everything it earned, then vanishes
    ledger.create_account(session, clock, "bank:payouts", "CNY")
    earned = ledger.get_account(session, "merchant:course:available").balance.available
    ledger.move(session, clock, "payout", "merchant:course:available", "bank:payouts", earned)
    parties.decide(
        session,
        clock,
        "gone",
        "merchant:course",
        Status.REJECTED,
        reason="the host vanished; address and phone no longer valid",
        decided_by="reviewer:li",
    )
    case = cases.file_case(
        session,
        clock,
        "c1",
        order_id=order.id,
        buyer=order.buyer,
        kind="scam",
        statement="paid for 12 live lessons; the host vanished after the first",
    )
    clock.advance(hours=49)  # the seller does not answer
    decided = cases.decide(
        session,
        clock,
        "d1",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="scam",
        reasons="the course was never delivered",
        relied_on=[f"order:{order.id}"],
    )
    owed = 29_900 + 89_700  # refund + 3x
    assert decided["payer"] == "platform" and decided["compensation"] == 89_700
    position = remedies.fund_position(session)
    assert position["paid_first"] == owed
    [claim] = remedies.list_claims(session, debtor="merchant:course")
    assert claim["amount"] == owed and claim["recovered"] == 100_000  # its whole deposit
    assert claim["status"] == "open" and claim["outstanding"] == owed - 100_000
    assert position["receivable"] == owed - 100_000
    assert remedies.fund_balance(session) == 10_000_000 - owed + 100_000
    # money arriving later is collected by the daily timer
    ledger.move(session, clock, "late-income", "bank:payouts", "merchant:course:available", 5_000)
    clock.advance(days=1)
    due = [t for t in timers.pending(session) if t.kind == remedies.COLLECT]
    remedies._collect_due(session, clock, due[0])
    assert remedies.get_claim(session, claim["id"])["recovered"] == 105_000
    # the rest is written off only by a decision with its reason
    with pytest.raises(ValidationFailed):
        remedies.write_off(session, clock, claim["id"], reason=" ", decided_by="reviewer:li")
    off = remedies.write_off(
        session, clock, claim["id"], reason="seller untraceable", decided_by="reviewer:li"
    )
    assert off["status"] == "written_off" and remedies.fund_position(session)["receivable"] == 0
    balanced(session)


def test_birds_nest_recall_every_buyer_refunded_plus_three_times(session, clock, tmp_path):
    case = stories.birds_nest_case(session, clock, FileStore(tmp_path / "d"), "rc", buyers=5)
    recall = recalls.recall_batch(
        session,
        clock,
        "rc",
        batch_id=case.batch_id,
        finding="counterfeit",
        reason="sugar water",
        evidence=[case.docs["independent_report"]],
        decided_by="reviewer:li",
    )
    paid = remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
    assert len(paid) == 5 == len(recall.buyers)
    for remedy, task in zip(paid, recall.tasks, strict=True):
        order = orders.get_order(session, task.order_id)
        assert order.state.refunded == order.state.paid  # refunded in full from escrow
        assert remedy.compensation == max(3 * order.state.total, 50_000)
        assert remedy.payer == case.refs["shop"]
    assert all(t.status == "paid" for t in recalls.get_recall(session, recall.id).tasks)
    # the seller paid first and holds a recovery claim on the manufacturer
    claims = remedies.list_claims(session, debtor=case.refs["maker"])
    assert claims and all(c["creditor"] == case.refs["shop"] for c in claims)
    # executing again pays nobody twice
    assert remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li") == []
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


def test_the_fund_must_hold_enough(session, clock):
    samples.verified(session, clock, "merchant:x")
    deposits.pay_deposit(session, clock, "dep", "merchant:x", 100_000, "CNY")
    order = completed_order(session, clock, "merchant:x", "x1", 10_000, "default")
    parties.decide(
        session, clock, "gone", "merchant:x", Status.REJECTED, reason="fake licence", decided_by="r"
    )
    case = cases.file_case(
        session, clock, "c", order_id=order.id, buyer=order.buyer, kind="scam", statement="x"
    )
    clock.advance(hours=49)
    with pytest.raises(Conflict, match="top it up"):
        cases.decide(
            session,
            clock,
            "d",
            case["id"],
            decided_by="r2",
            outcome="for_buyer",
            finding="scam",
            reasons="r",
            relied_on=[f"order:{order.id}"],
        )
