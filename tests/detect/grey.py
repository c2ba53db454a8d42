"""A grey-market seller, verified but outside Huamei's authorization chain, and the fake
'Huamei P50' listing it tries to post: the gate must block it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from xinren.access import service as access
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents.store import FileStore

GREY = "merchant:grey"


def grey_seller(
    factory: sessionmaker[Session], clock: FakeClock, documents: Path, tag: str
) -> tuple[stories.Case, str, int]:
    """The phone case's world plus the grey seller: (case, the seller's API key, the phone's
    product id)."""
    with factory() as s:
        case = stories.phone_case(s, clock, FileStore(documents), tag)
        samples.verified(s, clock, GREY)
        key = access.create_key(s, clock, "merchant", subject=GREY)[1]
        listing = catalog.list_listings(s, merchant=case.refs["shop"])[0].id
        product = catalog.get_listing(s, listing).product_id
        s.commit()
    return case, key, product


def fake_p50(product: int, batch_id: int) -> dict[str, Any]:
    """The body of the grey seller's listing: the brand's name, a quarter of its price."""
    return {
        "merchant": GREY,
        "product_id": product,
        "batch_ids": [batch_id],
        "title": "Huamei P50",
        "price": 49_900,
        "currency": "CNY",
    }
