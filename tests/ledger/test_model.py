"""Pure ledger rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xinren.errors import (
    Conflict,
    CurrencyMismatch,
    HoldNotPending,
    LimitExceeded,
    NotFound,
    RequestTooLarge,
    Unbalanced,
    ValidationFailed,
    XinrenError,
)
from xinren.ledger import model
from xinren.ledger.model import (
    Account,
    Balance,
    ExpiryAction,
    Hold,
    HoldOp,
    HoldStatus,
    Leg,
    Meta,
    PostOp,
    Side,
    TransferOp,
    plan_batch,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def accounts() -> dict[str, Account]:
    return {
        "src": Account(1, "src", "CNY"),
        "a": Account(2, "a", "CNY", True, False, Balance(credits_posted=1000)),
        "b": Account(3, "b", "CNY", True, False),
        "usd": Account(4, "usd", "USD"),
        "cap": Account(5, "cap", "CNY", False, True),
    }


def move(key: str, debit: str, credit: str, amount: int) -> TransferOp:
    return TransferOp(Meta(key), (Leg(debit, Side.DEBIT, amount), Leg(credit, Side.CREDIT, amount)))


def only(plan: model.Plan) -> model.Planned | XinrenError:
    (outcome,) = plan.outcomes
    return outcome


def test_balanced_transfer_moves_money():
    plan = plan_batch([move("k", "a", "b", 400)], accounts(), {}, NOW, atomic=True)
    assert isinstance(only(plan), model.Planned)
    assert plan.accounts["a"].balance == Balance(debits_posted=400, credits_posted=1000)
    assert plan.changed_balances == {2: Balance(debits_posted=400), 3: Balance(credits_posted=400)}


@pytest.mark.parametrize(
    ("legs", "error"),
    [
        ((Leg("a", Side.DEBIT, 5), Leg("b", Side.CREDIT, 4)), Unbalanced),
        ((Leg("a", Side.DEBIT, 5), Leg("usd", Side.CREDIT, 5)), Unbalanced),
        ((Leg("a", Side.DEBIT, 5), Leg("nope", Side.CREDIT, 5)), NotFound),
        ((Leg("a", Side.DEBIT, 0), Leg("b", Side.CREDIT, 0)), ValidationFailed),
        ((Leg("a", Side.DEBIT, -5), Leg("b", Side.CREDIT, -5)), ValidationFailed),
        ((Leg("a", Side.DEBIT, 1.5), Leg("b", Side.CREDIT, 1.5)), ValidationFailed),  # type: ignore[arg-type]
        ((Leg("a", Side.DEBIT, 5),), Unbalanced),
        ((Leg("a", Side.DEBIT, 5001), Leg("b", Side.CREDIT, 5001)), LimitExceeded),
        ((Leg("src", Side.DEBIT, 5), Leg("cap", Side.CREDIT, 5)), LimitExceeded),
        ((Leg("BAD CODE", Side.DEBIT, 5), Leg("b", Side.CREDIT, 5)), ValidationFailed),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(legs, error):
    plan = plan_batch([TransferOp(Meta("k"), legs)], accounts(), {}, NOW, atomic=False)
    assert isinstance(only(plan), error)
    assert plan.changed_balances == {}


def test_unbalanced_error_names_the_currency_and_difference():
    op = TransferOp(Meta("k"), (Leg("a", Side.DEBIT, 500), Leg("b", Side.CREDIT, 400)))
    err = only(plan_batch([op], accounts(), {}, NOW, atomic=False))
    assert isinstance(err, Unbalanced)
    assert "CNY: debits exceed credits by ¥1.00" in err.detail


def test_multi_leg_merges_entries_per_account():
    op = TransferOp(
        Meta("k"),
        (Leg("a", Side.DEBIT, 300), Leg("b", Side.CREDIT, 200), Leg("b", Side.CREDIT, 100)),
    )
    planned = only(plan_batch([op], accounts(), {}, NOW, atomic=True))
    assert isinstance(planned, model.Planned)
    assert {d.account_id: d.balance for d in planned.entries} == {
        2: Balance(debits_posted=300),
        3: Balance(credits_posted=300),
    }


def test_hold_counts_against_limit_at_once():
    ops = [
        HoldOp(Meta("h"), "a", "b", 800),
        move("t", "a", "b", 300),  # only 200 left available
    ]
    plan = plan_batch(ops, accounts(), {}, NOW, atomic=False)
    assert isinstance(plan.outcomes[0], model.Planned)
    assert isinstance(plan.outcomes[1], LimitExceeded)
    assert plan.accounts["a"].balance.available == 200


def test_hold_validation():
    bad = [
        HoldOp(Meta("h"), "a", "a", 1),
        HoldOp(Meta("h"), "a", "b", 1, NOW + timedelta(days=1), None),
        HoldOp(Meta("h"), "a", "b", 1, NOW - timedelta(days=1), ExpiryAction.VOID),
        HoldOp(Meta("h"), "a", "usd", 1),
    ]
    for op in bad:
        outcome = only(plan_batch([op], accounts(), {}, NOW, atomic=False))
        assert isinstance(outcome, ValidationFailed | CurrencyMismatch), op


def pending_hold(**kw: object) -> Hold:
    base = dict(id=7, debit_account_id=2, credit_account_id=3, amount=600, currency="CNY")
    base.update(kw)
    return Hold(**base)  # type: ignore[arg-type]


def held_accounts() -> dict[str, Account]:
    accs = accounts()
    accs["a"] = Account(
        2, "a", "CNY", True, False, Balance(credits_posted=1000, debits_pending=600)
    )
    accs["b"] = Account(3, "b", "CNY", True, False, Balance(credits_pending=600))
    return accs


def test_partial_post_releases_the_rest():
    plan = plan_batch(
        [PostOp(Meta("p"), 7, 250)], held_accounts(), {7: pending_hold()}, NOW, atomic=True
    )
    planned = only(plan)
    assert isinstance(planned, model.Planned)
    assert planned.hold is not None and planned.hold.status is HoldStatus.POSTED
    assert plan.accounts["a"].balance == Balance(debits_posted=250, credits_posted=1000)
    assert plan.accounts["b"].balance == Balance(credits_posted=250)


def test_hold_resolves_exactly_once_within_a_batch():
    ops = [PostOp(Meta("p"), 7), model.VoidOp(Meta("v"), 7)]
    plan = plan_batch(ops, held_accounts(), {7: pending_hold()}, NOW, atomic=False)
    assert isinstance(plan.outcomes[0], model.Planned)
    assert isinstance(plan.outcomes[1], HoldNotPending)


def test_post_more_than_held_is_refused():
    outcome = only(
        plan_batch(
            [PostOp(Meta("p"), 7, 601)], held_accounts(), {7: pending_hold()}, NOW, atomic=False
        )
    )
    assert isinstance(outcome, Conflict)


def test_pause_and_resume_keep_the_remaining_time():
    hold = pending_hold(expires_at=NOW + timedelta(days=10), expiry_action=ExpiryAction.POST)
    paused = only(
        plan_batch(
            [model.PauseOp(Meta("p"), 7)],
            held_accounts(),
            {7: hold},
            NOW + timedelta(days=3),
            atomic=True,
        )
    )
    assert isinstance(paused, model.Planned) and paused.hold is not None
    assert paused.hold.paused_remaining == timedelta(days=7)
    later = NOW + timedelta(days=20)
    resumed = only(
        plan_batch(
            [model.ResumeOp(Meta("r"), 7)], held_accounts(), {7: paused.hold}, later, atomic=True
        )
    )
    assert isinstance(resumed, model.Planned) and resumed.hold is not None
    assert resumed.hold.expires_at == later + timedelta(days=7)
    assert not resumed.hold.paused


def test_extend_must_move_expiry_later():
    hold = pending_hold(expires_at=NOW + timedelta(days=1), expiry_action=ExpiryAction.VOID)
    earlier = model.ExtendOp(Meta("e"), 7, NOW)
    assert isinstance(
        only(plan_batch([earlier], held_accounts(), {7: hold}, NOW, atomic=False)), ValidationFailed
    )
    later = model.ExtendOp(Meta("e"), 7, NOW + timedelta(days=5))
    ok = only(plan_batch([later], held_accounts(), {7: hold}, NOW, atomic=False))
    assert isinstance(ok, model.Planned) and ok.hold is not None
    assert ok.hold.expires_at == NOW + timedelta(days=5)


def test_atomic_batch_refuses_all_when_one_fails():
    ops = [move("1", "a", "b", 100), move("2", "a", "b", 5000), move("3", "a", "b", 100)]
    plan = plan_batch(ops, accounts(), {}, NOW, atomic=True)
    assert all(isinstance(o, XinrenError) for o in plan.outcomes)
    assert isinstance(plan.outcomes[1], LimitExceeded)
    assert plan.changed_balances == {}


def test_non_atomic_batch_applies_the_good_ones_in_order():
    ops = [move("1", "a", "b", 600), move("2", "a", "b", 600), move("3", "a", "b", 400)]
    plan = plan_batch(ops, accounts(), {}, NOW, atomic=False)
    assert [type(o).__name__ for o in plan.outcomes] == ["Planned", "LimitExceeded", "Planned"]
    assert plan.accounts["a"].balance.available == 0


def test_oversized_batch_is_refused():
    with pytest.raises(RequestTooLarge):
        plan_batch(
            [move(str(i), "a", "b", 1) for i in range(model.MAX_BATCH + 1)],
            accounts(),
            {},
            NOW,
            atomic=False,
        )


def test_account_flags_and_codes():
    with pytest.raises(ValidationFailed):
        model.check_account_flags(True, True)
    assert model.check_code("merchant:42:available") == "merchant:42:available"
    with pytest.raises(ValidationFailed):
        model.check_code("Merchant 42")


def test_block_hash_depends_on_every_input():
    base = model.block_hash(1, model.GENESIS, ["a", "b"])
    assert base != model.block_hash(2, model.GENESIS, ["a", "b"])
    assert base != model.block_hash(1, "1" * 64, ["a", "b"])
    assert base != model.block_hash(1, model.GENESIS, ["a", "c"])
    assert base != model.block_hash(1, model.GENESIS, ["b", "a"])
