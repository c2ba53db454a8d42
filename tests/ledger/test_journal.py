"""Tamper evidence: `verify` names the first inconsistency when tables are changed behind the
ledger's back (as an attacker or a buggy migration would)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, update

from xinren.ledger import journal, service
from xinren.ledger.tables import accounts, entries, seals, transfers


@pytest.fixture
def sealed(session, clock):
    service.create_account(session, clock, "src", "CNY")
    service.create_account(session, clock, "a", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(session, clock, "b", "CNY", debits_must_not_exceed_credits=True)
    service.move(session, clock, "t1", "src", "a", 1_000)
    service.move(session, clock, "t2", "a", "b", 400)
    journal.seal(session, clock)
    service.move(session, clock, "t3", "a", "b", 100)
    journal.seal(session, clock)
    assert journal.verify(session).ok
    return session


def entry_of(session, key: str, *, debit: bool):
    q = (
        entries.select()
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .where(transfers.c.idempotency_key == key)
        .where((entries.c.debits_posted > 0) if debit else (entries.c.credits_posted > 0))
    )
    return session.execute(q).one()


def first_problem(session) -> str:
    report = journal.verify(session)
    assert not report.ok
    return report.problems[0]


def test_changed_balance_is_found(sealed):
    sealed.execute(update(accounts).where(accounts.c.code == "b").values(credits_posted=10_000))
    assert "account 'b'" in first_problem(sealed)


def test_changed_sealed_entry_breaks_the_chain(sealed):
    # change both the entry and the balance so the sums still agree: only the chain can tell
    row = entry_of(sealed, "t2", debit=True)
    sealed.execute(update(entries).where(entries.c.id == row.id).values(debits_posted=401))
    sealed.execute(
        update(accounts).where(accounts.c.id == row.account_id).values(debits_posted=401)
    )
    problems = journal.verify(sealed).problems
    assert any("seal block 1: hash mismatch" in p for p in problems)


def test_deleted_entry_is_found(sealed):
    sealed.execute(delete(entries).where(entries.c.id == entry_of(sealed, "t3", debit=True).id))
    problems = journal.verify(sealed).problems
    assert any("seal block 2" in p for p in problems)


def test_changed_transfer_key_breaks_the_chain(sealed):
    sealed.execute(
        update(transfers)
        .where(transfers.c.idempotency_key == "t2")
        .values(idempotency_key="forged")
    )
    assert "seal block 1: hash mismatch" in first_problem(sealed)


def test_removed_block_is_found(sealed):
    sealed.execute(update(entries).where(entries.c.seal_id == 1).values(seal_id=None))
    sealed.execute(delete(seals).where(seals.c.id == 1))
    assert "seal block 1 is missing" in first_problem(sealed)


def test_unbalanced_transfer_is_found(sealed):
    t = sealed.execute(
        insert(transfers).returning(transfers.c.id),
        dict(
            kind="transfer",
            idempotency_key="forged",
            payload_hash="0" * 64,
            reason="",
            created_at=sealed.execute(transfers.select()).first().created_at,
        ),
    ).scalar_one()
    a = sealed.execute(accounts.select().where(accounts.c.code == "src")).one()
    sealed.execute(
        insert(entries),
        dict(
            transfer_id=t,
            account_id=a.id,
            debits_posted=0,
            credits_posted=7,
            debits_pending=0,
            credits_pending=0,
        ),
    )
    sealed.execute(
        update(accounts).where(accounts.c.id == a.id).values(credits_posted=a.credits_posted + 7)
    )
    problems = journal.verify(sealed).problems
    assert any("posted balances sum to ¥0.07" in p for p in problems)
    assert any(f"transfer {t}" in p for p in problems)
