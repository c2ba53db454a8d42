"""Clearing shards: a busy account split so concurrent orders lock different rows, and the sweep
that moves the shards' balances into it (`xinren.ledger.shards`)."""

from __future__ import annotations

import pytest

from tests.integrity.world import while_in_flight
from xinren.cli.serve import tick_once
from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.errors import AlreadyExists
from xinren.ledger import journal, model
from xinren.ledger import service as ledger
from xinren.timers import service as timers

# --- pure -------------------------------------------------------------------------------------


def test_a_shard_is_named_after_its_account():
    assert model.shard_code("psp:cny", 7) == "psp:cny:s07"
    assert model.shard_code("psp:cny", 99) == "psp:cny:s99"
    with pytest.raises(ValueError):
        model.shard_code("psp:cny", 100)


def test_a_sweep_zeroes_each_shard_and_moves_the_net():
    (op,) = model.plan_sweep("p", [("p:s00", 500), ("p:s01", -200), ("p:s02", 0)], "k")
    legs = {(leg.account, leg.side, leg.amount) for leg in op.legs}
    assert legs == {
        ("p:s00", model.Side.DEBIT, 500),
        ("p:s01", model.Side.CREDIT, 200),
        ("p", model.Side.CREDIT, 300),
    }
    assert op.meta.key == "k:0" and op.meta.reason == "sweep"
    model.validate(op)  # balanced, within the leg limit


def test_a_sweep_of_shards_that_cancel_out_leaves_the_account_alone():
    (op,) = model.plan_sweep("p", [("p:s00", 50), ("p:s01", -50)], "k")
    assert {leg.account for leg in op.legs} == {"p:s00", "p:s01"}


def test_a_sweep_of_many_shards_keeps_within_the_leg_limit():
    moved = [(f"p:s{k:02d}", k + 1) for k in range(100)]
    ops = model.plan_sweep("p", moved, "k")
    assert [op.meta.key for op in ops] == ["k:0", "k:1"]
    assert all(len(op.legs) <= model.MAX_LEGS for op in ops)
    for op in ops:
        model.validate(op)
    into = sum(leg.amount for op in ops for leg in op.legs if leg.account == "p")
    assert into == sum(net for _, net in moved)


# --- on the database --------------------------------------------------------------------------


def _shards(session, clock, parent="platform:commission:cny", *, limited=True, n=3):
    return ledger.open_shards(session, clock, parent, n, "CNY", limited=limited, internal=True)


def test_the_sweep_moves_every_shard_into_its_account(session, clock):
    ledger.create_account(session, clock, "bank:in", "CNY")
    shards = _shards(session, clock)
    for i, code in enumerate(shards):
        ledger.move(session, clock, f"in-{i}", "bank:in", code, 100 * (i + 1))
    assert ledger.get_account(session, "platform:commission:cny").balance.net == 0
    assert ledger.family_balance(session, "platform:commission:cny").net == 600

    assert ledger.sweep(session, clock) == 3
    assert ledger.get_account(session, "platform:commission:cny").balance.net == 600
    assert all(ledger.get_account(session, c).balance.net == 0 for c in shards)
    assert ledger.family_balance(session, "platform:commission:cny").net == 600
    assert journal.verify(session).ok
    assert ledger.sweep(session, clock) == 0  # nothing left to move
    assert [t.kind for t in timers.pending(session)] == []  # it asks for no timer


def test_a_debit_shard_is_swept_the_other_way(session, clock):
    ledger.create_account(session, clock, "escrow:x", "CNY")
    (shard,) = _shards(session, clock, "psp:cny", limited=False, n=1)
    ledger.move(session, clock, "pay", shard, "escrow:x", 900)
    assert ledger.sweep(session, clock) == 1
    assert ledger.get_account(session, "psp:cny").balance.net == -900
    assert ledger.get_account(session, shard).balance.net == 0


def test_a_shard_with_a_pending_hold_waits(session, clock):
    ledger.create_account(session, clock, "bank:in", "CNY")
    ledger.create_account(session, clock, "bank:out", "CNY")
    (shard,) = _shards(session, clock, n=1)
    ledger.move(session, clock, "in", "bank:in", shard, 500)
    ledger.hold(session, clock, "h", shard, "bank:out", 100)
    assert ledger.sweep(session, clock) == 0
    assert ledger.get_account(session, shard).balance.net == 500


def test_the_timer_loop_sweeps(fresh_url):
    """`xinren tick` and the loop of `xinren serve` sweep after the due timers."""
    engine = make_engine(fresh_url)
    factory = session_factory(engine)
    clock = SystemClock()
    with unit_of_work(factory) as s:
        ledger.create_account(s, clock, "bank:in", "CNY")
        (shard,) = _shards(s, clock, n=1)
        ledger.move(s, clock, "in", "bank:in", shard, 70)
    assert tick_once(engine)[1] == 1
    assert tick_once(engine)[1] == 0
    with unit_of_work(factory) as s:
        assert ledger.get_account(s, "platform:commission:cny").balance.net == 70
    engine.dispose()


def test_a_family_is_opened_at_once_and_only_as_what_it_is(session, clock):
    first = _shards(session, clock, n=4)
    assert first == [f"platform:commission:cny:s{k:02d}" for k in range(4)]
    assert _shards(session, clock, n=4) == first  # the code is the key
    parent = ledger.get_account(session, "platform:commission:cny")
    assert [ledger.get_account(session, c).currency for c in first] == ["CNY"] * 4
    assert parent.debits_must_not_exceed_credits
    with pytest.raises(AlreadyExists) as err:
        ledger.create_account(
            session,
            clock,
            "platform:commission:cny:s00",
            "CNY",
            debits_must_not_exceed_credits=True,
        )
    assert err.value.field == "sweep_into"
    with pytest.raises(AlreadyExists) as err:
        ledger.create_account(
            session, clock, "other:s00", "USD", sweep_into="platform:commission:cny"
        )
    assert err.value.field == "currency"


@pytest.mark.postgres
def test_the_sweep_skips_a_shard_an_order_holds_and_takes_it_next_time(fresh_url):
    """It never waits on an order in flight: the locked shard waits for the next tick."""
    engine = make_engine(fresh_url)
    factory = session_factory(engine)
    clock = SystemClock()
    with unit_of_work(factory) as s:
        ledger.create_account(s, clock, "bank:in", "CNY")
        shards = _shards(s, clock, n=2)
        for i, code in enumerate(shards):
            ledger.move(s, clock, f"in-{i}", "bank:in", code, 10)
    swept = while_in_flight(
        factory,
        lambda s: ledger.move(s, clock, "in-flight", "bank:in", shards[0], 5),
        lambda s: ledger.sweep(s, clock),
    )
    assert swept == 1  # shard 1 only, without waiting
    with unit_of_work(factory) as s:
        assert ledger.get_account(s, "platform:commission:cny").balance.net == 10
        assert ledger.sweep(s, clock) == 1  # the next tick takes it
        assert ledger.get_account(s, "platform:commission:cny").balance.net == 25
    engine.dispose()
