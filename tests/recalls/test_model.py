"""What a recall owes each buyer of the batch, pure: `recalls.model.remedy` and `plan_recall`
on the shipped policy (no database)."""

from __future__ import annotations

import pytest

from xinren.errors import ValidationFailed
from xinren.liability.model import Finding
from xinren.recalls import model
from xinren.recalls import service as recalls


def rules() -> tuple[model.RemedyRule, ...]:
    return recalls._rules()[1]


def sold(order_id: int, **kw: object) -> model.Sold:
    base: dict[str, object] = dict(
        order_id=order_id,
        buyer=f"buyer-{order_id}",
        currency="CNY",
        category="food",
        total=10_000,
        still_paid=10_000,
        shipped=True,
    )
    return model.Sold(**(base | kw))  # type: ignore[arg-type]


def test_unsafe_food_is_refunded_plus_ten_times_at_least_1000_yuan():
    r = model.remedy(rules(), Finding.SAFETY_HAZARD, "food", 5_000, 5_000)
    assert (r.refund, r.compensation) == (5_000, 100_000)  # 10 x 50 yuan < 1,000 yuan
    r = model.remedy(rules(), Finding.SAFETY_HAZARD, "food", 20_000, 20_000)
    assert r.compensation == 200_000 and "Food Safety Law" in r.basis


def test_a_counterfeit_is_refunded_plus_three_times_at_least_500_yuan():
    r = model.remedy(rules(), Finding.COUNTERFEIT, "beauty", 10_000, 4_000)
    assert (r.refund, r.compensation) == (4_000, 50_000)


def test_compensation_is_owed_after_a_refund_but_not_for_goods_never_shipped():
    assert model.remedy(rules(), Finding.COUNTERFEIT, "food", 30_000, 0).compensation == 90_000
    stopped = model.remedy(rules(), Finding.COUNTERFEIT, "food", 30_000, 30_000, shipped=False)
    assert (stopped.refund, stopped.compensation) == (30_000, 0)


def test_a_finding_the_policy_does_not_cover_is_refused():
    only = tuple(r for r in rules() if r.finding is Finding.COUNTERFEIT)
    with pytest.raises(ValidationFailed, match="no remedy for safety_hazard"):
        model.remedy(only, Finding.SAFETY_HAZARD, "food", 1, 1)


def test_the_plan_owes_every_buyer_in_order():
    owed = model.plan_recall(
        rules(), Finding.SAFETY_HAZARD, [sold(1), sold(2, still_paid=0), sold(3, shipped=False)]
    )
    assert [(o.sold.order_id, o.remedy.refund, o.remedy.compensation) for o in owed] == [
        (1, 10_000, 100_000),
        (2, 0, 100_000),
        (3, 10_000, 0),
    ]
