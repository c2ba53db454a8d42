"""The counterfeit gate's verdict belongs to one draft of one merchant: a listing changed again,
another merchant's draft under the same Idempotency-Key, or a change to a removed listing is
never answered with an earlier verdict (holes a review of detection found, each pinned here)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.catalog.tables import interceptions
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _interceptions(session, merchant: str | None = None) -> int:
    q = select(func.count()).select_from(interceptions)
    if merchant is not None:
        q = q.where(interceptions.c.merchant == merchant)
    return int(session.execute(q).scalar_one())


def test_a_changed_listing_is_not_let_through_on_a_stale_verdict(factory, clock, tmp_path):
    """PATCH keys its interception by the body alone: a change once held for review is let
    through again later without the gate running, even after the seller lost its authorization
    (the gate would now block it)."""
    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "st")
        shop = case.refs["shop"]
        listing = catalog.list_listings(s, merchant=shop)[0]
        brand = catalog.get_product(s, listing.product_id).brand_id
        key = access.create_key(s, clock, "merchant", subject=shop)[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {key}"}
    path = f"/v1/catalog/listings/{listing.id}"
    low = client.patch(path, headers=auth, json={"price": 80_000})  # 40% of the reference: review
    assert low.status_code == 200, low.text
    assert client.patch(path, headers=auth, json={"price": listing.price}).status_code == 200
    with factory() as s:  # the shop's authorization is revoked
        [grant] = catalog.authorizations_of(s, shop, brand)
        catalog.revoke_authorization(s, clock, grant.id)
        s.commit()
    fresh = client.patch(path, headers=auth, json={"price": 80_001})
    assert fresh.status_code == 409  # the gate, run, blocks the unauthorized seller
    again = client.patch(path, headers=auth, json={"price": 80_000})
    assert again.status_code == 409, again.json()  # today: 200 on the first verdict, replayed
    assert client.get(path, headers=auth).json()["price"] == listing.price


def test_one_idempotency_key_does_not_carry_a_verdict_to_another_merchants_draft(
    factory, clock, tmp_path
):
    """POST /listings keys the interception by (API key, Idempotency-Key) only: a platform key
    relaying two merchants' drafts under the same key gives the second merchant the first one's
    verdict (naming the first merchant) and the second counterfeit is never recorded."""
    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "dk")
        listing = catalog.list_listings(s, merchant=case.refs["shop"])[0]
        for m in ("merchant:grey-a", "merchant:grey-b"):
            samples.verified(s, clock, m)
        platform = access.create_key(s, clock, "platform")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))

    def draft(merchant: str, title: str):
        return client.post(
            "/v1/catalog/listings",
            headers={"Authorization": f"Bearer {platform}", "Idempotency-Key": "draft-1"},
            json={
                "merchant": merchant,
                "product_id": listing.product_id,
                "batch_ids": [case.batch_id],
                "title": title,
                "price": 199_900,
                "currency": "CNY",
            },
        )

    first = draft("merchant:grey-a", "Huamei P50 phone")
    assert first.status_code == 409 and "merchant:grey-a" in first.text
    second = draft("merchant:grey-b", "Huamei P50 sealed box, genuine")
    assert "merchant:grey-a" not in second.text  # today: grey-a's reasons shown to grey-b
    with factory() as s:
        recorded = _interceptions(s, "merchant:grey-b")
    assert second.status_code == 422 or recorded == 1  # refused as a reused key, or counted


def test_a_change_to_a_removed_listing_is_refused_before_the_gate(factory, clock, tmp_path):
    """A removed listing cannot change; the gate must not count the attempt as an intercepted
    listing (the transparency report's figure) nor answer with gate reasons."""
    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "rm")
        shop = case.refs["shop"]
        listing = catalog.list_listings(s, merchant=shop)[0]
        catalog.set_listing_status(s, clock, listing.id, "removed", reason="sanction")
        key = access.create_key(s, clock, "merchant", subject=shop)[1]
        before = _interceptions(s)
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    r = client.patch(
        f"/v1/catalog/listings/{listing.id}",
        headers={"Authorization": f"Bearer {key}"},
        json={"price": 1_000},
    )
    assert r.status_code == 409 and "removed" in r.json()["detail"], r.json()
    with factory() as s:
        assert _interceptions(s) == before
