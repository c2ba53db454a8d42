"""Filing and deciding complaints in tests: one way to write them, shared by the cases,
remedies and recalls tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.cases.test_stories import completed_order
from xinren.cases import service as cases
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.orders.service import OrderView
from xinren.parties import deposits


def decide(
    session: Session, clock: FakeClock, case_id: int, order_id: int, key: str = "d", **kw: Any
) -> dict[str, Any]:
    args: dict[str, Any] = (
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


def tea_order(session: Session, clock: FakeClock) -> OrderView:
    """A verified tea shop with a deposit, and one completed, settled order of 128 yuan."""
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 500_000, "CNY")
    return completed_order(session, clock, "merchant:tea", "t1", 12_800, "tea")


def file(
    session: Session, clock: FakeClock, order: OrderView, key: str = "c", kind: str = "counterfeit"
) -> dict[str, Any]:
    """The buyer complains and the merchant answers: the case is in mediation."""
    case = cases.file_case(
        session, clock, key, order_id=order.id, buyer=order.buyer, kind=kind, statement="fake tea"
    )
    cases.respond(session, clock, case["id"], merchant=order.merchant, statement="genuine")
    return case
