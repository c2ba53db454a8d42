"""The review rules without a database: what a review must say, which excluded reviews a
merchant may contest, who decides an appeal and how it ends."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from xinren.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinren.reviews import model
from xinren.reviews.model import ReviewIn

AT = datetime(2026, 7, 20, tzinfo=UTC)


def _review(**change: object) -> ReviewIn:
    fields: dict[str, object] = dict(
        key="r1", buyer="buyer:li", listing_id=1, rating=4, text="ok", reviewed_at=AT
    )
    return ReviewIn(**(fields | change))  # type: ignore[arg-type]


def test_an_appeal_against_excluded_reviews_ends_upheld_partly_or_reinstated():
    assert model.appeal_outcome(3, 0) == "upheld"
    assert model.appeal_outcome(3, 1) == "partly"
    assert model.appeal_outcome(3, 3) == "reinstated"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"buyer": ""}, "reviews[2].buyer"),
        ({"rating": 0}, "reviews[2].rating"),
        ({"rating": 6}, "reviews[2].rating"),
        ({"text": "x" * 5001}, "reviews[2].text"),
        ({"reviewed_at": datetime(2026, 7, 20)}, "reviews[2].reviewed_at"),
    ],
)
def test_a_bad_review_names_its_place_in_the_batch_and_its_field(change, field):
    with pytest.raises(ValidationFailed) as e:
        model.check_review(_review(**change), "reviews[2].")
    assert e.value.field == field


def test_a_replayed_key_is_the_same_review_only_with_the_same_buyer_listing_and_rating():
    old = SimpleNamespace(buyer="buyer:li", listing_id=1, rating=4)
    assert model.same_review(old, _review(text="edited"))
    assert not model.same_review(old, _review(rating=5))


def test_a_merchant_contests_only_its_own_excluded_reviews_not_already_contested():
    found = {
        1: SimpleNamespace(merchant="merchant:a", excluded=True),
        2: SimpleNamespace(merchant="merchant:a", excluded=False),
        3: SimpleNamespace(merchant="merchant:b", excluded=True),
    }
    model.check_contestable("merchant:a", [1], found, [(9, [5, 6])])
    with pytest.raises(NotFound):
        model.check_contestable("merchant:a", [4], found, [])
    with pytest.raises(Forbidden):
        model.check_contestable("merchant:a", [3], found, [])
    with pytest.raises(Conflict):  # it counts: nothing to appeal
        model.check_contestable("merchant:a", [2], found, [])
    with pytest.raises(Conflict):  # an open appeal already contests it
        model.check_contestable("merchant:a", [1], found, [(9, [1])])
    assert model.contested_ids([3, 1, 3]) == [1, 3]
    with pytest.raises(ValidationFailed):
        model.contested_ids([])
    with pytest.raises(ValidationFailed):
        model.contested_ids(range(1001))


def test_a_named_person_decides_and_reinstates_only_contested_reviews():
    model.check_decider("reviewer:li")
    model.check_decider("admin:wang")
    with pytest.raises(ValidationFailed):
        model.check_decider("system")
    assert model.check_reinstated(7, [1, 2, 3], [3, 1, 1]) == [1, 3]
    with pytest.raises(ValidationFailed) as e:
        model.check_reinstated(7, [1, 2, 3], [4])
    assert e.value.field == "reinstate"
