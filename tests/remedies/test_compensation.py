"""How much compensation a buyer is owed on top of the refund, pure: the first statutory rule
of `policies/compensation.yaml` that matches, or a platform promise where it gives more."""

from __future__ import annotations

import pytest

from xinren.errors import ValidationFailed
from xinren.remedies import model
from xinren.remedies import service as remedies


def owed(finding: str, category: str, price: int) -> model.Compensation:
    return model.compensation(remedies.compensation_policy(), finding, category, price)


def test_unsafe_food_is_ten_times_at_least_1000_yuan():
    assert owed("safety_hazard", "food", 5_000).amount == 100_000
    assert owed("safety_hazard", "food", 20_000).rule == "food-safety"
    assert owed("safety_hazard", "toys", 20_000).amount == 0  # refund only, losses proven apart


def test_consumer_fraud_is_three_times_at_least_500_yuan():
    assert owed("counterfeit", "tea", 12_800).amount == 50_000
    assert owed("scam", "digital", 29_900).amount == 89_700
    assert "Art. 55" in owed("counterfeit", "tea", 1).source


def test_a_platform_promise_applies_where_it_gives_more():
    got = owed("counterfeit", "luxury", 100_000)
    assert (got.amount, got.rule) == (1_000_000, "luxury-authenticity")


def test_refund_only_findings_owe_no_compensation_and_unknown_ones_are_refused():
    assert owed("not_as_described", "tea", 10_000).amount == 0
    with pytest.raises(ValidationFailed, match="finding must be one of"):
        owed("bad_vibes", "tea", 10_000)


def test_the_policy_file_is_checked():
    body = {"rules": [{"id": "x", "findings": ["scam"], "multiple": 3, "minimum": 0}]}
    with pytest.raises(ValueError, match="legal source"):
        model.parse_policy("v", body)
    body["rules"][0]["source"] = "CRPL"
    with pytest.raises(ValueError, match="names the reviewer_award_cap"):
        model.parse_policy("v", body)
    body["reviewer_award_cap"] = {"multiple": 10, "minimum": 100_000}
    with pytest.raises(ValueError, match="with its source"):
        model.parse_policy("v", body)
