"""Brand images uploaded for the gate's PDQ hashes are size-checked before they are decoded: a
decompression bomb is refused naming the field (a hole a review of detection found)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.detect.test_http_images_appeals import upload
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge canvas (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_naming_the_field(factory, clock, tmp_path):
    """A brand image declaring a 30,000 x 30,000 canvas was decoded whole before hashing:
    PIL's DecompressionBombError, answered as a 500."""
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
