"""The complaint rules, pure: the state machine, the policy file's deadlines, the default rule,
what a decision awards and the cap on a reviewer's award (no database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from xinren.cases import model
from xinren.cases.model import Award, Outcome, State, Statute
from xinren.cases.terms import policy
from xinren.errors import Conflict, ValidationFailed
from xinren.remedies import model as remedies_model
from xinren.remedies import service as remedies

FRAUD = Statute(50_000, "consumer-fraud", "CRPL Art. 55(1)")


def award(outcome: Outcome = Outcome.FOR_BUYER, **kw: object) -> Award:
    args: dict[str, object] = dict(
        owed=8_000,
        refund=None,
        compensation=None,
        law=FRAUD,
        cap=100_000,
        by_default=False,
        default_rule="CASE-DEFAULT-1",
    )
    return model.plan_award(outcome, **(args | kw))  # type: ignore[arg-type]


def test_the_state_machine_refuses_a_move_from_the_wrong_state():
    assert model.move(State.AWAITING_MERCHANT, "respond") is State.IN_MEDIATION
    assert model.move(State.AWAITING_MERCHANT, "hold") is State.IN_MEDIATION
    assert model.move(State.DECIDED, "appeal") is State.APPEALED
    with pytest.raises(Conflict, match="needs decided"):
        model.move(State.FINAL, "appeal")
    with pytest.raises(ValidationFailed):
        model.check_kind("bad_vibes")


def test_the_hearing_and_the_deadlines_come_from_the_policy_file():
    p = policy()
    assert p.merchant_response == timedelta(hours=48)
    assert p.decision == timedelta(days=7) and p.overdue_every == timedelta(days=1)
    assert p.appeal == timedelta(days=15)
    assert p.default_rule_id == "CASE-DEFAULT-1" and "48 hours" in p.default_rule_text
    assert p.proposes["counterfeit"] == "CF-1" and "safety_hazard" in p.investigate
    with pytest.raises(ValueError, match="source"):
        model.parse_policy("v", {"merchant_response_hours": 48})


def test_a_silent_merchant_is_decided_by_default_only_on_a_weighty_word():
    p = policy()
    assert model.decides_by_default(p, 1.0)
    assert model.decides_by_default(p, p.default_needs_weight)
    assert not model.decides_by_default(p, p.default_needs_weight - 0.01)


def test_a_decision_for_the_buyer_refunds_what_is_owed_and_the_statute():
    assert award() == Award(8_000, 50_000, "consumer-fraud", "CRPL Art. 55(1)")
    assert award(refund=3_000).refund == 3_000
    with pytest.raises(ValidationFailed, match="between 0 and 8000"):
        award(refund=8_001)
    assert award(Outcome.FOR_MERCHANT, law=None) == Award(0, 0, None, "decided for the merchant")


def test_the_default_rule_refunds_without_compensation():
    assert award(by_default=True, compensation=0) == Award(8_000, 0, "CASE-DEFAULT-1", "")


def test_a_reviewer_award_is_between_the_statute_and_the_cap():
    got = award(compensation=90_000)
    assert (got.compensation, got.rule) == (90_000, "reviewer-award")
    assert got.source == "awarded by the reviewer (statute: CRPL Art. 55(1))"
    with pytest.raises(ValidationFailed, match="at least the statutory 50000"):
        award(compensation=10_000)
    assert award(Outcome.PARTLY_FOR_BUYER, compensation=10_000).compensation == 10_000
    with pytest.raises(ValidationFailed, match="between 0 and 100000"):
        award(compensation=100_001)


def test_the_award_cap_is_ten_times_the_price_at_least_1000_yuan():
    p = remedies.compensation_policy()
    assert remedies_model.award_cap(p, 5_000) == 100_000
    assert remedies_model.award_cap(p, 30_000) == 300_000
    assert "Food Safety Law" in p.award_cap.source and "148" in p.award_cap.source


def test_an_appeal_varies_within_what_the_cap_leaves():
    assert model.check_variation(40_000, 100_000, 60_000) == 40_000
    with pytest.raises(ValidationFailed, match=r"between 1 and 40000 \(the buyer has had 60000"):
        model.check_variation(40_001, 100_000, 60_000)
    with pytest.raises(ValidationFailed, match=r"between 1 and 100000$"):
        model.check_variation(0, 100_000, 0)
