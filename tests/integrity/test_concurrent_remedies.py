"""Hole 1: two remedies on one order at the same moment pay the buyer once (PostgreSQL).

Before the fix both remedies read "still owed" before either had paid, so a buyer who paid
10,000 was refunded 20,000. Every use case that moves money for an order now locks the order
first and reads what is owed under that lock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.integrity.world import MERCHANT, finish, market, race, settled_order
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.errors import ValidationFailed
from xinren.ledger import journal
from xinren.orders import service as orders
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.unit_of_work import run

pytestmark = pytest.mark.postgres
ROUNDS = 8
RACERS = 4


def _received(db: sessionmaker[Session], order_id: int, kind: str) -> int:
    return run(db, lambda s: remedies.paid_on_order(s, order_id, kind))


def _verified(db: sessionmaker[Session]) -> None:
    report = run(db, journal.verify)
    assert report.ok, report.problems


def _racing_remedies(db, clock, tag: str, *, refund: int, compensation: int):
    """Per round, a fresh settled order of 10,000 and `RACERS` remedies on it at once, each
    under its own key; yields the order and what each remedy returned or raised."""
    run(db, lambda s: market(s, clock))
    for r in range(ROUNDS):
        order = run(db, lambda s, r=r: settled_order(s, clock, f"{tag}{r}", 10_000))
        outcomes = race(
            db,
            [
                lambda s, r=r, i=i, order=order: remedies.pay_buyer(
                    s,
                    clock,
                    f"{tag}-{r}-{i}",
                    order_id=order.id,
                    refund=refund,
                    compensation_due=compensation,
                    payer=MERCHANT,
                    basis="a decision for the buyer",
                    origin=f"{tag}:{r}:{i}",
                )
                for i in range(RACERS)
            ],
        )
        yield order, outcomes


def test_racing_refunds_of_a_settled_order_refund_it_once(db, clock):
    for order, outcomes in _racing_remedies(db, clock, "refund", refund=10_000, compensation=0):
        paid = [o for o in outcomes if o.error is None]
        refused = [o.error for o in outcomes if o.error is not None]
        assert len(paid) == 1, outcomes
        assert all(isinstance(e, ValidationFailed) and e.field == "refund" for e in refused)
        assert _received(db, order.id, "refund") == 10_000
    _verified(db)


def test_racing_compensation_awards_pay_the_statutory_amount_once(db, clock):
    for order, outcomes in _racing_remedies(db, clock, "award", refund=0, compensation=50_000):
        assert all(o.error is None for o in outcomes), outcomes
        assert _received(db, order.id, "compensation") == 50_000
    _verified(db)


def test_two_runs_of_one_recall_pay_each_buyer_once(db, clock, tmp_path: Path):
    store = FileStore(tmp_path / "documents")
    for r in range(ROUNDS // 2):
        case = run(db, lambda s, r=r: stories.birds_nest_case(s, clock, store, f"rr{r}", buyers=3))
        recall = run(
            db,
            lambda s, case=case, r=r: recalls.recall_batch(
                s,
                clock,
                f"recall-{r}",
                batch_id=case.batch_id,
                finding="counterfeit",
                reason="sugar water",
                evidence=[case.docs["independent_report"]],
                decided_by="reviewer:li",
            ),
        )
        outcomes = race(
            db,
            [
                lambda s, recall=recall: remedies.execute_recall(
                    s, clock, recall.id, decided_by="reviewer:li"
                )
                for _ in range(2)
            ],
        )
        assert all(o.error is None for o in outcomes), outcomes
        assert sorted(len(o.value) for o in outcomes) == [0, len(recall.buyers)]
        for task in recall.tasks:
            order = run(db, lambda s, task=task: orders.get_order(s, task.order_id))
            back = order.state.refunded + _received(db, order.id, "refund") - _escrowed(db, order)
            assert back == order.state.paid
            assert _received(db, order.id, "compensation") == max(3 * order.state.total, 50_000)
    _verified(db)


def _escrowed(db: sessionmaker[Session], order: orders.OrderView) -> int:
    """Refunds a remedy paid through the order's own escrow (already in `refunded`)."""
    return run(
        db,
        lambda s: (
            remedies.paid_on_order(s, order.id, "refund")
            - remedies.paid_on_order(s, order.id, "refund", outside_escrow=True)
        ),
    )


def test_a_decision_and_a_recall_racing_on_one_order_pay_it_once(db, clock, tmp_path: Path):
    store = FileStore(tmp_path / "documents")
    for r in range(ROUNDS // 2):
        case = run(db, lambda s, r=r: stories.birds_nest_case(s, clock, store, f"dr{r}", buyers=1))
        # settled: the escrow is empty, so both remedies pay from the merchant's own money
        order = run(db, lambda s, case=case: finish(s, clock, case.order_id))
        assert order.state.held == 0
        shop = order.merchant
        recall = run(
            db,
            lambda s, case=case, r=r: recalls.recall_batch(
                s,
                clock,
                f"recall-d{r}",
                batch_id=case.batch_id,
                finding="counterfeit",
                reason="sugar water",
                evidence=[case.docs["independent_report"]],
                decided_by="reviewer:li",
            ),
        )
        outcomes = race(
            db,
            [
                lambda s, recall=recall: remedies.execute_recall(
                    s, clock, recall.id, decided_by="reviewer:li"
                ),
                lambda s, order=order, shop=shop, r=r: remedies.pay_buyer(
                    s,
                    clock,
                    f"decision-{r}",
                    order_id=order.id,
                    refund=order.state.paid,
                    compensation_due=max(3 * order.state.total, 50_000),
                    payer=shop,
                    basis="counterfeit: refund one, compensate three",
                    origin=f"case:{r}",
                ),
            ],
        )
        ok = [o for o in outcomes if o.error is None]
        assert ok, outcomes
        final = run(db, lambda s, order=order: orders.get_order(s, order.id))
        refunded = final.state.refunded + run(
            db,
            lambda s, order=order: remedies.paid_on_order(
                s, order.id, "refund", outside_escrow=True
            ),
        )
        assert refunded == final.state.paid  # refunded once, never twice
        assert _received(db, order.id, "compensation") == max(3 * order.state.total, 50_000)
    _verified(db)
