"""Detection keeps its own abuse record, fed by the events the cases and rules append, and it
scores, weighs and flags exactly as the query on their tables and the outbox did (revision
0018): the same records, weights, flags and reporter records, on SQLite and PostgreSQL, and
after an upgrade of a database that already holds them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from tests.detect import abuse_world as world
from tests.detect.abuse_world import BO, PLAIN, REP
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.cases.tables import cases
from xinren.clock import FakeClock
from xinren.db import downgrade, make_engine, session_factory, upgrade
from xinren.detect import abuse, buyers
from xinren.detect.tables import abuse_complaints, abuse_flags
from xinren.events.tables import outbox
from xinren.rules import notices
from xinren.rules.tables import notices as notice_rows
from xinren.unit_of_work import run

#: What the old query gave for the world of `abuse_world.build` (checked against revision
#: 0018's code): (orders, refunds, complaints, unfounded, notices unfounded, soon after
#: delivery, shared with flagged, shared with others), score, weight, flagged.
EXPECTED = {
    BO: ((6, 2, 4, 1, 1, 3, 1, 2), 0.957, 0.1, True),
    REP: ((0, 0, 0, 0, 4, 0, 1, 2), 0.711, 0.289, True),
    PLAIN: ((0, 0, 0, 0, 0, 0, 2, 2), 0.378, 0.622, False),
    "buyer:nobody": ((0, 0, 0, 0, 0, 0, 0, 0), 0.047, 0.953, False),
}
#: The weight each complaint and notice was filed with, in filing order.
CASE_WEIGHTS = [0.9525741, 0.8581489, 0.6899745, 0.4337256]
NOTICE_WEIGHTS = [0.9525741, 0.9168273, 0.8581489, 0.7685248, 0.6456563, 0.2689414, 0.1]


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _check_scores(s):
    for account, (record, score, weight, flagged) in EXPECTED.items():
        found = buyers.explain(s, account)
        assert tuple(found["record"].values()) == record, account
        assert (found["score"], found["weight"], found["flagged"]) == (score, weight, flagged)
        assert found == world.old_explain(s, account)
        assert buyers.record_of(s, account) == abuse.BuyerRecord(*record)


def test_the_abuse_record_scores_as_the_query_on_cases_and_notices_did(session, clock):
    world.build(session, clock)
    _check_scores(session)
    weights = session.execute(select(cases.c.buyer_weight).order_by(cases.c.id)).scalars()
    assert list(weights) == pytest.approx(CASE_WEIGHTS)
    weights = session.execute(select(notice_rows.c.weight).order_by(notice_rows.c.id)).scalars()
    assert list(weights) == pytest.approx(NOTICE_WEIGHTS)
    flags = session.execute(
        select(outbox.c.subject).where(outbox.c.topic == "abuse.flagged")
    ).scalars()
    assert list(flags) == [BO]  # once; the warned reporter is not flagged again by its score
    causes = dict(session.execute(select(abuse_flags.c.account, abuse_flags.c.cause)).all())
    assert causes == {BO: "abuse.flagged", REP: "reporter.warned"}
    for account in EXPECTED:  # the reporter's record carries the same abuse block
        assert notices.record(session, clock, account).abuse == buyers.explain(session, account)


def test_a_complaint_filed_before_delivery_counts_as_soon_once_the_goods_arrive(session, clock):
    """As the old query did: whether a complaint came soon after delivery is read from the
    order when scored, so a complaint filed before the goods arrived counts once they do."""
    ids = world.build(session, clock)
    early = session.execute(
        select(abuse_complaints).where(abuse_complaints.c.case_id == ids["early_case"])
    ).one()
    assert early.account == BO and early.order_id == ids["early"] and not early.unfounded
    assert buyers.record_of(session, BO).complained_soon_after_delivery == 3


def test_the_reporter_record_over_http_is_unchanged(factory, clock):
    with factory() as s:
        world.build(s, clock)
        staff = access.create_key(s, clock, "reviewer", subject="reviewer:ann")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    for account, (record, score, weight, flagged) in EXPECTED.items():
        got = client.get(f"/v1/reporters/{account}", headers={"Authorization": f"Bearer {staff}"})
        assert got.status_code == 200, got.text
        block = got.json()["abuse"]
        assert tuple(block["record"].values()) == record
        assert (block["score"], block["weight"], block["flagged"]) == (score, weight, flagged)


def test_an_upgraded_database_scores_its_existing_records_the_same(fresh_url, clock):
    """Migration 0019 fills detection's record from the cases, notices, reporters and the
    outbox as they stand; what happens after the upgrade keeps it up to date."""
    engine = make_engine(fresh_url)
    db = session_factory(engine)
    ids = run(db, lambda s: world.build(s, clock))
    downgrade(engine, "0018")
    with engine.connect() as conn:
        assert "abuse_complaints" not in inspect(conn).get_table_names()
    upgrade(engine)
    run(db, _check_scores)
    flags = select(abuse_flags.c.account, abuse_flags.c.cause)
    causes = run(db, lambda s: {r.account: r.cause for r in s.execute(flags)})
    assert causes == {BO: "abuse.flagged", REP: "reporter.warned"}

    def after(s):  # a decision after the upgrade updates a backfilled complaint
        world.heard(s, clock, ids["early_case"], ids["early"], "for_merchant")
        assert buyers.record_of(s, BO).complaints_unfounded == 2
        assert buyers.explain(s, BO) == world.old_explain(s, BO)

    run(db, after)
    engine.dispose()


def test_identifiers_differing_only_in_spacing_link_the_accounts(session, clock):
    """The digest is said to ignore spacing, but only runs of spaces are collapsed: a ring
    escapes the link by writing the same payment account without spaces."""
    buyers.add_identifier(session, clock, "buyer:ring1", "payment_account", "6222 0000 1111 2222")
    buyers.add_identifier(session, clock, "buyer:ring2", "payment_account", "6222000011112222")
    assert buyers.record_of(session, "buyer:ring2").shared_with_others == 1
