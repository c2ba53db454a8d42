"""Honest ratings (the counterfeit gate's tests are in tests/catalog)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from tests.detect.farm import farm_reviews
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.detect import service as detect
from xinren.detect.ratings import honest
from xinren.documents.store import FileStore
from xinren.events import service as events
from xinren.reviews import service as reviews_service


def test_honest_rating_discounts_blocks_and_shrinks_small_samples():
    ratings = np.array([5.0] * 8 + [3.0, 4.0])
    block = np.array([True] * 8 + [False, False])
    r = honest(ratings, np.zeros(10), block, 1, category_mean=4.0)
    assert r.raw == pytest.approx(4.7) and r.robust == pytest.approx((20 * 4 + 7) / 22)
    assert r.explain().startswith("4.70 from 10 reviews; 3.95 after discounting 8 reviews from one")


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def test_a_review_farm_is_found_excluded_and_proposed(session, clock, tmp_path):
    case = stories.phone_case(session, clock, FileStore(tmp_path / "d"), "rf")
    listing = catalog.list_listings(session, merchant=case.refs["shop"])[0]
    items = farm_reviews(listing.id, clock.now())
    assert reviews_service.add_many(session, clock, items) == 240
    assert reviews_service.add_many(session, clock, items[:5]) == 0  # replays
    rating = detect.rate_merchant(session, clock, case.refs["shop"])
    assert rating.discounted_in_blocks == 200 and rating.robust < rating.raw
    excluded = [r for r in reviews_service.of_merchant(session, case.refs["shop"]) if r.excluded]
    assert len(excluded) == 200
    proposed = [e for e in events.read(session, limit=5000) if e.topic == "violation.proposed"]
    assert proposed and proposed[-1].payload["rule"] == "RM-1"


def test_reviews_in_bulk_and_the_rating_over_http(factory, clock, tmp_path):
    from fastapi.testclient import TestClient

    from xinren.access import service as access
    from xinren.api.app import create_app

    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "rv")
        listing = catalog.list_listings(s, merchant=case.refs["shop"])[0].id
        platform = access.create_key(s, clock, "platform")[1]
        buyer = access.create_key(s, clock, "buyer", subject="buyer:1")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    batch = [
        {
            "key": f"r{i}",
            "buyer": f"buyer:{i}",
            "listing_id": listing,
            "rating": 5,
            "reviewed_at": "2026-07-01T10:00:00+08:00",
        }
        for i in range(30)
    ]
    auth = {"Authorization": f"Bearer {platform}"}
    r = client.post("/v1/catalog/reviews", headers=auth, json=batch)
    assert r.json() == {"received": 30, "created": 30}
    assert client.post("/v1/catalog/reviews", headers=auth, json=batch).json()["created"] == 0
    bad = client.post("/v1/catalog/reviews", headers=auth, json=[batch[0] | {"rating": 6}])
    assert bad.status_code == 422
    assert (
        client.post(
            "/v1/catalog/reviews", headers={"Authorization": f"Bearer {buyer}"}, json=batch
        ).status_code
        == 403
    )
    rating = client.get(f"/v1/catalog/merchants/{case.refs['shop']}/rating", headers=auth).json()
    assert (
        rating["raw"] == 5.0
        and rating["reviews"] == 30
        and "from 30 reviews" in rating["explanation"]
    )
