"""Issue 13: the bugs the stateful money test (`test_money_stateful.py`) found, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinren.cases import service as cases
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.errors import ValidationFailed
from xinren.orders import service as orders
from xinren.orders.model import Action, Status
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies


def test_a_recall_owes_no_compensation_for_goods_that_never_left_the_shop(
    session, clock, tmp_path: Path
):
    """An order refunded in full before it was shipped is closed as `refunded`, not `paid`:
    the recall took that for goods the buyer had received and owed its buyer 3x the price
    (¥774 for a ¥258 order it never sent)."""
    case = stories.birds_nest_case(session, clock, FileStore(tmp_path / "d"), "ns", buyers=1)
    shop = case.refs["shop"]
    listing_id = orders.get_order(session, case.order_id).listing_id
    order = orders.create_order(
        session, clock, "never-shipped", buyer="buyer:ns", merchant=shop, listing_id=listing_id
    )
    for action in (Action.PAY, Action.REQUEST_REFUND, Action.APPROVE_REFUND):
        orders.act(session, clock, order.id, action, f"ns-{action}", actor="platform")
    assert orders.get_order(session, order.id).state.status is Status.REFUNDED
    recall = recalls.recall_batch(
        session,
        clock,
        "ns-recall",
        batch_id=case.batch_id,
        finding="counterfeit",
        reason="sugar water",
        evidence=[case.docs["independent_report"]],
        decided_by="reviewer:li",
    )
    tasks = {t.order_id: t for t in recall.tasks}
    assert (tasks[order.id].refund, tasks[order.id].compensation) == (0, 0)
    shipped = orders.get_order(session, case.order_id)
    assert tasks[shipped.id].compensation == max(3 * shipped.state.total, 50_000)
    remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
    assert remedies.paid_on_order(session, order.id, "compensation") == 0
    assert remedies.paid_on_order(session, shipped.id, "compensation") == max(
        3 * shipped.state.total, 50_000
    )


def test_an_appeal_after_a_recall_stays_within_the_reviewers_cap(session, clock, tmp_path: Path):
    """A recall paid the statutory 10x first; the complaint's decision then paid nothing more
    (nothing is paid twice), and the appeal's cap was counted from that decision alone: the
    variation could add another 10x, 20x the price in all, where the other order of events
    stops at 10x."""
    case = stories.birds_nest_case(session, clock, FileStore(tmp_path / "d"), "ap", buyers=1)
    remedies.top_up_fund(session, clock, "fund", 10_000_000, "CNY")
    order = orders.get_order(session, case.order_id)
    most = max(10 * order.state.total, 100_000)
    recall = recalls.recall_batch(
        session,
        clock,
        "ap-recall",
        batch_id=case.batch_id,
        finding="safety_hazard",
        reason="unsafe",
        evidence=[case.docs["independent_report"]],
        decided_by="reviewer:li",
    )
    remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
    assert remedies.paid_on_order(session, order.id, "compensation") == most
    filed = cases.file_case(
        session,
        clock,
        "ap-case",
        order_id=order.id,
        buyer=order.buyer,
        kind="safety_hazard",
        statement="it made me ill",
    )
    cases.respond(session, clock, filed["id"], merchant=order.merchant, statement="it is safe")
    decided = cases.decide(
        session,
        clock,
        "ap-decision",
        filed["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="safety_hazard",
        reasons="the lab report",
        relied_on=[f"order:{order.id}"],
    )
    assert decided["compensation"] == 0  # the recall paid it already
    cases.appeal(session, clock, filed["id"], by=order.buyer, grounds="more")
    with pytest.raises(ValidationFailed, match="between 1 and 0"):
        cases.decide_appeal(
            session,
            clock,
            filed["id"],
            reviewer="reviewer:wang",
            outcome="varied",
            reasons="more",
            extra_compensation=most,
        )
    assert remedies.paid_on_order(session, order.id, "compensation") == most
