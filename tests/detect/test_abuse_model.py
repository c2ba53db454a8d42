"""The abuse score's pure rules, without a database: when a complaint counts as unfounded, when
it came soon after delivery, the score and weight of a record, and who is flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xinren.detect import abuse

DELIVERED = datetime(2026, 7, 20, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("outcome", "by_default", "unfounded"),
    [
        ("for_merchant", False, True),  # a reviewer found for the merchant on the merits
        ("for_buyer", False, False),
        ("partly_for_buyer", False, False),
        ("for_buyer", True, False),  # the merchant did not answer: nothing said of the buyer
        ("for_merchant", True, False),
        (None, False, False),  # not decided yet
    ],
)
def test_a_complaint_is_unfounded_only_when_decided_for_the_merchant_on_the_merits(
    outcome, by_default, unfounded
):
    assert abuse.complaint_unfounded(outcome, by_default) is unfounded


@pytest.mark.parametrize(
    ("opened", "soon"),
    [
        (DELIVERED + timedelta(hours=1), True),
        (DELIVERED + timedelta(days=1), True),  # a day to the microsecond still counts
        (DELIVERED + timedelta(days=1, microseconds=1), False),
        (DELIVERED - timedelta(days=3), True),  # filed before the goods arrived
    ],
)
def test_a_complaint_within_a_day_of_delivery_is_soon(opened, soon):
    assert abuse.complained_soon(opened, DELIVERED) is soon


def test_a_complaint_about_goods_never_delivered_is_not_soon():
    assert not abuse.complained_soon(DELIVERED, None)


def test_unfounded_notices_are_the_two_unfounded_outcomes():
    assert sorted(abuse.UNFOUNDED_NOTICE) == ["manifestly_unfounded", "unfounded"]


@pytest.mark.parametrize(
    ("record", "score", "weight", "reasons"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0), 0.047, 0.953, ()),
        ((0, 0, 0, 0, 4, 0, 1, 2), 0.711, 0.289, ("unfounded notices",)),
        (
            (6, 2, 4, 1, 1, 3, 1, 2),
            0.957,
            abuse.MIN_WEIGHT,  # nobody's word counts for nothing
            ("complaint rate", "order-then-complain", "identifiers shared with flagged accounts"),
        ),
    ],
)
def test_the_score_and_weight_of_a_record(record, score, weight, reasons):
    found = abuse.score(abuse.BuyerRecord(*record))
    assert round(found.score, 3) == score and round(found.weight, 3) == weight
    assert found.reasons[: len(reasons)] == reasons
    assert (found.score >= abuse.FLAG_AT) is (score >= 0.8)
