"""How a settled order's money is split, and when an order auto-confirms: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinren import policies
from xinren.errors import ValidationFailed
from xinren.money import MAX_AMOUNT
from xinren.orders import model
from xinren.orders.model import Countdown, CountdownState, TimerChange

CAP = policies.host_rate_cap_bp()
RATES = sorted({int(r) for r in policies.load("commissions").get("platform_rate_bp").values()})

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)
platform_rates = st.sampled_from(RATES)
host_rates = st.integers(min_value=0, max_value=CAP)


@given(amounts, platform_rates, host_rates, st.booleans())
def test_the_shares_add_up_to_the_amount_and_none_is_negative(amount, platform, host, has_host):
    shares = model.settle_shares(amount, platform, host, host=has_host)
    assert shares.total == shares.merchant + shares.platform + shares.host == amount
    assert min(shares.merchant, shares.platform, shares.host) >= 0


@given(amounts, platform_rates, host_rates)
def test_the_host_cap_holds_and_each_commission_rounds_down(amount, platform, host):
    shares = model.settle_shares(amount, platform, host, host=True)
    assert shares.host * model.BP <= amount * CAP
    assert shares.host == amount * host // model.BP
    assert shares.platform == amount * platform // model.BP
    # rounding down leaves the remainder with the merchant: each fee is within 1 of exact
    assert amount * host - model.BP < shares.host * model.BP <= amount * host


@given(amounts, platform_rates, host_rates)
def test_an_order_without_a_host_pays_no_host_commission(amount, platform, host):
    shares = model.settle_shares(amount, platform, host, host=False)
    assert shares.host == 0 and shares.merchant == amount - shares.platform


def test_a_worked_example():
    # 99.00 CNY of food (3%) sold by a host on 10%: platform 2.97, host 9.90, merchant 86.13
    assert model.settle_shares(9_900, 300, 1_000, host=True) == model.Shares(8_613, 297, 990)


def test_the_host_cap_comes_from_the_policy_and_is_checked():
    assert CAP == 5_000
    assert CAP + max(RATES) <= model.BP  # the merchant's share is never negative
    assert model.check_host_rate(CAP, CAP) == CAP
    assert model.check_host_rate(0, CAP) == 0
    for bad in (-1, CAP + 1):
        with pytest.raises(ValidationFailed, match=r"between 0 and 5000 \(50%\)"):
            model.check_host_rate(bad, CAP)


NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
TEN_DAYS = timedelta(days=10)


def test_shipping_starts_the_countdown_for_the_delivery_method():
    timers = policies.order_timers()
    for method, days in timers.receipt_days.items():
        plan = model.plan_countdown(
            Countdown.START,
            now=NOW,
            due=None,
            left_ms=None,
            receipt_period=timers.receipt_period(method),
        )
        assert plan == CountdownState(NOW + timedelta(days=days), None, TimerChange.SCHEDULE)
    with pytest.raises(ValueError, match="receipt period"):
        model.plan_countdown(Countdown.START, now=NOW, due=None, left_ms=None)


def test_a_pause_keeps_what_was_left_and_a_resume_gives_it_back():
    due = NOW + TEN_DAYS
    paused = model.plan_countdown(Countdown.PAUSE, now=NOW, due=due, left_ms=None)
    assert paused == CountdownState(None, int(TEN_DAYS / timedelta(milliseconds=1)), "cancel")
    later = NOW + timedelta(days=4)
    resumed = model.plan_countdown(Countdown.RESUME, now=later, due=None, left_ms=paused.left_ms)
    assert resumed == CountdownState(later + TEN_DAYS, None, TimerChange.SCHEDULE)
    # a countdown already overdue when paused keeps nothing, never a negative time
    overdue = model.plan_countdown(Countdown.PAUSE, now=due + TEN_DAYS, due=due, left_ms=None)
    assert overdue.left_ms == 0


def test_an_extension_moves_the_due_time_and_a_stop_ends_it():
    due = NOW + TEN_DAYS
    ext = timedelta(days=3)
    extended = model.plan_countdown(Countdown.EXTEND, now=NOW, due=due, left_ms=None, extension=ext)
    assert extended == CountdownState(due + ext, None, TimerChange.RESCHEDULE)
    stopped = model.plan_countdown(Countdown.STOP, now=NOW, due=due, left_ms=None)
    assert stopped == CountdownState(None, None, TimerChange.CANCEL)


@pytest.mark.parametrize(
    ("effect", "due", "left"),
    [(Countdown.PAUSE, None, 5), (Countdown.RESUME, NOW, None), (Countdown.EXTEND, None, 5)],
)
def test_an_effect_with_nothing_to_act_on_changes_nothing(effect, due, left):
    assert model.plan_countdown(effect, now=NOW, due=due, left_ms=left) == CountdownState(due, left)
