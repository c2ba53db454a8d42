"""Two admins revoking each other's keys at the same moment: one wins, the other is told its
key is now the last one. Without the lock the second saw both keys active (its snapshot was
older than the first's commit) and revoked the last admin key too."""

from __future__ import annotations

import threading

import pytest

from xinren.access import service as access
from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory
from xinren.errors import Conflict


@pytest.fixture
def db(fresh_url):
    engine = make_engine(fresh_url)
    yield engine
    engine.dispose()


def test_two_admins_cannot_revoke_each_other_at_once(db):
    clock = FakeClock()
    factory = session_factory(db)
    with factory() as s:
        a, _ = access.create_key(s, clock, "admin", name="a")
        b, _ = access.create_key(s, clock, "admin", name="b")
        s.commit()
    outcome: list[object] = []

    def second() -> None:
        with factory() as s2:
            try:
                access.revoke(s2, clock, a.key_id, by=b.actor)
                s2.commit()
                outcome.append("revoked")
            except Conflict as err:
                outcome.append(err)

    with factory() as s1:
        access.revoke(s1, clock, b.key_id, by=a.actor)  # holds its locks until the commit
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive(), "the second revocation should wait for the first"
        s1.commit()
    racer.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert "last active admin key" in outcome[0].detail
    with factory() as s:
        assert [k.name for k in access.list_keys(s) if k.active] == ["a"]
