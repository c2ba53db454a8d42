"""The ledger service on a real database (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from xinren.errors import (
    AlreadyExists,
    HoldNotPending,
    IdempotencyKeyReused,
    LimitExceeded,
    NotFound,
    UnknownCurrency,
    ValidationFailed,
    XinrenError,
)
from xinren.ledger import journal, model, service
from xinren.ledger.model import Balance, HoldStatus, Meta
from xinren.ledger.tables import entries, transfers
from xinren.timers import service as timers


@pytest.fixture
def books(session, clock):
    service.create_account(session, clock, "psp", "CNY")
    service.create_account(session, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(session, clock, "merchant", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(session, clock, "fee", "CNY", debits_must_not_exceed_credits=True)
    service.move(session, clock, "fund", "psp", "escrow", 10_000)
    session.commit()
    return session


def bal(session, code: str) -> Balance:
    return service.get_account(session, code).balance


def count(session, table) -> int:
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_create_account_is_idempotent_by_code(session, clock):
    a = service.create_account(session, clock, "x:1", "CNY")
    assert service.create_account(session, clock, "x:1", "CNY") == a
    with pytest.raises(AlreadyExists, match="currency"):
        service.create_account(session, clock, "x:1", "USD")
    with pytest.raises(UnknownCurrency):
        service.create_account(session, clock, "x:2", "RMB")
    with pytest.raises(ValidationFailed):
        service.create_account(
            session,
            clock,
            "x:3",
            "CNY",
            debits_must_not_exceed_credits=True,
            credits_must_not_exceed_debits=True,
        )


def test_transfer_and_replay(books, clock):
    s = books
    first = service.move(
        s, clock, "t1", "escrow", "merchant", 2_500, reason="settle", refs={"order": "42"}
    )
    again = service.move(
        s, clock, "t1", "escrow", "merchant", 2_500, reason="settle", refs={"order": "42"}
    )
    assert again.replayed and again.id == first.id and not first.replayed
    assert bal(s, "merchant").net == 2_500
    assert bal(s, "escrow").net == 7_500
    view = service.get_transfer(s, first.id)
    assert view.refs == {"order": "42"} and view.reason == "settle"
    assert {code for code, _ in view.entries} == {"escrow", "merchant"}


def test_same_key_different_payload_is_rejected_and_changes_nothing(books, clock):
    s = books
    service.move(s, clock, "t1", "escrow", "merchant", 2_500)
    before = (count(s, transfers), count(s, entries), bal(s, "merchant"))
    with pytest.raises(IdempotencyKeyReused, match="'t1'"):
        service.move(s, clock, "t1", "escrow", "merchant", 2_501)
    with pytest.raises(IdempotencyKeyReused):
        service.move(s, clock, "t1", "escrow", "merchant", 2_500, reason="other")
    assert (count(s, transfers), count(s, entries), bal(s, "merchant")) == before


def test_refused_transfer_leaves_nothing_and_key_stays_free(books, clock):
    s = books
    before = (count(s, transfers), count(s, entries))
    with pytest.raises(LimitExceeded, match="escrow"):
        service.move(s, clock, "big", "escrow", "merchant", 10_001)
    assert (count(s, transfers), count(s, entries)) == before
    # the refusal recorded nothing, so the key can be used once the money is there
    service.move(s, clock, "top-up", "psp", "escrow", 1)
    assert not service.move(s, clock, "big", "escrow", "merchant", 10_001).replayed


def test_unknown_account_is_refused(books, clock):
    with pytest.raises(NotFound, match="nobody"):
        service.move(books, clock, "k", "escrow", "nobody", 1)


def test_hold_post_partial_and_exactly_once(books, clock):
    s = books
    h = service.hold(s, clock, "h", "escrow", "merchant", 6_000)
    assert h.hold_id is not None
    assert bal(s, "escrow").available == 4_000
    with pytest.raises(LimitExceeded):
        service.move(s, clock, "too-much", "escrow", "fee", 4_001)
    service.post(s, clock, "p", h.hold_id, 3_500)
    assert bal(s, "escrow") == Balance(debits_posted=3_500, credits_posted=10_000)
    assert bal(s, "merchant") == Balance(credits_posted=3_500)
    held = service.get_hold(s, h.hold_id)
    assert held.status is HoldStatus.POSTED and held.posted_amount == 3_500
    with pytest.raises(HoldNotPending):
        service.void(s, clock, "v", h.hold_id)
    with pytest.raises(HoldNotPending):
        service.post(s, clock, "p2", h.hold_id)
    assert service.post(s, clock, "p", h.hold_id, 3_500).replayed


def test_void_releases_everything(books, clock):
    s = books
    h = service.hold(s, clock, "h", "escrow", "merchant", 6_000)
    service.void(s, clock, "v", h.hold_id)
    assert bal(s, "escrow") == Balance(credits_posted=10_000)
    assert bal(s, "merchant") == Balance()


def test_hold_replay_returns_the_same_hold(books, clock):
    s = books
    h1 = service.hold(s, clock, "h", "escrow", "merchant", 100)
    h2 = service.hold(s, clock, "h", "escrow", "merchant", 100)
    assert h2.replayed and h2.hold_id == h1.hold_id
    assert bal(s, "escrow").debits_pending == 100


def test_hold_expiry_posts_through_the_timer_runner(books, clock, factory):
    s = books
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        1_000,
        expires_at=clock.now() + timedelta(days=10),
        expiry_action="post",
    )
    s.commit()
    clock.advance(days=9)
    assert timers.run_due(factory, clock) == 0
    clock.advance(days=1)
    assert timers.run_due(factory, clock) == 1
    assert timers.run_due(factory, clock) == 0
    assert service.get_hold(s, h.hold_id).status is HoldStatus.POSTED
    assert bal(s, "merchant").net == 1_000


def test_pause_stops_the_countdown_and_resume_restarts_it(books, clock, factory):
    s = books
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        1_000,
        expires_at=clock.now() + timedelta(days=10),
        expiry_action="void",
    )
    clock.advance(days=4)
    service.pause(s, clock, "pause", h.hold_id)
    s.commit()
    clock.advance(days=30)
    assert timers.run_due(factory, clock) == 0
    service.resume(s, clock, "resume", h.hold_id)
    s.commit()
    clock.advance(days=5)
    assert timers.run_due(factory, clock) == 0
    clock.advance(days=1)
    assert timers.run_due(factory, clock) == 1
    assert service.get_hold(s, h.hold_id).status is HoldStatus.VOIDED
    assert bal(s, "escrow").available == 10_000


def test_extend_moves_the_timer(books, clock, factory):
    s = books
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        1_000,
        expires_at=clock.now() + timedelta(days=1),
        expiry_action="post",
    )
    service.extend(s, clock, "ext", h.hold_id, clock.now() + timedelta(days=3))
    s.commit()
    clock.advance(days=2)
    assert timers.run_due(factory, clock) == 0
    clock.advance(days=1)
    assert timers.run_due(factory, clock) == 1
    assert service.get_hold(s, h.hold_id).status is HoldStatus.POSTED


def test_resolved_hold_cancels_its_timer(books, clock, factory):
    s = books
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        1_000,
        expires_at=clock.now() + timedelta(days=1),
        expiry_action="post",
    )
    service.void(s, clock, "v", h.hold_id)
    s.commit()
    clock.advance(days=2)
    assert timers.run_due(factory, clock) == 0
    assert service.get_hold(s, h.hold_id).status is HoldStatus.VOIDED


def test_batch_each_with_its_own_result(books, clock):
    s = books
    ops = [
        model.TransferOp(
            Meta("b1"),
            (
                model.Leg("escrow", model.Side.DEBIT, 6_000),
                model.Leg("merchant", model.Side.CREDIT, 6_000),
            ),
        ),
        model.TransferOp(
            Meta("b2"),
            (
                model.Leg("escrow", model.Side.DEBIT, 6_000),
                model.Leg("merchant", model.Side.CREDIT, 6_000),
            ),
        ),
        model.HoldOp(Meta("b3"), "escrow", "fee", 4_000),
    ]
    outcomes = service.submit(s, clock, ops)
    assert isinstance(outcomes[0], service.Result)
    assert isinstance(outcomes[1], LimitExceeded)
    assert isinstance(outcomes[2], service.Result) and outcomes[2].hold_id
    assert bal(s, "escrow").available == 0
    # replay the whole batch: the two accepted replay, the refused one is re-evaluated
    again = service.submit(s, clock, ops)
    assert isinstance(again[0], service.Result) and again[0].replayed
    assert isinstance(again[1], LimitExceeded)
    assert isinstance(again[2], service.Result) and again[2].replayed


def test_atomic_batch_all_or_nothing(books, clock):
    s = books
    before = (count(s, transfers), count(s, entries))
    ops = [
        model.TransferOp(
            Meta("a1"),
            (
                model.Leg("escrow", model.Side.DEBIT, 100),
                model.Leg("merchant", model.Side.CREDIT, 100),
            ),
        ),
        model.TransferOp(
            Meta("a2"),
            (
                model.Leg("escrow", model.Side.DEBIT, 20_000),
                model.Leg("merchant", model.Side.CREDIT, 20_000),
            ),
        ),
    ]
    outcomes = service.submit(s, clock, ops, atomic=True)
    assert all(isinstance(o, XinrenError) for o in outcomes)
    assert (count(s, transfers), count(s, entries)) == before
    assert bal(s, "merchant") == Balance()


def test_duplicate_key_within_a_batch_is_refused(books, clock):
    op = model.TransferOp(
        Meta("dup"),
        (model.Leg("psp", model.Side.DEBIT, 1), model.Leg("escrow", model.Side.CREDIT, 1)),
    )
    with pytest.raises(ValidationFailed, match="twice"):
        service.submit(books, clock, [op, op])


def test_history_is_paginated_in_journal_order(books, clock):
    s = books
    for i in range(5):
        service.move(s, clock, f"m{i}", "escrow", "merchant", 10 + i)
    page1 = service.history(s, "merchant", limit=3)
    page2 = service.history(s, "merchant", after=page1[-1].entry_id, limit=3)
    amounts = [h.change.credits_posted for h in page1 + page2]
    assert amounts == [10, 11, 12, 13, 14]


def test_seal_and_verify(books, clock):
    s = books
    h = service.hold(s, clock, "h", "escrow", "merchant", 500)
    service.post(s, clock, "p", h.hold_id)
    assert journal.seal(s, clock) > 0
    assert journal.seal(s, clock) == 0
    service.move(s, clock, "late", "escrow", "fee", 5)
    report = journal.verify(s)
    assert report.ok, report.problems
    assert report.unsealed == 2 and report.blocks == 1
    journal.seal(s, clock)
    report = journal.verify(s)
    assert report.ok and report.blocks == 2 and report.unsealed == 0


def test_callers_cannot_take_the_key_of_a_future_expiry(books, clock, factory):
    s = books
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        1_000,
        expires_at=clock.now() + timedelta(hours=1),
        expiry_action="void",
    )
    with pytest.raises(ValidationFailed, match="reserved"):
        service.move(s, clock, f"sys:expire:{h.hold_id}", "psp", "escrow", 1)
    service.move(s, clock, f"expire-{h.hold_id}", "psp", "escrow", 1)  # an ordinary key
    s.commit()
    clock.advance(hours=2)
    assert timers.run_due(factory, clock) == 1
    assert service.get_hold(s, h.hold_id).status is HoldStatus.VOIDED
    assert timers.pending(s) == []
