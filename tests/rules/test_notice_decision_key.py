"""A notice keeps its decision's idempotency key (migration 0020), so a retried decision replays
from the notice itself; an upgraded database takes the key from the notice's last
`notice.decided` event, and a retry after the upgrade still replays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select

from xinren.clock import FakeClock
from xinren.db import downgrade, make_engine, session_factory, upgrade
from xinren.demo import samples
from xinren.errors import IdempotencyKeyReused
from xinren.rules import notices
from xinren.rules.tables import notices as notice_rows
from xinren.unit_of_work import run

SHOP = "merchant:honest"


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 5, 1, 9, tzinfo=UTC))


def _file_and_decide(s, clock, n):
    samples.verified(s, clock, SHOP)
    ids = []
    for i in range(n):
        filed = notices.file_notice(
            s,
            clock,
            f"file-{i}",
            reporter=f"buyer:b{i}",
            target=SHOP,
            category="misrepresentation",
            text="the goods were not as described",
        )
        ids.append(filed.id)
    for i, notice_id in enumerate(ids[:-1]):  # the last stays open
        notices.decide(
            s,
            clock,
            f"decide-{i}",
            notice_id,
            outcome="unfounded",
            reason="the order shows the goods matched",
            decided_by="reviewer:ann",
        )
    return ids


def test_the_key_is_kept_with_the_decision(session, clock):
    ids = _file_and_decide(session, clock, 2)
    row = session.execute(select(notice_rows).where(notice_rows.c.id == ids[0])).one()
    assert row.decision_key is not None and row.decision_key.endswith("decide-0")
    open_row = session.execute(select(notice_rows).where(notice_rows.c.id == ids[1])).one()
    assert open_row.decision_key is None


def test_an_upgraded_database_replays_decisions_made_before_it(fresh_url, clock):
    engine = make_engine(fresh_url)
    db = session_factory(engine)
    ids = run(db, lambda s: _file_and_decide(s, clock, 3))
    downgrade(engine, "0019")
    with engine.connect() as conn:
        assert "decision_key" not in {c["name"] for c in inspect(conn).get_columns("notices")}
    upgrade(engine)
    keys = run(
        db,
        lambda s: dict(s.execute(select(notice_rows.c.id, notice_rows.c.decision_key)).all()),
    )
    assert keys == {ids[0]: "decide-0", ids[1]: "decide-1", ids[2]: None}

    def retry(s):
        again = notices.decide(
            s,
            clock,
            "decide-1",
            ids[1],
            outcome="unfounded",
            reason="the order shows the goods matched",
            decided_by="reviewer:ann",
        )
        assert again.replayed
        with pytest.raises(IdempotencyKeyReused):
            notices.decide(
                s,
                clock,
                "decide-1",
                ids[1],
                outcome="founded",
                reason="on second thought",
                decided_by="reviewer:ann",
            )

    run(db, retry)
    engine.dispose()
