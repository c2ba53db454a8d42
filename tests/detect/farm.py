"""A listing's reviews: 40 honest ones over 40 days and a farm of 20 accounts posting 200
five-star reviews within hours, the shape the honest rating must see through."""

from __future__ import annotations

from datetime import datetime, timedelta

from xinren.reviews import service as reviews_service


def farm_reviews(listing_id: int, now: datetime) -> list[reviews_service.ReviewIn]:
    honest = [
        reviews_service.ReviewIn(
            f"h{i}", f"buyer:h{i}", listing_id, 3 + i % 3, "ok", now - timedelta(days=i + 1)
        )
        for i in range(40)
    ]
    farm = [
        reviews_service.ReviewIn(
            f"f{n}", f"buyer:farm{n % 20}", listing_id, 5, "great", now - timedelta(hours=n)
        )
        for n in range(200)
    ]
    return honest + farm
