"""Reviews of listings: one by one or in bulk, a verified purchase when the buyer's order for
the listing is named. Reviews judged fake are kept but stop counting in ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.tables import reviews
from xinren.clock import Clock
from xinren.errors import IdempotencyKeyReused, ValidationFailed
from xinren.ids import check_idempotency_key
from xinren.orders.tables import orders


@dataclass(frozen=True, slots=True)
class ReviewIn:
    key: str
    buyer: str
    listing_id: int
    rating: int
    text: str
    reviewed_at: datetime
    order_id: int | None = None


def _check(session: Session, r: ReviewIn, where: str) -> dict[str, Any]:
    check_idempotency_key(r.key, field=f"{where}key")
    if not isinstance(r.rating, int) or not 1 <= r.rating <= 5:
        raise ValidationFailed("rating is a whole number from 1 to 5", field=f"{where}rating")
    if len(r.text) > 5000:
        raise ValidationFailed("text is at most 5,000 characters", field=f"{where}text")
    if r.reviewed_at.tzinfo is None:
        raise ValidationFailed("reviewed_at needs a time zone", field=f"{where}reviewed_at")
    listing = catalog.get_listing(session, r.listing_id)
    if r.order_id is not None:
        o = session.execute(select(orders).where(orders.c.id == r.order_id)).first()
        if o is None or o.buyer != r.buyer or o.listing_id != r.listing_id:
            raise ValidationFailed(
                f"order {r.order_id} is not {r.buyer}'s purchase of listing {r.listing_id}",
                field=f"{where}order_id",
            )
    return dict(
        idempotency_key=r.key,
        buyer=r.buyer,
        listing_id=r.listing_id,
        merchant=listing.merchant,
        order_id=r.order_id,
        rating=r.rating,
        text=r.text,
        reviewed_at=r.reviewed_at,
        excluded=False,
    )


def add_many(session: Session, clock: Clock, items: Sequence[ReviewIn]) -> int:
    """Ingest reviews all-or-nothing; a replayed key is skipped, a reused one refused.
    Returns how many were new."""
    rows = []
    keys = [r.key for r in items]
    known = {
        row.idempotency_key: row
        for row in session.execute(select(reviews).where(reviews.c.idempotency_key.in_(keys)))
    }
    now = clock.now()
    for i, item in enumerate(items):
        where = f"reviews[{i}]." if len(items) > 1 else ""
        row = _check(session, item, where)
        if item.key in known:
            old = known[item.key]
            if (old.buyer, old.listing_id, old.rating) != (
                item.buyer,
                item.listing_id,
                item.rating,
            ):
                raise IdempotencyKeyReused(
                    f"key {item.key!r} holds another review", field=f"{where}key"
                )
            continue
        rows.append(row | {"created_at": now})
    if rows:
        session.execute(reviews.insert(), rows)
    return len(rows)


def of_merchant(session: Session, merchant: str) -> list[Any]:
    return list(
        session.execute(
            select(reviews).where(reviews.c.merchant == merchant).order_by(reviews.c.id)
        )
    )


def exclude(session: Session, ids: Sequence[int], excluded: bool = True) -> None:
    """Judged fake (or, on appeal, reinstated)."""
    if ids:
        session.execute(
            update(reviews).where(reviews.c.id.in_(list(ids))).values(excluded=excluded)
        )
