"""The set-based write paths (PostgreSQL's one statement, SQLite's fixed SQL on the cursor) store
exactly what the pure model planned, for random batches of transfers, holds, posts and voids,
with refusals (overdrafts, unknown accounts, posts of resolved holds) and replays mixed in."""

from __future__ import annotations

import itertools

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from xinren.db import is_postgres
from xinren.errors import XinrenError
from xinren.ledger import model, service, storage
from xinren.ledger.model import Balance, Meta
from xinren.ledger.tables import entries, holds, transfers

_run = itertools.count()

# (kind, debit index, credit index, amount); index 4 names an account that does not exist
step = st.tuples(
    st.sampled_from(["transfer", "transfer", "hold", "post", "void", "replay"]),
    st.integers(0, 4),
    st.integers(0, 3),
    st.integers(1, 900),
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(step, min_size=1, max_size=12), min_size=1, max_size=4))
def test_random_batches_store_what_the_model_planned(session, clock, batches):
    run = next(_run)
    codes = [f"p{run}:a{i}" for i in range(4)] + [f"p{run}:missing"]
    service.create_account(session, clock, codes[0], "CNY")
    for code in codes[1:4]:
        service.create_account(session, clock, code, "CNY", debits_must_not_exceed_credits=True)
    service.move(session, clock, f"p{run}-fund", codes[0], codes[1], 1_000)
    session.commit()
    held: list[int] = []
    used: list[model.Operation] = []
    for b, batch in enumerate(batches):
        ops = _ops(run, b, batch, codes, held, used)
        before = {c: a for c in codes[:4] if (a := service.get_account(session, c))}
        hold_ids = sorted({op.hold_id for op in ops if isinstance(op, model.HoldChange)})
        hold_state = {h: service.get_hold(session, h) for h in hold_ids}
        outcomes = service.submit(session, clock, ops)
        session.commit()
        fresh = [(op, o) for op, o in zip(ops, outcomes, strict=True) if not _replayed(o)]
        plan = model.plan_batch(
            [op for op, _ in fresh], before, hold_state, clock.now(), atomic=False
        )
        for (op, got), want in zip(fresh, plan.outcomes, strict=True):
            if isinstance(want, XinrenError):
                assert type(got) is type(want) and str(got) == str(want), op
            else:
                assert not isinstance(got, XinrenError), (op, got)
                used.append(op)
                if isinstance(op, model.HoldOp):
                    assert got.hold_id is not None
                    held.append(got.hold_id)
        for code, account in plan.accounts.items():
            assert service.get_account(session, code).balance == account.balance
            assert _journal_total(session, account.id) == account.balance
        for hold_id, hold in plan.holds.items():
            stored = service.get_hold(session, hold_id)
            assert (stored.status, stored.posted_amount) == (hold.status, hold.posted_amount)


def _ops(run, b, batch, codes, held, used) -> list[model.Operation]:
    ops: list[model.Operation] = []
    for n, (kind, d, c, amount) in enumerate(batch):
        meta = Meta(f"p{run}-{b}-{n}")
        if kind == "replay" and used:
            op = used[amount % len(used)]
            if op.meta.key not in {o.meta.key for o in ops}:
                ops.append(op)
        elif kind in ("post", "void") and held:
            hold_id = held[amount % len(held)]
            ops.append(
                model.PostOp(meta, hold_id, None if amount % 2 else 1)
                if kind == "post"
                else model.VoidOp(meta, hold_id)
            )
        elif kind == "hold" and codes[d] != codes[c]:
            ops.append(model.HoldOp(meta, codes[d], codes[c], amount))
        elif codes[d] != codes[c]:
            legs = (
                model.Leg(codes[d], model.Side.DEBIT, amount),
                model.Leg(codes[c], model.Side.CREDIT, amount),
            )
            ops.append(model.TransferOp(meta, legs))
    return ops or [model.TransferOp(Meta(f"p{run}-{b}-x"), _legs(codes[0], codes[1], 1))]


def _legs(debit: str, credit: str, amount: int) -> tuple[model.Leg, ...]:
    return (
        model.Leg(debit, model.Side.DEBIT, amount),
        model.Leg(credit, model.Side.CREDIT, amount),
    )


def _replayed(outcome: service.Outcome) -> bool:
    return isinstance(outcome, service.Result) and outcome.replayed


def _journal_total(session, account_id: int) -> Balance:
    row = session.execute(
        select(
            func.coalesce(func.sum(entries.c.debits_posted), 0),
            func.coalesce(func.sum(entries.c.credits_posted), 0),
            func.coalesce(func.sum(entries.c.debits_pending), 0),
            func.coalesce(func.sum(entries.c.credits_pending), 0),
        ).where(entries.c.account_id == account_id)
    ).one()
    return Balance(*(int(x) for x in row))


def test_a_broken_limit_at_write_leaves_nothing_of_the_batch(session, clock):
    """The last line of defence: if the model's check were wrong, the tables' constraints refuse
    the batch and none of it stays in the transaction."""
    service.create_account(session, clock, "lim:a", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(session, clock, "lim:b", "CNY")
    a = service.get_account(session, "lim:a")
    b = service.get_account(session, "lim:b")
    counts = [_count(session, t) for t in (transfers, entries, holds)]
    rows = storage.Rows()
    rows.transfers.append(("lim-1", "transfer", "0" * 64, "", None, None, clock.now()))
    rows.entries += [("lim-1", a.id, Balance(5, 0)), ("lim-1", b.id, Balance(0, 5))]
    if is_postgres(session):  # a failed statement aborts the transaction: a savepoint keeps it
        with pytest.raises(psycopg.IntegrityError), session.begin_nested():
            storage.write(session, rows)
    else:  # SQLite undoes the failed statement only; the write must not have written before it
        with pytest.raises(IntegrityError):
            storage.write(session, rows)
    assert [_count(session, t) for t in (transfers, entries, holds)] == counts
    assert service.get_account(session, "lim:a").balance == Balance()


def _count(session, table) -> int:
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_key_taken_between_load_and_write_moves_nothing_for_it(session, clock):
    """`write` claims keys with ON CONFLICT DO NOTHING; a key already used moves no balance and
    writes no entry, so `submit` can report it (ConcurrentRequest) and the rest stays coherent."""
    service.create_account(session, clock, "tk:a", "CNY")
    service.create_account(session, clock, "tk:b", "CNY")
    service.move(session, clock, "tk-taken", "tk:a", "tk:b", 1)
    a, b = service.get_account(session, "tk:a"), service.get_account(session, "tk:b")
    rows = storage.Rows()
    for key in ("tk-taken", "tk-free"):
        rows.transfers.append((key, "transfer", "0" * 64, "", None, None, clock.now()))
        rows.entries += [(key, a.id, Balance(7, 0)), (key, b.id, Balance(0, 7))]
    written = storage.write(session, rows)
    assert set(written.claimed) == {"tk-free"}
    assert service.get_account(session, "tk:a").balance == a.balance + Balance(7, 0)
    assert service.get_account(session, "tk:b").balance == b.balance + Balance(0, 7)
    assert _journal_total(session, a.id) == a.balance + Balance(7, 0)
