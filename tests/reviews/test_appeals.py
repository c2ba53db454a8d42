"""A merchant appeals reviews excluded as fake; a named person decides, and the reviews
reinstated count again in the honest rating (and are never excluded again)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

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
from xinren.documents.store import FileStore
from xinren.errors import ConcurrentRequest, Conflict, Forbidden, NotFound, ValidationFailed
from xinren.reviews import service as reviews_service
from xinren.reviews.tables import review_appeals
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _farm(session, clock, store_dir, tag):
    """The phone case's shop with a review farm on its listing (200 fake reviews of 240)."""
    case = stories.phone_case(session, clock, FileStore(store_dir), tag)
    shop = case.refs["shop"]
    listing = catalog.list_listings(session, merchant=shop)[0]
    reviews_service.add_many(session, clock, farm_reviews(listing.id, clock.now()))
    return case, shop, listing


def test_excluded_reviews_can_be_appealed_and_reinstated_reviews_count_again(
    session, clock, tmp_path
):
    _, shop, _ = _farm(session, clock, tmp_path / "d", "ap")
    before = detect.rate_merchant(session, clock, shop)
    excluded = [r.id for r in reviews_service.of_merchant(session, shop) if r.excluded]
    assert len(excluded) == 200
    counted = [r.id for r in reviews_service.of_merchant(session, shop) if not r.excluded]
    with pytest.raises(Conflict):  # a review that counts has nothing to appeal
        reviews_service.appeal_exclusion(
            session, clock, "a0", merchant=shop, review_ids=counted[:1], reason="x"
        )
    with pytest.raises(Forbidden):
        reviews_service.appeal_exclusion(
            session, clock, "a0", merchant="merchant:other", review_ids=excluded[:1], reason="x"
        )
    with pytest.raises(NotFound):
        reviews_service.appeal_exclusion(
            session, clock, "a0", merchant=shop, review_ids=[10**9], reason="x"
        )
    with pytest.raises(ValidationFailed) as e:
        reviews_service.appeal_exclusion(
            session, clock, "a0", merchant=shop, review_ids=excluded[:1], reason="  "
        )
    assert e.value.field == "reason"
    appeal = reviews_service.appeal_exclusion(
        session,
        clock,
        "a1",
        merchant=shop,
        review_ids=excluded[:20],
        reason="these are our regular customers; here are their orders",
    )
    replay = reviews_service.appeal_exclusion(
        session, clock, "a1", merchant=shop, review_ids=excluded[:20], reason="again"
    )
    assert replay.id == appeal.id and appeal.status == "open"
    with pytest.raises(Conflict):  # the same reviews in a second open appeal
        reviews_service.appeal_exclusion(
            session, clock, "a2", merchant=shop, review_ids=excluded[10:30], reason="x"
        )
    with pytest.raises(ValidationFailed) as e:  # never decided by automation
        reviews_service.decide_appeal(
            session, clock, appeal.id, decided_by="system", reinstate=[], reason="auto"
        )
    assert e.value.field == "decided_by"
    with pytest.raises(ValidationFailed):
        reviews_service.decide_appeal(
            session, clock, appeal.id, decided_by="reviewer:li", reinstate=[counted[0]], reason="x"
        )
    decided = reviews_service.decide_appeal(
        session,
        clock,
        appeal.id,
        decided_by="reviewer:li",
        reinstate=excluded[:5],
        reason="five of them bought and received the goods",
    )
    assert decided.status == "partly" and decided.reinstated_ids == tuple(excluded[:5])
    with pytest.raises(Conflict):
        reviews_service.decide_appeal(
            session, clock, appeal.id, decided_by="reviewer:li", reinstate=[], reason="again"
        )
    after = detect.rate_merchant(session, clock, shop)  # detection runs again
    rows = {r.id: r for r in reviews_service.of_merchant(session, shop)}
    assert all(not rows[i].excluded and rows[i].reinstated for i in excluded[:5])
    assert all(rows[i].excluded for i in excluded[5:])
    assert after.discounted_in_blocks == before.discounted_in_blocks - 5
    assert after.robust > before.robust


def test_a_merchant_appeals_excluded_reviews_and_a_reviewer_reinstates_them(
    factory, clock, tmp_path
):
    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "ra")
        shop = case.refs["shop"]
        listing = catalog.list_listings(s, merchant=shop)[0].id
        reviews_service.add_many(s, clock, farm_reviews(listing, clock.now()))
        merchant = access.create_key(s, clock, "merchant", subject=shop)[1]
        other = access.create_key(s, clock, "merchant", subject="merchant:other")[1]
        reviewer = access.create_key(s, clock, "reviewer", subject="reviewer:li")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    mine = {"Authorization": f"Bearer {merchant}"}
    clock.advance(reviews_service.RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1  # the rescore the reviews scheduled
    before = client.get(f"/v1/catalog/merchants/{shop}/rating", headers=mine).json()
    excluded = client.get(
        f"/v1/catalog/merchants/{shop}/reviews", headers=mine, params={"excluded": True}
    ).json()
    assert len(excluded) == 200 and all(r["excluded"] for r in excluded)
    assert (
        client.get(
            f"/v1/catalog/merchants/{shop}/reviews", headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 403
    )
    ids = [r["id"] for r in excluded[:10]]
    body = {"merchant": shop, "review_ids": ids, "reason": "regular customers"}
    r = client.post(
        "/v1/catalog/review-appeals", headers=mine | {"Idempotency-Key": "ap1"}, json=body
    )
    assert r.status_code == 201 and r.json()["status"] == "open"
    appeal = r.json()["id"]
    forged = client.post(
        "/v1/catalog/review-appeals",
        headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "ap2"},
        json=body,
    )
    assert forged.status_code == 403
    by_merchant = client.post(  # the merchant cannot decide its own appeal
        f"/v1/catalog/review-appeals/{appeal}/decision",
        headers=mine,
        json={"reinstate": ids, "reason": "mine"},
    )
    assert by_merchant.status_code == 403
    decided = client.post(
        f"/v1/catalog/review-appeals/{appeal}/decision",
        headers={"Authorization": f"Bearer {reviewer}"},
        json={"reinstate": ids, "reason": "their orders were delivered and kept"},
    )
    assert decided.status_code == 200 and decided.json()["status"] == "reinstated"
    assert decided.json()["decided_by"] == "reviewer:li"
    assert client.get(f"/v1/catalog/review-appeals/{appeal}", headers=mine).json()["status"] == (
        "reinstated"
    )
    clock.advance(reviews_service.RESCORE_DELAY)
    assert timers.run_due(factory, clock) == 1  # the reinstatement scheduled a rescore
    after = client.get(f"/v1/catalog/merchants/{shop}/rating", headers=mine).json()
    assert after["honest"] > before["honest"] and "190 reviews" in after["explanation"]


def test_reinstated_reviews_count_in_full(session, clock, tmp_path):
    """A person judged these reviews genuine, yet the rating still weights them by the
    unsupervised suspicion score, so the reinstated reviews barely count."""
    _, shop, _ = _farm(session, clock, tmp_path / "d", "rf")
    before = detect.rate_merchant(session, clock, shop)
    excluded = [r.id for r in reviews_service.of_merchant(session, shop) if r.excluded]
    appeal = reviews_service.appeal_exclusion(
        session, clock, "rf1", merchant=shop, review_ids=excluded[:40], reason="real customers"
    )
    reviews_service.decide_appeal(
        session, clock, appeal.id, decided_by="reviewer:li", reinstate=excluded[:40], reason="ok"
    )
    after = detect.rate_merchant(session, clock, shop)
    assert after.discounted_in_blocks == before.discounted_in_blocks - 40
    assert after.effective - before.effective >= 40 * 0.9, (before.effective, after.effective)


def test_a_retried_decision_on_a_review_appeal_gets_the_decision(factory, clock, tmp_path):
    """The decision endpoint takes no Idempotency-Key: a reviewer's retry of the very same
    decision (a lost response) is answered 409 instead of with the decision."""
    with factory() as s:
        _, shop, _ = _farm(s, clock, tmp_path / "d", "rd")
        detect.rate_merchant(s, clock, shop)
        excluded = [r.id for r in reviews_service.of_merchant(s, shop) if r.excluded][:3]
        appeal = reviews_service.appeal_exclusion(
            s, clock, "rd1", merchant=shop, review_ids=excluded, reason="regulars"
        )
        reviewer = access.create_key(s, clock, "reviewer", subject="reviewer:li")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    body = {"reinstate": excluded, "reason": "their orders were delivered"}
    headers = {"Authorization": f"Bearer {reviewer}", "Idempotency-Key": "dec-1"}
    path = f"/v1/catalog/review-appeals/{appeal.id}/decision"
    first = client.post(path, headers=headers, json=body)
    assert first.status_code == 200
    retry = client.post(path, headers=headers, json=body)
    assert retry.status_code == 200 and retry.json() == first.json(), retry.json()


@pytest.mark.postgres
def test_concurrent_retries_of_one_appeal_are_one_appeal_not_a_500(
    fresh_url, clock, tmp_path, until_blocked
):
    """appeal_exclusion does not catch the unique key's violation: a retry racing the first
    request ends in IntegrityError (a 500) instead of ConcurrentRequest or the appeal."""
    engine = make_engine(fresh_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        _, shop, _ = _farm(s, clock, tmp_path / "d", "cc")
        detect.rate_merchant(s, clock, shop)
        ids = [r.id for r in reviews_service.of_merchant(s, shop) if r.excluded][:5]
        s.commit()
    result: dict[str, object] = {}

    def retry() -> None:
        with sessions() as s2:
            try:
                result["appeal"] = reviews_service.appeal_exclusion(
                    s2, clock, "same", merchant=shop, review_ids=ids, reason="regulars"
                )
                s2.commit()
            except Exception as e:
                result["error"] = e
                s2.rollback()

    first = sessions()
    try:
        reviews_service.appeal_exclusion(
            first, clock, "same", merchant=shop, review_ids=ids, reason="regulars"
        )
        worker = threading.Thread(target=retry)
        worker.start()
        until_blocked(engine, worker)  # the retry waits on the unique key held by the first
        first.commit()
        worker.join(30)
    finally:
        first.close()
    with sessions() as s:
        n = s.execute(select(func.count()).select_from(review_appeals)).scalar_one()
    engine.dispose()
    assert n == 1
    error = result.get("error")
    assert error is None or isinstance(error, ConcurrentRequest), repr(error)


@pytest.mark.postgres
def test_two_appeals_filed_at_once_do_not_both_contest_the_same_reviews(
    fresh_url, clock, tmp_path, until_blocked
):
    """The 'one open appeal per review' check reads without a lock: two appeals filed at the
    same time under different keys both open on the same reviews."""
    engine = make_engine(fresh_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as s:
        _, shop, _ = _farm(s, clock, tmp_path / "d", "dd")
        detect.rate_merchant(s, clock, shop)
        ids = [r.id for r in reviews_service.of_merchant(s, shop) if r.excluded][:5]
        s.commit()
    first, second = sessions(), sessions()
    outcome: dict[str, object] = {}

    def file_second() -> None:
        try:
            reviews_service.appeal_exclusion(
                second, clock, "k2", merchant=shop, review_ids=ids, reason="again"
            )
            second.commit()
        except Exception as e:
            outcome["error"] = e
            second.rollback()

    try:
        reviews_service.appeal_exclusion(
            first, clock, "k1", merchant=shop, review_ids=ids, reason="regulars"
        )
        worker = threading.Thread(target=file_second)
        worker.start()
        until_blocked(engine, worker)  # the second filing queues behind the first's lock
        first.commit()
        worker.join(30)
    finally:
        first.close()
        second.close()
    with sessions() as s:
        open_appeals = s.execute(
            select(func.count())
            .select_from(review_appeals)
            .where(review_appeals.c.merchant == shop, review_appeals.c.status == "open")
        ).scalar_one()
    engine.dispose()
    assert open_appeals == 1, outcome
