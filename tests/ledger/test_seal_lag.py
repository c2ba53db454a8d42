"""The sealer keeps up and says how far behind it is: `journal.lag` (entries not sealed, how
long the oldest has waited) in verify's report, the CLI and the API; a call seals several
blocks when they come out full; the fast line and hash builders write exactly version 2's
text; and migration 0021's index goes down and up over a sealed journal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.db import downgrade, make_engine, session_factory, upgrade
from xinren.ledger import journal, model, service
from xinren.ledger.journal import lines
from xinren.ledger.journal.sealer import hash_lines
from xinren.ledger.tables import entries, seals

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _books(s, clock, moves: int = 3) -> None:
    service.create_account(s, clock, "psp", "CNY")
    service.create_account(s, clock, "escrow", "CNY", debits_must_not_exceed_credits=True)
    service.create_account(s, clock, "merchant", "CNY", debits_must_not_exceed_credits=True)
    for i in range(moves):
        service.move(s, clock, f"m{i}", "psp", "escrow", 100 + i, refs={"order": str(i)})
    h = service.hold(
        s,
        clock,
        "h",
        "escrow",
        "merchant",
        50,
        expires_at=T0 + timedelta(days=1),
        expiry_action="void",
    )
    service.extend(s, clock, "x", h.hold_id, T0 + timedelta(days=2))
    service.post(s, clock, "p", h.hold_id, 20, reason="delivered")


def test_lag_of_is_zero_when_caught_up_and_never_negative():
    assert journal.lag_of(0, T0, T0) == journal.Lag(0, None)
    assert journal.lag_of(4, T0, T0 + timedelta(seconds=7)) == (4, timedelta(seconds=7))
    assert journal.lag_of(4, T0 + timedelta(hours=1), T0).oldest_age == timedelta(0)  # skew
    naive = T0.replace(tzinfo=None)  # SQLite's text reads back naive (UTC)
    assert journal.lag_of(1, naive, T0 + timedelta(seconds=2)).seconds == 2.0
    assert journal.lag_of(2, "tampered", T0) == (2, timedelta(0))  # no time: no wait, no raise


def test_lag_counts_unsealed_entries_and_the_oldest_ones_wait(session):
    clock = FakeClock(T0)
    _books(session, clock)
    assert journal.lag(session, clock) == (10, timedelta(0))
    clock.advance(seconds=90)
    assert journal.lag(session, clock) == (10, timedelta(seconds=90))
    journal.seal(session, clock)
    assert journal.lag(session, clock) == journal.Lag(0, None)
    service.move(session, clock, "late", "psp", "escrow", 1)
    clock.advance(seconds=5)
    assert journal.lag(session, clock) == (2, timedelta(seconds=5))


def test_verify_reports_the_lag_and_its_findings_stay_the_same(session):
    clock = FakeClock(T0)
    _books(session, clock)
    journal.seal(session, clock)
    service.move(session, clock, "after", "psp", "escrow", 1)
    clock.advance(seconds=30)
    report = journal.verify(session, clock)
    assert report.ok, report.problems
    assert (report.unsealed, report.oldest_unsealed_age) == (2, timedelta(seconds=30))
    assert report.blocks == 1 and report.entries == 12


def test_a_call_seals_several_full_blocks_when_behind(session):
    clock = FakeClock(T0)
    _books(session, clock, moves=5)  # 14 entries
    sealed = journal.seal(session, clock, max_entries=4, max_blocks=2)
    counts = session.execute(select(seals.c.entry_count).order_by(seals.c.id)).scalars().all()
    assert counts == [4, 4] and sealed >= 8
    journal.seal(session, clock, max_entries=4, max_blocks=8)  # the rest, the last not full
    counts = session.execute(select(seals.c.entry_count).order_by(seals.c.id)).scalars().all()
    assert counts == [4, 4, 4, 2]
    assert journal.verify(session, clock).ok


def test_the_fast_lines_and_hash_write_exactly_version_2(session):
    clock = FakeClock(T0)
    _books(session, clock)
    rows = session.execute(lines.entry_query(entries.c.seal_id.is_(None))).all()
    fast = lines.EntryLines()
    assert [fast(r) for r in rows] == [lines.entry_line(r) for r in rows]
    assert len({r[lines.WIDTH - 7] for r in rows}) > 1  # some with a hold, some without
    text = [lines.entry_line(r) for r in rows]
    assert hash_lines(7, "ab" * 32, text) == model.block_hash(7, "ab" * 32, text)


def test_the_verify_endpoint_and_cli_line_show_the_lag(factory):
    clock = FakeClock(T0)
    with factory() as s:
        _books(s, clock)
        _, secret = access.create_key(s, clock, "platform")
        s.commit()
    clock.advance(seconds=12)
    client = TestClient(create_app(clock=clock, sessions=factory))
    client.headers["Authorization"] = f"Bearer {secret}"
    body = client.get("/v1/ledger/verify").json()
    assert body["ok"] is True and body["unsealed"] == 10
    assert body["oldest_unsealed_age_seconds"] == 12.0
    with factory() as s:
        journal.seal(s, clock)
        s.commit()
    body = client.get("/v1/ledger/verify").json()
    assert body["unsealed"] == 0 and body["oldest_unsealed_age_seconds"] is None


def _indexes(engine) -> set[str]:
    with engine.connect() as conn:
        return {ix["name"] for ix in inspect(conn).get_indexes("ledger_entries")}


def test_0021_goes_down_and_up_over_a_sealed_journal(fresh_url):
    engine = make_engine(fresh_url)
    db = session_factory(engine)
    clock = FakeClock(T0)
    with db() as s:
        _books(s, clock)
        journal.seal(s, clock, max_entries=3)
        s.commit()

    def state():
        with db() as s:
            r = journal.verify(s, clock)
            n = s.execute(select(func.count()).where(entries.c.seal_id.is_not(None))).scalar()
            return r.ok, r.problems, r.blocks, n

    before = state()
    assert before[0] and before[3] == 10 and "ix_ledger_entries_sealed" in _indexes(engine)
    downgrade(engine, "0020")
    assert "ix_ledger_entries_sealed" not in _indexes(engine)
    assert state() == before
    upgrade(engine)
    assert "ix_ledger_entries_sealed" in _indexes(engine)
    assert state() == before
    engine.dispose()
