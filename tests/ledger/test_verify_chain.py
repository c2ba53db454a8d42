"""The version 2 hash chain covers every column a tamperer could change: the entry, all of its
transfer, its account's unchanging columns, the hold a transfer created, transfers that have no
entries (extend, pause, resume), and the block's own columns.

Each tamper is plain SQL through the session after sealing, as an attacker or a bug would do."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, insert, select, update

from xinren.ledger import journal, model, service
from xinren.ledger.journal import lines
from xinren.ledger.model import HoldOp, Leg, Meta, Side, TransferOp
from xinren.ledger.tables import accounts, entries, holds, seals, transfers


def tid(session, key: str) -> int:
    return session.execute(
        select(transfers.c.id).where(transfers.c.idempotency_key == key)
    ).scalar_one()


def has_entries(session, transfer: int) -> bool:
    q = select(entries.c.id).where(entries.c.transfer_id == transfer).limit(1)
    return session.execute(q).first() is not None


@pytest.fixture
def ledger(session, clock):
    """A ledger that used every operation: transfers, holds with expiry, extend, pause, resume,
    partial post, void, and batches (all-or-nothing, and one with a refusal); sealed."""
    s = session
    service.create_account(s, clock, "psp", "CNY")
    service.create_account(s, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(s, clock, "merchant", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(s, clock, "fee", "CNY", debits_must_not_exceed_credits=True)
    service.move(s, clock, "fund", "psp", "escrow", 10_000, reason="paid", refs={"order": "1001"})
    soon = clock.now() + timedelta(days=1)
    h1 = service.hold(
        s, clock, "h1", "escrow", "merchant", 500, expires_at=soon, expiry_action="void"
    )
    service.extend(s, clock, "x1", h1.hold_id, soon + timedelta(days=1))
    service.pause(s, clock, "p1", h1.hold_id)
    clock.advance(hours=1)
    service.resume(s, clock, "r1", h1.hold_id)
    service.post(s, clock, "po1", h1.hold_id, 300, reason="delivered", refs={"order": "1001"})
    h2 = service.hold(s, clock, "h2", "escrow", "merchant", 200)
    service.void(s, clock, "v2", h2.hold_id)
    outcomes = service.submit(
        s,
        clock,
        [
            TransferOp(
                Meta("b1", "fee", {"order": "1002"}),
                (Leg("merchant", Side.DEBIT, 30), Leg("fee", Side.CREDIT, 30)),
            ),
            HoldOp(Meta("b2"), "escrow", "merchant", 50),
        ],
        atomic=True,
    )
    assert all(isinstance(o, service.Result) for o in outcomes)
    refused, accepted = service.submit(
        s,
        clock,
        [
            TransferOp(Meta("b3"), (Leg("fee", Side.DEBIT, 999), Leg("psp", Side.CREDIT, 999))),
            TransferOp(Meta("b4"), (Leg("fee", Side.DEBIT, 10), Leg("psp", Side.CREDIT, 10))),
        ],
    )
    assert not isinstance(refused, service.Result) and isinstance(accepted, service.Result)
    s.commit()
    assert journal.seal(s, clock) > 0
    report = journal.verify(s)
    assert report.ok, report.problems
    return SimpleNamespace(session=s, h1=h1.hold_id, h2=h2.hold_id, b2=outcomes[1].hold_id)


def chain_problems(session) -> list[str]:
    return [p for p in journal.verify(session).problems if p.startswith("seal block")]


def assert_chain_broken(session, block: int = 1) -> None:
    assert any(p.startswith(f"seal block {block}: hash mismatch") for p in chain_problems(session))


# --- a clean ledger ---------------------------------------------------------------------------


def test_a_ledger_that_used_every_operation_verifies(ledger, clock):
    s = ledger.session
    report = journal.verify(s)
    assert report.ok, report.problems
    assert (report.blocks, report.unsealed, report.unsealed_transfers) == (1, 0, 0)
    assert journal.seal(s, clock) == 0  # nothing new: no empty block
    # the transfers without entries were sealed as lines of their own
    lone = [tid(s, k) for k in ("x1", "p1", "r1")]
    assert not any(has_entries(s, t) for t in lone)
    assert s.execute(select(seals.c.transfer_ids)).scalar_one() == lone
    service.move(s, clock, "late", "escrow", "fee", 5)
    report = journal.verify(s)
    assert report.ok and report.unsealed == 2, report.problems
    assert journal.seal(s, clock) == 2
    report = journal.verify(s)
    assert report.ok and report.blocks == 2 and report.unsealed == 0, report.problems


def test_a_transfer_without_entries_made_after_sealing_is_sealed_next(ledger, clock):
    s = ledger.session
    h = service.hold(
        s,
        clock,
        "h3",
        "escrow",
        "merchant",
        5,
        expires_at=clock.now() + timedelta(hours=2),
        expiry_action="post",
    )
    journal.seal(s, clock)
    service.pause(s, clock, "p3", h.hold_id)
    report = journal.verify(s)
    assert report.ok and report.unsealed_transfers == 1, report.problems
    assert journal.seal(s, clock) == 1
    report = journal.verify(s)
    assert report.ok and report.unsealed_transfers == 0, report.problems
    s.execute(update(transfers).where(transfers.c.id == tid(s, "p3")).values(reason="forged"))
    assert_chain_broken(s, block=3)


# --- every column of a sealed transfer ---------------------------------------------------------


def forged(session, key: str, column: str, hold_ids: tuple[int, int]) -> dict[str, object]:
    row = session.execute(select(transfers).where(transfers.c.idempotency_key == key)).one()
    other_kind = {"transfer": "void", "post": "void", "extend": "pause"}[row.kind]
    other_hold = hold_ids[1] if row.hold_id == hold_ids[0] else hold_ids[0]
    return {
        "reason": "forged",
        "refs": {"order": "9999"},
        "created_at": row.created_at + timedelta(seconds=1),
        "idempotency_key": "forged",
        "payload_hash": "f" * 64,
        "kind": other_kind,
        "hold_id": other_hold,
    }[column]


NEW_IN_V2 = ["reason", "refs", "created_at", "hold_id"]
ALL_COLUMNS = [*NEW_IN_V2, "idempotency_key", "payload_hash", "kind"]


@pytest.mark.parametrize("column", NEW_IN_V2)
@pytest.mark.parametrize("key", ["fund", "po1"])
def test_changing_a_sealed_transfer_with_entries_breaks_the_chain(ledger, key, column):
    # (its key, payload hash and kind were covered by version 1 already: see test_journal)
    s = ledger.session
    value = forged(s, key, column, (ledger.h1, ledger.h2))
    s.execute(update(transfers).where(transfers.c.idempotency_key == key).values({column: value}))
    assert_chain_broken(s)


@pytest.mark.parametrize("column", ALL_COLUMNS)
def test_changing_a_sealed_transfer_without_entries_breaks_the_chain(ledger, column):
    s = ledger.session
    value = forged(s, "x1", column, (ledger.h1, ledger.h2))
    s.execute(update(transfers).where(transfers.c.idempotency_key == "x1").values({column: value}))
    assert_chain_broken(s)


def test_deleting_a_sealed_transfer_without_entries_is_found(ledger):
    s = ledger.session
    t = tid(s, "r1")
    s.execute(delete(transfers).where(transfers.c.id == t))
    assert f"seal block 1: transfer {t}, sealed in it, does not exist" in chain_problems(s)


def test_refs_in_another_key_order_are_the_same_refs(ledger):
    s = ledger.session
    t = tid(s, "b1")
    s.execute(update(transfers).where(transfers.c.id == t).values(refs={"order": "1002"}))
    assert journal.verify(s).ok
    s.execute(update(transfers).where(transfers.c.id == t).values(refs={"order": "1002", "x": "y"}))
    assert_chain_broken(s)


# --- the hold a transfer created, and the accounts ---------------------------------------------


@pytest.mark.parametrize(
    "column, value",
    [
        ("amount", 450),
        ("debit_account_id", "credit"),
        ("credit_account_id", "debit"),
        ("currency", "USD"),
        ("expiry_action", "post"),
    ],
)
def test_changing_a_sealed_holds_unchanging_columns_breaks_the_chain(ledger, column, value):
    s = ledger.session
    hold = s.execute(select(holds).where(holds.c.id == ledger.h1)).one()
    if value in ("debit", "credit"):  # swap the two accounts
        value = getattr(hold, f"{value}_account_id")
    s.execute(update(holds).where(holds.c.id == ledger.h1).values({column: value}))
    assert_chain_broken(s)


@pytest.mark.parametrize(
    "code, column, value",
    [
        ("fee", "code", "fee:forged"),
        ("fee", "currency", "USD"),
        ("fee", "debits_must_not_exceed_credits", False),
        ("psp", "credits_must_not_exceed_debits", True),
        ("fee", "owner", "orders"),  # an account passed off as a context's own
    ],
)
def test_changing_a_sealed_accounts_unchanging_columns_breaks_the_chain(
    ledger, code, column, value
):
    s = ledger.session
    s.execute(update(accounts).where(accounts.c.code == code).values({column: value}))
    assert_chain_broken(s)


# --- the block's own columns ------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, value",
    [
        ("version", 1),
        ("transfer_ids", []),
        ("transfer_horizon", 1),
        ("late_transfer_ids", [[1, 0]]),
    ],
)
def test_changing_a_blocks_own_columns_is_found(ledger, column, value):
    s = ledger.session
    s.execute(update(seals).where(seals.c.id == 1).values({column: value}))
    assert any(p.startswith("seal block 1:") for p in chain_problems(s)), chain_problems(s)


def test_changing_when_a_block_was_sealed_breaks_it(ledger):
    s = ledger.session
    at = s.execute(select(seals.c.sealed_at)).scalar_one()
    s.execute(update(seals).values(sealed_at=at + timedelta(microseconds=1)))
    assert_chain_broken(s)


# --- transfers the sealer could not see yet ----------------------------------------------------


def pause_row(session, hold_id: int, key: str) -> dict[str, object]:
    row = session.execute(select(transfers).where(transfers.c.idempotency_key == "p1")).one()
    return dict(
        kind="pause",
        idempotency_key=key,
        payload_hash="0" * 64,
        reason="",
        hold_id=hold_id,
        created_at=row.created_at,
    )


@pytest.fixture
def gap(ledger, clock):
    """A transfer id taken but not committed when block 2 was sealed (made here by writing a
    transfer, then a later one, then deleting the first)."""
    s = ledger.session
    row = pause_row(s, ledger.b2, "in-flight")
    gone = s.execute(insert(transfers).returning(transfers.c.id), row).scalar_one()
    service.move(s, clock, "after", "escrow", "fee", 1)
    s.execute(delete(transfers).where(transfers.c.id == gone))
    journal.seal(s, clock)
    late = s.execute(select(seals.c.late_transfer_ids).where(seals.c.id == 2)).scalar_one()
    assert gone in [i for i, _ in late]
    assert journal.verify(s).ok
    return SimpleNamespace(id=gone, row={**row, "id": gone})


def test_a_transfer_committed_late_is_sealed_by_the_next_block(ledger, gap, clock):
    s = ledger.session
    s.execute(insert(transfers), gap.row)  # the transaction that took the id commits now
    report = journal.verify(s)
    assert report.ok and report.unsealed_transfers == 1, report.problems
    assert journal.seal(s, clock) == 1
    assert s.execute(select(seals.c.transfer_ids).where(seals.c.id == 3)).scalar_one() == [gap.id]
    report = journal.verify(s)
    assert report.ok and report.unsealed_transfers == 0, report.problems


def test_a_transfer_that_appears_below_the_horizon_is_named(ledger, gap, clock):
    s = ledger.session
    clock.advance(minutes=11)  # longer than any transaction stays open: the id is given up on
    service.move(s, clock, "later", "escrow", "fee", 1)
    journal.seal(s, clock)
    s.execute(insert(transfers), gap.row)
    problems = journal.verify(s).problems
    horizon = s.execute(select(seals.c.transfer_horizon).where(seals.c.id == 3)).scalar_one()
    assert problems == [
        f"transfer {gap.id} (pause) has no entries and is in no seal block, although block 3 "
        f"looked at every transfer up to {horizon}"
    ]


def test_a_sealed_transfer_without_entries_that_gains_some_is_named(ledger):
    s = ledger.session
    t = tid(s, "x1")
    psp = s.execute(select(accounts.c.id).where(accounts.c.code == "psp")).scalar_one()
    s.execute(
        insert(entries),
        dict(
            transfer_id=t,
            account_id=psp,
            debits_posted=0,
            credits_posted=0,
            debits_pending=0,
            credits_pending=0,
        ),
    )
    problems = journal.verify(s).problems
    assert f"transfer {t} (extend) has 1 journal entries; extends move no money" in problems
    assert f"transfer {t} was sealed in block 1 with no entries, but has entries now" in problems


def test_every_line_is_a_json_array_that_names_its_row(ledger):
    s = ledger.session
    row = s.execute(lines.entry_query(entries.c.transfer_id == tid(s, "fund"))).first()
    line = lines.entry_line(row)
    assert line.startswith('["entry",') and '"paid"' in line and '{"order":"1001"}' in line
    assert model.canonical_instant(row.created_at) in line
