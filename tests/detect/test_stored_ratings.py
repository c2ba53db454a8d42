"""Issue 13, hole 7: reading a rating used to run detection, exclude reviews and propose a
violation. Detection now runs when reviews arrive (a debounced timer) or on command, stores the
ratings, and a GET only reads what it stored."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from tests.detect.farm import farm_reviews
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.db import make_engine
from xinren.demo import stories
from xinren.detect import service as detect
from xinren.detect.tables import honest_ratings
from xinren.documents.store import FileStore
from xinren.events.tables import outbox
from xinren.reviews import service as reviews_service
from xinren.reviews.service import RESCORE, RESCORE_DELAY
from xinren.reviews.tables import reviews as review_rows
from xinren.schema import metadata
from xinren.timers import service as timers
from xinren.timers.tables import timers as timer_rows
from xinren.unit_of_work import run


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def snapshot(session, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (the outbox included): any write changes it, an update too."""
    return {
        t.name: sorted(tuple(repr(v) for v in row) for row in session.execute(select(t)))
        for t in metadata.sorted_tables
        if t.name not in skip
    }


def proposals(session, shop: str) -> int:
    return session.execute(
        select(func.count())
        .select_from(outbox)
        .where(outbox.c.topic == "violation.proposed", outbox.c.subject == shop)
    ).scalar_one()


def pending(session, shop: str) -> list[datetime]:
    return [t.due_at for t in timers.pending(session, RESCORE) if t.subject == shop]


def _shop(session, clock, tmp_path, tag: str) -> tuple[str, int]:
    case = stories.phone_case(session, clock, FileStore(tmp_path / "d"), tag)
    shop = case.refs["shop"]
    return shop, catalog.list_listings(session, merchant=shop)[0].id


def _honest(
    listing: int, now: datetime, n: int = 40, tag: str = ""
) -> list[reviews_service.ReviewIn]:
    """The honest part of the farmed listing's reviews: 40 over 40 days (`tag` makes the
    keys another listing's)."""
    return [replace(r, key=tag + r.key) for r in farm_reviews(listing, now)[:n]]


def _farm(listing: int, now: datetime) -> list[reviews_service.ReviewIn]:
    return farm_reviews(listing, now)[40:]  # 20 accounts, 200 five-star reviews within hours


def test_reading_a_rating_changes_nothing(factory, clock, tmp_path):
    """An unrelated buyer's GET of a farmed shop's ratings wrote nothing before it was scored
    (it used to exclude the 200 farm reviews and propose RM-1) and nothing after."""
    with factory() as s:
        shop, listing = _shop(s, clock, tmp_path, "rn")
        reviews_service.add_many(s, clock, farm_reviews(listing, clock.now()))
        buyer = access.create_key(s, clock, "buyer", subject="buyer:stranger")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {buyer}"}
    paths = (f"/v1/catalog/merchants/{shop}/rating", f"/v1/catalog/listings/{listing}/rating")
    for scored in (False, True):
        if scored:
            clock.advance(RESCORE_DELAY)
            assert timers.run_due(factory, clock) == 1
        with factory() as s:
            before = snapshot(s)
        got = [client.get(path, headers=auth) for path in paths for _ in range(2)]
        with factory() as s:
            after = snapshot(s)
        changed = sorted(t for t in before if after[t] != before[t])
        assert changed == [], f"a GET of a rating wrote to {changed}"
        with factory() as s:
            assert proposals(s, shop) == (1 if scored else 0)  # the job's, when it ran
        assert all(r.status_code == 200 for r in got), [r.text for r in got]
        assert {r.json()["status"] for r in got} == {"scored" if scored else "not_scored"}


def test_the_get_returns_what_was_stored_and_the_timer_scores_new_reviews(factory, clock, tmp_path):
    with factory() as s:
        shop, listing = _shop(s, clock, tmp_path, "rs")
        reviews_service.add_many(s, clock, _honest(listing, clock.now()))
        buyer = access.create_key(s, clock, "buyer", subject="buyer:stranger")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {buyer}"}

    def get(path: str) -> dict:
        r = client.get(path, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()

    merchant_path = f"/v1/catalog/merchants/{shop}/rating"
    listing_path = f"/v1/catalog/listings/{listing}/rating"
    clock.advance(RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1
    first = get(merchant_path)
    with factory() as s:
        row = s.execute(
            select(honest_ratings).where(
                honest_ratings.c.merchant == shop, honest_ratings.c.listing_id.is_(None)
            )
        ).one()
    assert first["status"] == "scored" and first["reviews"] == 40
    assert first["excluded_in_blocks"] == 0
    assert first["honest"] == round(row.honest, 2) and first["explanation"] == row.explanation
    assert first["computed_at"] == row.computed_at.isoformat() == clock.now().isoformat()
    assert first["last_review_id"] == row.last_review_id and first["detector"] == row.detector
    assert first["rescore_due_at"] is None

    arrived = clock.now()
    with factory() as s:
        reviews_service.add_many(s, clock, _farm(listing, clock.now()))
        s.commit()
    stale = get(merchant_path)  # still what was stored, and it says a rescore is coming
    assert {k: v for k, v in stale.items() if k != "rescore_due_at"} == {
        k: v for k, v in first.items() if k != "rescore_due_at"
    }
    assert stale["rescore_due_at"] == (arrived + RESCORE_DELAY).isoformat()
    clock.advance(RESCORE_DELAY - timedelta(seconds=1))
    assert timers.run_due(factory, clock) == 0  # not due yet
    clock.advance(seconds=1)
    assert timers.run_due(factory, clock) == 1
    after = get(merchant_path)
    assert after["reviews"] == 240 and after["excluded_in_blocks"] == 200
    assert after["honest"] < after["raw"] and after["rescore_due_at"] is None
    assert "discounting 200 reviews from one coordinated block" in after["explanation"]
    on_listing = get(listing_path)
    assert on_listing["status"] == "scored" and on_listing["merchant"] == shop
    assert on_listing["reviews"] == 240 and on_listing["excluded_in_blocks"] == 200
    with factory() as s:
        assert proposals(s, shop) == 1
        excluded = [r for r in reviews_service.of_merchant(s, shop) if r.excluded]
        assert len(excluded) == 200
        assert pending(s, shop) == []


def test_a_burst_of_reviews_schedules_one_rescore(session, clock, tmp_path):
    shop, listing = _shop(session, clock, tmp_path, "rb")
    first = clock.now()
    day = first - timedelta(days=1)
    for batch in range(10):  # 10,000 reviews in ten requests, a second apart
        reviews_service.add_many(
            session,
            clock,
            [
                reviews_service.ReviewIn(f"b{batch}-{i}", f"buyer:{batch}-{i}", listing, 4, "", day)
                for i in range(1000)
            ],
        )
        clock.advance(seconds=1)
    assert pending(session, shop) == [first + RESCORE_DELAY]  # one, and it kept its time
    reviews_service.add_many(session, clock, _honest(listing, clock.now())[:1])
    assert len(pending(session, shop)) == 1
    other, other_listing = _shop(session, clock, tmp_path, "rb2")
    three = _honest(other_listing, clock.now(), 3, "o")
    reviews_service.add_many(session, clock, three)
    assert len(pending(session, other)) == 1 and len(pending(session, shop)) == 1
    assert reviews_service.add_many(session, clock, three) == 0
    assert len(pending(session, other)) == 1  # replays are not new reviews


def test_running_the_job_twice_proposes_once_and_changes_nothing(factory, clock, tmp_path):
    with factory() as s:
        shop, listing = _shop(s, clock, tmp_path, "rt")
        reviews_service.add_many(s, clock, farm_reviews(listing, clock.now()))
        s.commit()
    clock.advance(RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1
    with factory() as s:
        assert proposals(s, shop) == 1
        reviews_service.rescore_soon(s, clock, [shop])  # the job is due once more
        s.commit()
        before = snapshot(s, skip=("timers",))
    clock.advance(RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1
    with factory() as s:
        assert snapshot(s, skip=("timers",)) == before
        [again] = detect.rescore(s, clock, [shop])  # and by hand, as the command does
        assert not again.changed and not again.proposed and again.newly_excluded == 0
        assert again.rating is not None and again.rating.discounted_in_blocks == 200
        assert snapshot(s, skip=("timers",)) == before
        assert proposals(s, shop) == 1


def test_reinstated_reviews_count_again_after_the_rescore_and_stay_counted(
    factory, clock, tmp_path
):
    with factory() as s:
        shop, listing = _shop(s, clock, tmp_path, "ri")
        reviews_service.add_many(s, clock, farm_reviews(listing, clock.now()))
        s.commit()
    clock.advance(RESCORE_DELAY)
    timers.run_due(factory, clock)
    with factory() as s:
        before = detect.merchant_rating(s, shop)
        ids = [r.id for r in reviews_service.of_merchant(s, shop) if r.excluded][:30]
        appeal = reviews_service.appeal_exclusion(
            s, clock, "ri1", merchant=shop, review_ids=ids, reason="regular customers"
        )
        reviews_service.decide_appeal(
            s, clock, appeal.id, decided_by="reviewer:li", reinstate=ids, reason="they bought"
        )
        assert len(pending(s, shop)) == 1
        s.commit()
    clock.advance(RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1
    with factory() as s:
        after = detect.merchant_rating(s, shop)
        assert after.excluded_in_blocks == before.excluded_in_blocks - 30
        assert after.honest > before.honest
        rows = {r.id: r for r in reviews_service.of_merchant(s, shop)}
        assert all(rows[i].reinstated and not rows[i].excluded for i in ids)
        assert proposals(s, shop) == 1


def test_a_subject_never_scored_gets_its_raw_rating_and_when_it_is_due(factory, clock, tmp_path):
    with factory() as s:
        shop, listing = _shop(s, clock, tmp_path, "ru")
        reviews_service.add_many(s, clock, _honest(listing, clock.now(), n=12))
        buyer = access.create_key(s, clock, "buyer", subject="buyer:stranger")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {buyer}"}
    due = (clock.now() + RESCORE_DELAY).isoformat()
    shown = client.get(f"/v1/catalog/merchants/{shop}/rating", headers=auth).json()
    mean = sum(3 + i % 3 for i in range(12)) / 12
    assert shown["status"] == "not_scored" and shown["reviews"] == 12
    assert shown["raw"] == round(mean, 2) and shown["rescore_due_at"] == due
    assert shown["honest"] is None and shown["excluded_in_blocks"] is None
    assert shown["computed_at"] is None and shown["detector"] is None
    assert shown["explanation"].startswith(f"{mean:.2f} from 12 reviews; not scored yet (due ")
    on_listing = client.get(f"/v1/catalog/listings/{listing}/rating", headers=auth).json()
    assert on_listing["status"] == "not_scored" and on_listing["reviews"] == 12
    assert on_listing["merchant"] == shop and on_listing["rescore_due_at"] == due
    nobody = client.get("/v1/catalog/merchants/merchant:nobody/rating", headers=auth).json()
    assert nobody["status"] == "not_scored" and nobody["reviews"] == 0
    assert nobody["rescore_due_at"] is None and nobody["raw"] == 0
    assert client.get("/v1/catalog/listings/999999/rating", headers=auth).status_code == 404


def test_detect_rescore_scores_now_and_prints_what_changed(cli, fresh_url, count, clock, tmp_path):
    engine = make_engine(fresh_url)
    with sessionmaker(engine)() as s:
        shop, listing = _shop(s, clock, tmp_path, "rc")
        reviews_service.add_many(s, clock, farm_reviews(listing, clock.now()))
        other, other_listing = _shop(s, clock, tmp_path, "rc2")
        reviews_service.add_many(s, clock, _honest(other_listing, clock.now(), 5, "o"))
        s.commit()
    engine.dispose()
    out = cli("detect", "rescore").stdout
    assert shop in out and other in out and "not scored" in out and "(RM-1 proposed)" in out
    assert (
        "2 merchant(s) rescored: 2 changed, 200 review(s) newly excluded, 1 "
        "rating-manipulation violation(s) proposed" in out
    )
    assert count("honest_ratings") == 4  # each merchant and its listing
    # the rescores the reviews scheduled were done by the command
    assert count(f"timers WHERE status = 'pending' AND kind = '{RESCORE}'") == 0
    again = cli("detect", "rescore", "--merchant", shop).stdout
    assert "1 merchant(s) rescored: 0 changed, 0 review(s) newly excluded, 0 " in again
    assert count("outbox WHERE topic = 'violation.proposed'") == 1
    none = cli("detect", "rescore", "--merchant", "merchant:nobody").stdout
    assert "merchant:nobody: no reviews, nothing to score" in none


@pytest.mark.postgres
def test_reviews_arriving_while_the_rescore_runs_are_scored_by_another(fresh_url, clock, tmp_path):
    """A runner holds the pending rescore (locked, marked done, not committed) and may have read
    the reviews already: reviews arriving then must schedule a new one, or they would wait,
    unscored, for the merchant's next review."""
    engine = make_engine(fresh_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        shop, listing = _shop(s, clock, tmp_path, "rr")
        reviews_service.add_many(s, clock, _honest(listing, clock.now(), n=10))
        s.commit()
    runner = sessions()
    try:
        [timer_id] = runner.execute(
            select(timer_rows.c.id).where(timer_rows.c.subject == shop).with_for_update()
        ).scalars()
        runner.execute(timer_rows.update().where(timer_rows.c.id == timer_id).values(status="done"))
        with sessions() as s:  # the platform posts more reviews meanwhile
            reviews_service.add_many(s, clock, _honest(listing, clock.now(), n=12)[10:])
            s.commit()
        runner.commit()
    finally:
        runner.close()
    with sessions() as s:
        assert len(pending(s, shop)) == 1
    engine.dispose()


@pytest.mark.postgres
def test_a_rescore_waits_for_reviews_being_written_and_two_at_once_propose_once(
    fresh_url, clock, tmp_path, until_blocked
):
    """The rescore cancels the merchant's pending timers before it reads the reviews; one an
    ingestion holds is waited for, so that ingestion's reviews are read. Two rescores racing
    exclude each review once and propose once."""
    engine = make_engine(fresh_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        shop, listing = _shop(s, clock, tmp_path, "rw")
        reviews_service.add_many(s, clock, _honest(listing, clock.now()))
        s.commit()
    ingestion = sessions()
    done: dict[str, object] = {}

    def rescore() -> None:
        try:
            done["rescored"] = run(sessions, lambda s: detect.rescore(s, clock, [shop]))
        except Exception as e:  # pragma: no cover - reported by the assertion below
            done["error"] = e

    try:
        reviews_service.add_many(ingestion, clock, _farm(listing, clock.now()))
        worker = threading.Thread(target=rescore)
        worker.start()
        until_blocked(engine, worker)  # the rescore waits on the pending timer the ingestion holds
        assert worker.is_alive()
        ingestion.commit()
        worker.join(60)
    finally:
        ingestion.close()
    assert "error" not in done, done
    [first] = done["rescored"]
    assert first.rating.reviews == 240 and first.newly_excluded == 200

    with sessions() as s:  # two at once: one excludes and proposes, the other finds it done
        s.execute(outbox.delete().where(outbox.c.topic == "violation.proposed"))
        s.execute(review_rows.update().values(excluded=False))
        s.commit()
    holder = sessions()
    try:
        detect.rescore(holder, clock, [shop])
        worker = threading.Thread(target=rescore)
        worker.start()
        until_blocked(engine, worker)  # the second rescore queues behind the holder's lock
        holder.commit()
        worker.join(60)
    finally:
        holder.close()
    assert "error" not in done, done
    with sessions() as s:
        assert proposals(s, shop) == 1
        assert len([r for r in reviews_service.of_merchant(s, shop) if r.excluded]) == 200
    engine.dispose()
