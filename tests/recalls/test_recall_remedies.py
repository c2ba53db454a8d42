"""A recall's remedies against a complaint's: a case then a recall on one order pays once, and
the recall and complaint policies owe the same compensation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.complaints import decide, file
from tests.cases.test_stories import balanced
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.recalls import model as recall_model
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


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
