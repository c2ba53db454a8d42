"""Detection against the platform's own records: honest ratings of merchants, with the fake
reviews found excluded and a rating-manipulation violation proposed. (The counterfeit gate is
the catalog's, `xinren.catalog.gate`, so every listing write runs it.)

Ratings are scored by a rescore (`rescore`): the timer that reviews arriving schedule
(`reviews.service.RESCORE`, run by `xinren tick` and `xinren serve`), or `xinren detect
rescore`. It stores what it found in `honest_ratings`; reading a rating (`merchant_rating`,
`listing_rating`) is one lookup there and never runs detection or writes anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.detect import ratings
from xinren.detect.ratings import HonestRating
from xinren.detect.reviews import Reviews
from xinren.detect.tables import honest_ratings
from xinren.events import service as events
from xinren.reviews import service as reviews_service
from xinren.reviews.service import RESCORE
from xinren.reviews.tables import reviews
from xinren.timers import service as timers
from xinren.timers.model import Timer


def _arrays(rows: Sequence[Any]) -> Reviews:
    buyers, user = np.unique(np.array([r.buyer for r in rows]), return_inverse=True)
    items, product = np.unique(np.array([r.listing_id for r in rows]), return_inverse=True)
    return Reviews(
        user.astype(np.int64),
        product.astype(np.int64),
        np.array([float(r.rating) for r in rows]),
        np.array([r.reviewed_at.date().toordinal() for r in rows], dtype=np.int64),
        None,
        buyers.astype(str),
        items.astype(str),
    )


@dataclass(frozen=True)
class Rescored:
    """What one merchant's rescore did, for whoever ran it (`xinren detect rescore` prints it)."""

    merchant: str
    before: float | None  # the honest rating stored before; None if never scored
    rating: HonestRating | None  # None: the merchant has no reviews, so nothing was scored
    changed: bool  # a stored rating (the merchant's or a listing's) was written
    newly_excluded: int
    proposed: bool  # a rating-manipulation violation was proposed


def rescore(session: Session, clock: Clock, merchants: Sequence[str]) -> list[Rescored]:
    """Score the merchants' honest ratings and their listings' from every review: reviews in a
    coordinated block are excluded (kept, appealable; never one a person reinstated), RM-1 is
    proposed with the reviews this run excluded as evidence, and the ratings are stored.
    Idempotent: with no new reviews it writes nothing and proposes nothing again."""
    wanted = sorted(set(merchants))
    if not wanted:
        return []
    # The pending rescores of these merchants end here. They are cancelled before the reviews
    # are read, so the reviews whose arrival scheduled them (committed with them) are read
    # below; one that another transaction still holds is waited for, then cancelled.
    timers.cancel_many(session, RESCORE, wanted)
    rows = session.execute(
        select(
            reviews.c.id,
            reviews.c.buyer,
            reviews.c.listing_id,
            reviews.c.merchant,
            reviews.c.rating,
            reviews.c.reviewed_at,
            reviews.c.reinstated,
        ).order_by(reviews.c.id)
    ).all()
    before = _stored_merchants(session, wanted)
    if not rows:
        return [Rescored(m, before.get(m), None, False, 0, False) for m in wanted]
    graph = ratings.coordinated(_arrays(rows))
    ids = np.array([r.id for r in rows], dtype=np.int64)
    listing_ids = np.array([r.listing_id for r in rows], dtype=np.int64)
    genuine = np.array([bool(r.reinstated) for r in rows])
    names, code = np.unique(np.array([r.merchant for r in rows]), return_inverse=True)
    order = np.argsort(code, kind="stable")  # each merchant's reviews, in id order
    sorted_code = code[order]
    done = []
    for merchant in wanted:
        at = int(np.searchsorted(names, merchant))
        if at == len(names) or names[at] != merchant:
            done.append(Rescored(merchant, before.get(merchant), None, False, 0, False))
            continue
        lo, hi = np.searchsorted(sorted_code, [at, at + 1])
        scored = ratings.score(graph, order[lo:hi], ids, listing_ids, genuine)
        newly = reviews_service.exclude(session, ids[scored.in_block].tolist())
        if newly:
            events.append(
                session,
                clock,
                "violation.proposed",
                merchant,
                {
                    "rule": "RM-1",
                    "subject": merchant,
                    "source": "automated_detection",
                    "evidence": [f"review:{i}" for i in newly[:50]],
                    "facts": scored.merchant.rating.explain(),
                },
            )
        changed = _store(session, clock, merchant, scored)
        done.append(
            Rescored(
                merchant,
                before.get(merchant),
                scored.merchant.rating,
                changed,
                len(newly),
                bool(newly),
            )
        )
    return done


def _stored_merchants(session: Session, merchants: Sequence[str]) -> dict[str, float]:
    return {
        m: h
        for m, h in session.execute(
            select(honest_ratings.c.merchant, honest_ratings.c.honest).where(
                honest_ratings.c.merchant.in_(list(merchants)),
                honest_ratings.c.listing_id.is_(None),
            )
        )
    }


def _store(session: Session, clock: Clock, merchant: str, scored: ratings.Scored) -> bool:
    """Write the merchant's and its listings' ratings where they differ from the stored ones;
    True if any was written."""
    existing = {
        row.listing_id: row
        for row in session.execute(
            select(honest_ratings).where(honest_ratings.c.merchant == merchant)
        )
    }
    now = clock.now()
    changed = False
    for subject in (scored.merchant, *scored.listings):
        values = ratings.stored_values(subject)
        old = existing.get(subject.listing_id)
        if old is None:
            session.execute(
                honest_ratings.insert(),
                values
                | {"merchant": merchant, "listing_id": subject.listing_id, "computed_at": now},
            )
        elif any(getattr(old, k) != v for k, v in values.items()):
            session.execute(
                update(honest_ratings)
                .where(honest_ratings.c.id == old.id)
                .values(values | {"computed_at": now})
            )
        else:
            continue
        changed = True
    return changed


@timers.handler(RESCORE)
def _rescore_due(session: Session, clock: Clock, timer: Timer) -> None:
    """Reviews arrived for the merchant (or were reinstated) a while ago: rescore it."""
    rescore(session, clock, [timer.subject])


def rate_merchant(session: Session, clock: Clock, merchant: str) -> HonestRating:
    """Rescore one merchant now and return its honest rating (what the rescore job does)."""
    [done] = rescore(session, clock, [merchant])
    return done.rating or HonestRating(0.0, 0, 0.0, 0.0, 0, 0)


def merchants_with_reviews(session: Session) -> list[str]:
    return list(
        session.execute(
            select(reviews.c.merchant).distinct().order_by(reviews.c.merchant)
        ).scalars()
    )


# --- reading a rating: one lookup, no detection, no write ---


def _due(merchant: Any) -> Any:
    """When the merchant's pending rescore is due (NULL if none), as a scalar subquery."""
    return timers.next_due(RESCORE, merchant)


def _unscored(session: Session, where: Any, merchant: str) -> ratings.Shown:
    total, count, due = session.execute(
        select(func.coalesce(func.sum(reviews.c.rating), 0), func.count(), _due(merchant)).where(
            where
        )
    ).one()
    return ratings.unscored(int(total), int(count), due)


def merchant_rating(session: Session, merchant: str) -> ratings.Shown:
    """The merchant's rating as the last rescore stored it; never scored: its raw mean and
    when a rescore is due."""
    found = session.execute(
        select(honest_ratings, _due(honest_ratings.c.merchant).label("due")).where(
            honest_ratings.c.merchant == merchant, honest_ratings.c.listing_id.is_(None)
        )
    ).first()
    if found is not None:
        return ratings.stored(found, found.due)
    return _unscored(session, reviews.c.merchant == merchant, merchant)


def listing_rating(session: Session, listing_id: int) -> tuple[str, ratings.Shown]:
    """(merchant, rating) of one listing, found as `merchant_rating` is; NotFound if there is
    no such listing."""
    found = session.execute(
        select(honest_ratings, _due(honest_ratings.c.merchant).label("due")).where(
            honest_ratings.c.listing_id == listing_id
        )
    ).first()
    if found is not None:
        return found.merchant, ratings.stored(found, found.due)
    merchant = catalog.get_listing(session, listing_id).merchant
    return merchant, _unscored(session, reviews.c.listing_id == listing_id, merchant)
