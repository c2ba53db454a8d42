"""The bird's-nest recall: every buyer of the batch refunded plus three times, by the seller,
which recovers from the maker; executing again pays nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.cases.test_stories import balanced
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


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
