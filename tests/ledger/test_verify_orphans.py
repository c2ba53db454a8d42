"""`verify` names rows that point at rows that do not exist (the journal has no foreign keys, so
only verify can tell), and transfers that do not balance even where a leg has no account.

Each test writes the damage with plain SQL through the session, as a tamperer or a bug would."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text, update

from xinren.db import is_postgres
from xinren.ledger import journal, service
from xinren.ledger.tables import accounts, entries, holds, seals, transfers

MISSING = 987_654  # an id no row has


@pytest.fixture
def books(session, clock):
    service.create_account(session, clock, "psp", "CNY")
    service.create_account(session, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
    service.move(session, clock, "fund", "psp", "escrow", 100)
    assert journal.verify(session).ok
    return session


def transfer_id(session, key: str) -> int:
    return session.execute(
        select(transfers.c.id).where(transfers.c.idempotency_key == key)
    ).scalar_one()


def account_id(session, code: str) -> int:
    return session.execute(select(accounts.c.id).where(accounts.c.code == code)).scalar_one()


def add_entry(session, tid: int, aid: int, **change: int) -> int:
    values = dict(debits_posted=0, credits_posted=0, debits_pending=0, credits_pending=0)
    values.update(change)
    return session.execute(
        insert(entries).returning(entries.c.id), dict(transfer_id=tid, account_id=aid, **values)
    ).scalar_one()


def without_foreign_keys(session) -> None:
    """Let this transaction write rows the foreign keys would refuse (it is rolled back)."""
    if is_postgres(session):
        session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        session.execute(text("PRAGMA defer_foreign_keys = ON"))


@pytest.mark.parametrize("sealed_first", [False, True])
def test_entry_on_a_missing_account_and_its_unbalanced_transfer(books, clock, sealed_first):
    # transfer "fund" moved 100; a fifth credit leg of 5 on an account that does not exist
    tid = transfer_id(books, "fund")
    eid = add_entry(books, tid, MISSING, credits_posted=5)
    if sealed_first:
        assert journal.seal(books, clock) == 3  # sealed as it is: the line says what it is on
    problems = journal.verify(books).problems
    assert f"entry {eid} (transfer {tid}) is on account {MISSING}, which does not exist" in problems
    assert (
        f"transfer {tid}: its entries do not balance "
        "(posted debits 100 against credits 105, in minor units)"
    ) in problems
    assert not any("seal block" in p for p in problems)


def test_transfer_unbalanced_in_one_currency_is_named_with_its_currency(books, clock):
    service.create_account(books, clock, "usd", "USD")
    tid = transfer_id(books, "fund")
    # 100 CNY debited, 100 CNY credited: add 3 USD on one side and 3 CNY on the other, so the
    # entries alone still balance but neither currency does
    add_entry(books, tid, account_id(books, "usd"), debits_posted=3)
    add_entry(books, tid, account_id(books, "psp"), credits_posted=3)
    problems = journal.verify(books).problems
    assert (
        f"transfer {tid}: its CNY entries do not balance "
        "(posted debits ¥1.00 against credits ¥1.03)"
    ) in problems
    assert (
        f"transfer {tid}: its USD entries do not balance "
        "(posted debits $0.03 against credits $0.00)"
    ) in problems


def test_entry_of_a_missing_transfer_is_named_and_still_sealed(books, clock):
    psp = account_id(books, "psp")
    eid = add_entry(books, MISSING, psp, debits_posted=7)
    books.execute(
        update(accounts)
        .where(accounts.c.id == psp)
        .values(debits_posted=accounts.c.debits_posted + 7)
    )
    problems = journal.verify(books).problems
    assert (
        f"entry {eid} (account {psp}) belongs to transfer {MISSING}, which does not exist"
        in problems
    )
    assert any(p.startswith(f"transfer {MISSING}: its entries do not balance") for p in problems)

    # the sealer does not leave it out (before, it joined transfers and skipped it forever) ...
    journal.seal(books, clock)
    seal_id = books.execute(select(entries.c.seal_id).where(entries.c.id == eid)).scalar_one()
    assert seal_id == 1
    assert journal.verify(books).unsealed == 0
    # ... so changing it now breaks its block
    books.execute(update(entries).where(entries.c.id == eid).values(debits_posted=8))
    books.execute(
        update(accounts)
        .where(accounts.c.id == psp)
        .values(debits_posted=accounts.c.debits_posted + 1)
    )
    assert any(p.startswith("seal block 1: hash mismatch") for p in journal.verify(books).problems)


def test_entry_sealed_into_a_missing_block(books, clock):
    journal.seal(books, clock)
    eid = books.execute(select(entries.c.id).order_by(entries.c.id)).scalars().first()
    books.execute(update(entries).where(entries.c.id == eid).values(seal_id=MISSING))
    problems = journal.verify(books).problems
    assert f"entry {eid} is sealed into block {MISSING}, which does not exist" in problems


def test_transfer_naming_a_missing_hold(books, clock):
    created = books.execute(select(transfers.c.created_at)).scalars().first()
    tid = books.execute(
        insert(transfers).returning(transfers.c.id),
        dict(
            kind="extend",
            idempotency_key="forged",
            payload_hash="0" * 64,
            reason="",
            hold_id=MISSING,
            created_at=created,
        ),
    ).scalar_one()
    problems = journal.verify(books).problems
    assert f"transfer {tid} (extend) names hold {MISSING}, which does not exist" in problems


def test_hold_naming_missing_transfer_and_accounts(books, clock):
    h = service.hold(books, clock, "h", "escrow", "psp", 40)
    without_foreign_keys(books)
    books.execute(
        update(holds)
        .where(holds.c.id == h.hold_id)
        .values(transfer_id=MISSING, debit_account_id=MISSING + 1, credit_account_id=MISSING + 2)
    )
    problems = journal.verify(books).problems
    hid = h.hold_id
    assert f"hold {hid} was created by transfer {MISSING}, which does not exist" in problems
    assert f"hold {hid}: its debit account {MISSING + 1} does not exist" in problems
    assert f"hold {hid}: its credit account {MISSING + 2} does not exist" in problems


def test_many_orphans_are_counted_not_all_listed(books, clock):
    tid = transfer_id(books, "fund")
    for _ in range(25):
        add_entry(books, tid, MISSING, credits_posted=1)
    problems = journal.verify(books).problems
    named = [p for p in problems if p.endswith(f"is on account {MISSING}, which does not exist")]
    assert len(named) == 20
    assert "... and 5 more entries on missing accounts" in problems


def test_a_clean_ledger_has_no_orphans(books, clock):
    journal.seal(books, clock)
    report = journal.verify(books)
    assert report.ok, report.problems
    assert books.execute(select(seals.c.version)).scalar_one() == 2
