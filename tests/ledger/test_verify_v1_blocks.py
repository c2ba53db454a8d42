"""Blocks sealed before the version 2 line format keep verifying with version 1, and tampering
with them is still found; the first version 2 block also seals the transfers without entries
that version 1 left out. Migration 0014 marks every existing block as version 1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select, text, update

from xinren.db import alembic_config, make_engine, upgrade
from xinren.ledger import journal, model, service
from xinren.ledger.model import GENESIS, Balance
from xinren.ledger.tables import accounts, entries, seals, transfers


def seal_v1(session, clock) -> int:
    """`journal.seal` as it was before version 2: entries joined to their transfer, the '|'
    line, and no version given (the column's default says 1)."""
    head = session.execute(select(seals.c.id, seals.c.hash).order_by(seals.c.id.desc())).first()
    block_id, prev = (head.id + 1, head.hash) if head else (1, GENESIS)
    rows = session.execute(
        select(entries, transfers.c.kind, transfers.c.idempotency_key, transfers.c.payload_hash)
        .join(transfers, transfers.c.id == entries.c.transfer_id)
        .where(entries.c.seal_id.is_(None))
        .order_by(entries.c.id)
    ).all()
    lines = [
        model.entry_line(
            r.id,
            r.transfer_id,
            r.account_id,
            Balance(r.debits_posted, r.credits_posted, r.debits_pending, r.credits_pending),
            r.kind,
            r.idempotency_key,
            r.payload_hash,
        )
        for r in rows
    ]
    session.execute(
        insert(seals),
        dict(
            id=block_id,
            prev_hash=prev,
            hash=model.block_hash(block_id, prev, lines),
            entry_count=len(rows),
            sealed_at=clock.now(),
        ),
    )
    ids = [r.id for r in rows]
    session.execute(update(entries).where(entries.c.id.in_(ids)).values(seal_id=block_id))
    return len(rows)


@pytest.fixture
def v1_ledger(session, clock):
    s = session
    service.create_account(s, clock, "psp", "CNY")
    service.create_account(s, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(s, clock, "merchant", "CNY", debits_must_not_exceed_credits=True)
    service.move(s, clock, "fund", "psp", "escrow", 1_000, reason="paid", refs={"order": "7"})
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        100,
        expires_at=clock.now() + timedelta(days=1),
        expiry_action="void",
    )
    service.extend(s, clock, "x", h.hold_id, clock.now() + timedelta(days=2))
    assert seal_v1(s, clock) == 4
    service.post(s, clock, "p", h.hold_id, 60)
    assert seal_v1(s, clock) == 2
    return s


def versions(session) -> list[int]:
    return list(session.execute(select(seals.c.version).order_by(seals.c.id)).scalars())


def test_version_1_blocks_verify(v1_ledger):
    report = journal.verify(v1_ledger)
    assert report.ok, report.problems
    assert versions(v1_ledger) == [1, 1]
    assert report.unsealed_transfers == 1  # the extension: version 1 never sealed it


def test_new_blocks_are_version_2_and_seal_what_version_1_left_out(v1_ledger, clock):
    s = v1_ledger
    service.move(s, clock, "more", "psp", "escrow", 5)
    assert journal.seal(s, clock) == 3  # two entries, and the extension from before
    assert versions(s) == [1, 1, 2]
    x = s.execute(select(transfers.c.id).where(transfers.c.idempotency_key == "x")).scalar_one()
    assert s.execute(select(seals.c.transfer_ids).where(seals.c.id == 3)).scalar_one() == [x]
    report = journal.verify(s)
    assert report.ok and report.unsealed_transfers == 0, report.problems
    assert journal.seal(s, clock) == 0


def test_tampering_with_a_version_1_block_is_found(v1_ledger, clock):
    s = v1_ledger
    journal.seal(s, clock)  # a version 2 block after the version 1 ones
    escrow = s.execute(select(accounts).where(accounts.c.code == "escrow")).one()
    fund = s.execute(select(transfers.c.id).where(transfers.c.idempotency_key == "fund"))
    credit = s.execute(
        select(entries.c.id).where(
            entries.c.transfer_id == fund.scalar_one(), entries.c.account_id == escrow.id
        )
    ).scalar_one()
    # change the sealed entry and the balance alike, so only the chain can tell
    s.execute(update(entries).where(entries.c.id == credit).values(credits_posted=1_001))
    s.execute(
        update(accounts)
        .where(accounts.c.id == escrow.id)
        .values(credits_posted=escrow.credits_posted + 1)
    )
    found = [p for p in journal.verify(s).problems if p.startswith("seal block")]
    assert found == ["seal block 1: hash mismatch: a sealed entry or its transfer was changed"]


def test_a_version_1_block_relabelled_version_2_is_found(v1_ledger):
    v1_ledger.execute(update(seals).where(seals.c.id == 2).values(version=2))
    found = [p for p in journal.verify(v1_ledger).problems if p.startswith("seal block")]
    assert found and found[0].startswith("seal block 2: hash mismatch")


def test_migration_0014_marks_existing_blocks_version_1(databases):
    engine = make_engine(databases.new())
    try:
        upgrade(engine, "0013")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ledger_seals (id, prev_hash, hash, entry_count, sealed_at) "
                    "VALUES (1, :g, :h, 0, :at)"
                ),
                {"g": GENESIS, "h": "a" * 64, "at": "2026-01-01 00:00:00"},
            )
        upgrade(engine, "0014")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT version, transfer_horizon, transfer_ids FROM ledger_seals")
            ).one()
        assert tuple(row) == (1, None, None)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0013")
        with engine.connect() as conn:
            columns = conn.execute(text("SELECT * FROM ledger_seals")).keys()
        assert "version" not in columns
    finally:
        engine.dispose()
