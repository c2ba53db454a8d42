"""Over HTTP: a brand's official images feed the gate; a merchant appeals excluded reviews."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from scipy.ndimage import gaussian_filter

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore
from xinren.reviews import service as reviews_service


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def png(seed: int, scale: float = 1.0) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = gaussian_filter(rng.random((240, 320, 3)) * 255, (6, 6, 0)) * scale
    out = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()


def upload(client, key, content, issuer, subject):
    r = client.post(
        "/v1/documents",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "image/png"},
        content=content,
        params={"doc_type": "screenshot", "issuer": issuer, "subject": subject},
    )
    assert r.status_code == 201, r.text
    return r.json()["sha256"]


def test_official_images_block_a_copy_from_an_unauthorized_seller(factory, clock, tmp_path):
    store = FileStore(tmp_path / "d")
    with factory() as s:
        case = stories.phone_case(s, clock, store, "im")
        samples.verified(s, clock, "merchant:grey")
        owner = access.create_key(s, clock, "brand_owner", subject=case.refs["owner"])[1]
        grey = access.create_key(s, clock, "merchant", subject="merchant:grey")[1]
        listing = catalog.get_listing(s, catalog.list_listings(s, merchant=case.refs["shop"])[0].id)
        brand = catalog.get_product(s, listing.product_id).brand_id
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory, store=store))
    official = upload(client, owner, png(1), case.refs["owner"], f"brand:{brand}")
    r = client.post(
        f"/v1/catalog/brands/{brand}/images",
        headers={"Authorization": f"Bearer {owner}"},
        json={"document": official},
    )
    assert r.status_code == 201 and r.json()["added"] is True and len(r.json()["pdq"]) == 64
    again = client.post(
        f"/v1/catalog/brands/{brand}/images",
        headers={"Authorization": f"Bearer {owner}"},
        json={"document": official},
    )
    assert again.json()["added"] is False
    stolen = client.post(  # another party may not add images to the brand
        f"/v1/catalog/brands/{brand}/images",
        headers={"Authorization": f"Bearer {grey}"},
        json={"document": official},
    )
    assert stolen.status_code == 403

    copy = upload(client, grey, png(1, scale=0.85), "merchant:grey", "listing:new")
    own = upload(client, grey, png(7), "merchant:grey", "listing:new")
    text = upload(client, grey, b"not an image", "merchant:grey", "listing:new")

    def listing_with(images: list[str], key: str):
        return client.post(
            "/v1/catalog/listings",
            headers={"Authorization": f"Bearer {grey}", "Idempotency-Key": key},
            json={
                "merchant": "merchant:grey",
                "product_id": listing.product_id,
                "batch_ids": [case.batch_id],
                "title": "P50 phone",
                "price": 199_900,
                "currency": "CNY",
                "images": images,
            },
        )

    blocked = listing_with([own, copy], "l1")
    assert blocked.status_code == 409
    assert any("PDQ distance" in x for x in blocked.json()["reasons"])
    without = listing_with([own], "l2")
    assert not any("PDQ" in x for x in without.json().get("reasons", []))
    bad = listing_with([text], "l3")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "images"
    assert listing_with(["f" * 64], "l4").status_code == 404
    assert listing_with([official], "l5").status_code == 403  # not grey's document
    assert listing_with(["nothex"], "l6").status_code == 422


def test_a_changed_listing_passes_the_gate_again_and_listings_have_honest_ratings(
    factory, clock, tmp_path
):
    from xinren.events import service as events

    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(tmp_path / "d"), "ch")
        shop = case.refs["shop"]
        listing = catalog.list_listings(s, merchant=shop)[0]
        samples.verified(s, clock, "merchant:grey")
        mine = access.create_key(s, clock, "merchant", subject=shop)[1]
        grey = access.create_key(s, clock, "merchant", subject="merchant:grey")[1]
        now = clock.now()
        reviews_service.add_many(
            s,
            clock,
            [
                reviews_service.ReviewIn(
                    f"r{i}", f"buyer:r{i}", listing.id, 4, "ok", now - timedelta(days=i + 1)
                )
                for i in range(12)
            ],
        )
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))
    auth = {"Authorization": f"Bearer {mine}"}
    path = f"/v1/catalog/listings/{listing.id}"
    ok = client.patch(path, headers=auth, json={"price": listing.price - 100})
    assert ok.status_code == 200 and ok.json()["price"] == listing.price - 100
    blocked = client.patch(path, headers=auth, json={"price": 1_000})
    assert blocked.status_code == 409 and "counterfeit gate" in blocked.json()["detail"]
    assert client.get(path, headers=auth).json()["price"] == listing.price - 100
    assert (
        client.patch(
            path, headers={"Authorization": f"Bearer {grey}"}, json={"title": "x"}
        ).status_code
        == 403
    )
    assert client.patch(path, headers=auth, json={"claims": {}}).status_code == 422
    assert client.patch(path, headers=auth, json={"price": -5}).status_code == 422
    with factory() as s:
        changed = [e for e in events.read(s, limit=10_000) if e.topic == "listing.changed"]
        intercepted = [e for e in events.read(s, limit=10_000) if e.topic == "listing.intercepted"]
    assert len(intercepted) == 1  # the blocked price cut only: bad input is not an interception
    assert changed[-1].payload["before"] == {"price": listing.price}
    rating = client.get(f"{path}/rating", headers=auth).json()
    assert rating["listing"] == listing.id and rating["reviews"] == 12 and rating["raw"] == 4.0
    assert "from 12 reviews" in rating["explanation"]
    assert client.get("/v1/catalog/listings/999999/rating", headers=auth).status_code == 404


def test_a_listing_keeps_its_photos_and_a_change_of_photos_is_recorded(factory, clock, tmp_path):
    from xinren.events import service as events

    store = FileStore(tmp_path / "d")
    with factory() as s:
        case = stories.phone_case(s, clock, store, "ph")
        shop = case.refs["shop"]
        listing = catalog.get_listing(s, catalog.list_listings(s, merchant=shop)[0].id)
        samples.verified(s, clock, "merchant:grey")
        mine = access.create_key(s, clock, "merchant", subject=shop)[1]
        grey = access.create_key(s, clock, "merchant", subject="merchant:grey")[1]
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory, store=store))
    auth = {"Authorization": f"Bearer {mine}"}
    first = upload(client, mine, png(11), shop, "listing:new")
    second = upload(client, mine, png(12), shop, f"listing:{listing.id}")
    theirs = upload(client, grey, png(13), "merchant:grey", "listing:x")
    created = client.post(
        "/v1/catalog/listings",
        headers=auth | {"Idempotency-Key": "ph1"},
        json={
            "merchant": shop,
            "product_id": listing.product_id,
            "batch_ids": list(listing.batch_ids),
            "title": "P50, as sold on stream",
            "price": listing.price,
            "currency": listing.currency,
            "images": [first],
        },
    )
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    path = f"/v1/catalog/listings/{new_id}"
    assert client.get(path, headers=auth).json()["images"] == [first]
    assert client.patch(path, headers=auth, json={"images": [theirs]}).status_code == 403
    changed = client.patch(path, headers=auth, json={"images": [first, second]})
    assert changed.status_code == 200 and changed.json()["images"] == [first, second]
    priced = client.patch(path, headers=auth, json={"price": listing.price - 1})
    assert priced.json()["images"] == [first, second]  # photos unchanged when not named
    with factory() as s:
        change = next(e for e in events.read(s, limit=10_000) if e.topic == "listing.changed")
    assert change.payload["before"] == {"images": [first]}
    assert change.payload["after"] == {"images": [first, second]}
