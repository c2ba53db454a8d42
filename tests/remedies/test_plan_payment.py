"""Who pays the buyer, from which money, in what order: `remedies.model.plan_payment` and
`split`, pure (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinren.errors import ValidationFailed
from xinren.remedies.model import (
    AVAILABLE,
    DEPOSIT,
    ESCROW,
    GUARANTEE_FUND,
    PLATFORM,
    SOURCES,
    Balances,
    Claim,
    Due,
    Move,
    Split,
    plan_payment,
    split,
)


def facts(**kw: int) -> Balances:
    base = dict(still_owed=10_000, compensation_paid=0, escrow=0, available=0, deposit=0)
    return Balances(seller="acme", **(base | kw))


def test_split_takes_available_then_deposit_and_the_fund_the_rest():
    assert split(100, 30, 50) == Split(30, 50, 20)
    assert split(100, 200, 50) == Split(100, 0, 0)
    assert split(100, -40, 60) == Split(0, 60, 40)  # an overdrawn balance pays nothing
    assert split(0, 10, 10) == Split(0, 0, 0)
    with pytest.raises(ValueError):
        split(-1, 0, 0)


def test_escrow_refunds_first_then_the_payer_then_the_fund():
    plan = plan_payment(
        Due(8_000, 5_000, "acme", ("maker",)),
        facts(escrow=3_000, available=4_000, deposit=2_000),
    )
    assert plan.moves == (
        Move("refund", ESCROW, "acme", 3_000),
        Move("refund", AVAILABLE, "acme", 4_000),
        Move("refund", DEPOSIT, "acme", 1_000),
        Move("compensation", DEPOSIT, "acme", 1_000),
        Move("compensation", GUARANTEE_FUND, PLATFORM, 4_000),
    )
    assert plan.fund_paid == 4_000
    # the fund recovers from the payer that fell short; the payer from the one at fault
    assert plan.claims == (
        Claim("fund", PLATFORM, "acme", 4_000),
        Claim("payer", "acme", "maker", 6_000),
    )


def test_the_platform_paying_first_recovers_from_the_first_liable():
    plan = plan_payment(Due(1_000, 3_000, PLATFORM, ("acme",)), facts(available=99_999))
    assert plan.moves == (
        Move("refund", GUARANTEE_FUND, PLATFORM, 1_000),
        Move("compensation", GUARANTEE_FUND, PLATFORM, 3_000),
    )
    assert plan.claims == (Claim("fund", PLATFORM, "acme", 4_000),)
    # nobody named: the fund pays and holds no claim
    assert plan_payment(Due(0, 3_000, PLATFORM), facts()).claims == ()


def test_compensation_earlier_remedies_paid_counts_unless_not_cumulative():
    paid = facts(compensation_paid=2_000, available=10_000)
    assert plan_payment(Due(0, 5_000, "acme"), paid).compensation == 3_000
    assert plan_payment(Due(0, 1_000, "acme"), paid).compensation == 0
    assert plan_payment(Due(0, 5_000, "acme", cumulative=False), paid).compensation == 5_000


def test_a_refund_is_at_most_what_is_still_owed():
    with pytest.raises(ValidationFailed, match=r"has not had back \(500\)"):
        plan_payment(Due(501, 0, "acme"), facts(still_owed=500))


def test_a_payer_recovering_from_itself_opens_no_claim():
    plan = plan_payment(Due(0, 1_000, "acme", ("acme",)), facts(available=5_000))
    assert plan.claims == ()


amount = st.integers(min_value=0, max_value=10**7)
balance = st.integers(min_value=-(10**6), max_value=10**7)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Due, Balances]:
    owed = draw(amount)
    payer = draw(st.sampled_from(["acme", PLATFORM]))
    due = Due(
        draw(st.integers(min_value=0, max_value=owed)),
        draw(amount),
        payer,
        tuple(draw(st.lists(st.sampled_from(["acme", "maker", "host", PLATFORM]), max_size=3))),
        draw(st.booleans()),
    )
    return due, Balances("acme", owed, draw(amount), draw(balance), draw(balance), draw(balance))


@given(cases())
def test_the_moves_pay_exactly_what_is_due(case: tuple[Due, Balances]):
    due, bal = case
    plan = plan_payment(due, bal)
    assert all(m.amount > 0 for m in plan.moves)
    assert sum(m.amount for m in plan.moves if m.kind == "refund") == due.refund
    assert sum(m.amount for m in plan.moves if m.kind == "compensation") == plan.compensation
    expected = due.compensation - bal.compensation_paid if due.cumulative else due.compensation
    assert plan.compensation == max(0, expected)


@given(cases())
def test_no_source_goes_below_its_balance(case: tuple[Due, Balances]):
    due, bal = case
    plan = plan_payment(due, bal)
    assert plan.paid_from(ESCROW) <= max(bal.escrow, 0)
    assert all(m.kind == "refund" for m in plan.moves if m.source == ESCROW)
    if due.payer == PLATFORM:
        assert plan.paid_from(AVAILABLE) == plan.paid_from(DEPOSIT) == 0
    assert plan.paid_from(AVAILABLE) <= max(bal.available, 0)
    assert plan.paid_from(DEPOSIT) <= max(bal.deposit, 0)


@given(cases())
def test_the_order_is_respected(case: tuple[Due, Balances]):
    due, bal = case
    moves = plan_payment(due, bal).moves
    kinds = [m.kind for m in moves]
    assert kinds == sorted(kinds, key=["refund", "compensation"].index)  # refund first
    for kind in ("refund", "compensation"):
        order = [SOURCES.index(m.source) for m in moves if m.kind == kind]
        assert order == sorted(order) and len(order) == len(set(order))
    # a later source pays only once the earlier ones are spent
    if plan_payment(due, bal).paid_from(DEPOSIT) and due.payer != PLATFORM:
        assert plan_payment(due, bal).paid_from(AVAILABLE) == max(bal.available, 0)
    paid_by = {m.source: m.paid_by for m in moves}
    assert (
        paid_by.get(ESCROW, "acme") == "acme" and paid_by.get(GUARANTEE_FUND, PLATFORM) == PLATFORM
    )


@given(cases())
def test_the_fund_pays_last_and_claims_what_it_advanced(case: tuple[Due, Balances]):
    due, bal = case
    plan = plan_payment(due, bal)
    if plan.fund_paid and due.payer != PLATFORM:
        # the payer's available balance and deposit were used up first
        assert plan.paid_from(AVAILABLE) == max(bal.available, 0)
        assert plan.paid_from(DEPOSIT) == max(bal.deposit, 0)
    fund_claims = [c for c in plan.claims if c.tag == "fund"]
    debtor = due.payer if due.payer != PLATFORM else next(iter(due.recover_from), None)
    if plan.fund_paid and debtor is not None:
        assert fund_claims == [Claim("fund", PLATFORM, debtor, plan.fund_paid)]
    else:
        assert fund_claims == []
    payer_claims = [c for c in plan.claims if c.tag == "payer"]
    assert sum(c.amount for c in payer_claims) <= plan.paid_from(AVAILABLE) + plan.paid_from(
        DEPOSIT
    )
