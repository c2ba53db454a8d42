"""Holes a review found in the detection additions, each pinned by a test."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.cases.test_stories import completed_order
from tests.detect.farm import farm_reviews
from tests.detect.test_abuse_and_appeals import unfounded
from tests.detect.test_http_images_appeals import upload
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.cases import service as cases
from xinren.catalog import service as catalog
from xinren.catalog.tables import interceptions
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.detect import buyers
from xinren.documents.store import FileStore
from xinren.parties import deposits
from xinren.reviews import service as reviews_service
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _interceptions(session, merchant: str | None = None) -> int:
    q = select(func.count()).select_from(interceptions)
    if merchant is not None:
        q = q.where(interceptions.c.merchant == merchant)
    return int(session.execute(q).scalar_one())


def _farm(session, clock, store_dir, tag):
    case = stories.phone_case(session, clock, FileStore(store_dir), tag)
    shop = case.refs["shop"]
    listing = catalog.list_listings(session, merchant=shop)[0]
    reviews_service.add_many(session, clock, farm_reviews(listing.id, clock.now()))
    return case, shop, listing


# --- the counterfeit gate: PATCH and the draft key ---


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


# --- PDQ on uploaded images ---


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_naming_the_field(factory, clock, tmp_path):
    store = FileStore(tmp_path / "d")
    with factory() as s:
        case = stories.phone_case(s, clock, store, "bo")
        owner = access.create_key(s, clock, "brand_owner", subject=case.refs["owner"])[1]
        listing = catalog.list_listings(s, merchant=case.refs["shop"])[0]
        brand = catalog.get_product(s, listing.product_id).brand_id
        s.commit()
    client = TestClient(
        create_app(clock=clock, sessions=factory, store=store), raise_server_exceptions=False
    )
    bomb = upload(
        client, owner, _png_header_only(30_000, 30_000), case.refs["owner"], f"brand:{brand}"
    )
    r = client.post(
        f"/v1/catalog/brands/{brand}/images",
        headers={"Authorization": f"Bearer {owner}"},
        json={"document": bomb},
    )
    assert r.status_code == 422, r.text  # today: PIL's DecompressionBombError, a 500
    assert r.json()["errors"][0]["field"] in ("document", "images")


# --- abuse weights ---


def test_identifiers_differing_only_in_spacing_link_the_accounts(session, clock):
    """The digest is said to ignore spacing, but only runs of spaces are collapsed: a ring
    escapes the link by writing the same payment account without spaces."""
    buyers.add_identifier(session, clock, "buyer:ring1", "payment_account", "6222 0000 1111 2222")
    buyers.add_identifier(session, clock, "buyer:ring2", "payment_account", "6222000011112222")
    assert buyers.record_of(session, "buyer:ring2").shared_with_others == 1


def _held_case(session, clock):
    samples.verified(session, clock, "merchant:tea")
    deposits.pay_deposit(session, clock, "dep", "merchant:tea", 500_000, "CNY")
    order = completed_order(session, clock, "merchant:tea", "ab", 12_800, "tea")
    for n in range(4):
        unfounded(session, clock, f"buyer:ring{n}", 3, f"r{n}-", "merchant:tea")
        buyers.add_identifier(session, clock, f"buyer:ring{n}", "address", "Room 1, 8 Lane")
    buyers.add_identifier(session, clock, order.buyer, "address", "room 1, 8 lane")
    filed = cases.file_case(
        session,
        clock,
        "c-held",
        order_id=order.id,
        buyer=order.buyer,
        kind="counterfeit",
        statement="fake tea",
    )
    assert cases.get_case(session, filed["id"], staff=True)["buyer_weight"] < 0.5
    return order, filed


def test_a_case_held_for_review_keeps_a_deadline(session, clock):
    """The held case goes to mediation with no timer, no reviewer and no decision date: nothing
    brings it back (cases.yaml's decision_days is never used)."""
    _, filed = _held_case(session, clock)
    clock.advance(timedelta(hours=49))
    for t in [t for t in timers.pending(session) if t.kind == cases.MERCHANT_DEADLINE]:
        cases._merchant_deadline(session, clock, t)
        timers.cancel(session, t.kind, t.subject)
    held = cases.get_case(session, filed["id"])
    assert held["state"] == "in_mediation" and held["outcome"] is None
    waiting = [t for t in timers.pending(session) if t.subject == str(filed["id"])]
    assert waiting, "a held case has no timer: it waits for a reviewer for ever"


def test_the_merchant_does_not_see_the_buyers_abuse_weight(factory, clock):
    """GET /v1/cases/{id} returns every column, buyer_weight included: the merchant learns that
    the buyer is rated abusive (from identifiers shared with other accounts)."""
    with factory() as s:
        _, filed = _held_case(s, clock)
        merchant = access.create_key(s, clock, "merchant", subject="merchant:tea")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {merchant}"}
    one = client.get(f"/v1/cases/{filed['id']}", headers=auth)
    assert one.status_code == 200
    assert "buyer_weight" not in one.json()
    assert all("buyer_weight" not in c for c in client.get("/v1/cases", headers=auth).json())
