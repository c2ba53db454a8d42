"""Detection against the platform's own records: honest ratings of merchants (with the fake
reviews found excluded and a rating-manipulation violation proposed), and the counterfeit gate
run when a listing is created."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog import reviews as catalog_reviews
from xinren.catalog import service as catalog
from xinren.catalog.tables import brand_images, brands, interceptions, reviews
from xinren.clock import Clock
from xinren.detect import fraudar, gate, unsupervised
from xinren.detect.ratings import HonestRating, honest
from xinren.detect.reviews import Reviews
from xinren.events import service as events

MIN_BLOCK_USERS = 10  # a "block" of fewer accounts is not evidence of coordination
MIN_REVIEWS_PER_USER = 2.0


def _arrays(rows: list[Any]) -> Reviews:
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


def rate_merchant(session: Session, clock: Clock, merchant: str) -> HonestRating:
    """The merchant's honest rating; reviews inside a coordinated block are excluded (kept,
    appealable) and a rating-manipulation violation is proposed with the block as evidence."""
    return _rate(session, clock, merchant, None)


def rate_listing(session: Session, clock: Clock, listing_id: int) -> HonestRating:
    """One listing's honest rating, found the same way as its merchant's."""
    return _rate(session, clock, catalog.get_listing(session, listing_id).merchant, listing_id)


def _rate(session: Session, clock: Clock, merchant: str, listing_id: int | None) -> HonestRating:
    rows = list(session.execute(select(reviews).order_by(reviews.c.id)))
    if not rows:
        return HonestRating(0.0, 0, 0.0, 0.0, 0, 0)
    r = _arrays(rows)
    suspicion, _ = unsupervised.scores(r)
    mine = np.array([row.merchant == merchant for row in rows])
    in_block = np.zeros(len(rows), dtype=bool)
    count = 0
    for block in fraudar.detect(r.user, r.product, blocks=3):
        members = block.covers(r.user, r.product)
        # coordination means many accounts each reviewing the block's listings repeatedly; a
        # crowd of one-review buyers around a popular listing is not a block
        per_user = members.sum() / max(len(block.users), 1)
        if len(block.users) < MIN_BLOCK_USERS or per_user < MIN_REVIEWS_PER_USER:
            continue
        if (members & mine).any():
            count += 1
            in_block |= members & mine
    # reviews a person reinstated on the merchant's appeal count in full, whatever the graph
    # and the score say
    genuine = np.array([bool(row.reinstated) for row in rows])
    in_block &= ~genuine
    category_mean = float(r.rating[~in_block].mean()) if (~in_block).any() else 3.0
    whole = honest(
        r.rating[mine], suspicion[mine], in_block[mine], count, category_mean, genuine[mine]
    )
    result = whole
    if listing_id is not None:
        shown = mine & np.array([row.listing_id == listing_id for row in rows])
        result = honest(
            r.rating[shown], suspicion[shown], in_block[shown], count, category_mean, genuine[shown]
        )
    fake_ids = [rows[i].id for i in np.flatnonzero(in_block)]
    newly = [rows[i].id for i in np.flatnonzero(in_block) if not rows[i].excluded]
    catalog_reviews.exclude(session, fake_ids)
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
                "facts": whole.explain(),
            },
        )
    return result


# --- the gate ---


def _authorized(session: Session, merchant: str, brand_id: int, owner: str, day: Any) -> bool:
    grants = [g for g in catalog.brand_authorizations_all(session, brand_id) if g.valid_on(day)]
    granting = {owner}
    grown = True
    while grown:
        new = {g.grantee for g in grants if g.grantor in granting and g.scope == "distribute"}
        grown = bool(new - granting)
        granting |= new
    return merchant in granting or any(
        g.grantee == merchant and g.grantor in granting for g in grants
    )


@cache
def _intercepted_index(count: int) -> gate.Intercepted:
    return gate.Intercepted()


def _index(session: Session) -> gate.Intercepted:
    texts = [
        f"{t} {x}"
        for t, x in session.execute(
            select(interceptions.c.title, interceptions.c.text).where(
                interceptions.c.outcome == "block"
            )
        )
    ]
    index = _intercepted_index(len(texts))
    if index.count != len(texts):
        for text in texts[index.count :]:
            index.add(text)
    return index


def check_listing(
    session: Session,
    clock: Clock,
    *,
    merchant: str,
    title: str,
    text: str,
    price: int,
    product_id: int | None,
    images: tuple[str, ...] = (),
    merchant_serious_points: int = 0,
    draft_key: str | None = None,
    listing_id: int | None = None,
) -> gate.Verdict:
    """Run the gate and record an interception (linked to rule CF-1) when it blocks or holds.
    The gate always runs (authorizations and the merchant's record change); a draft already
    intercepted under the same `draft_key` (a retried request: same merchant, same body) is
    not recorded, so it is not counted twice. `listing_id` names the listing a change was for."""
    day = clock.now().date()
    brand_of = None
    if product_id is not None:
        brand_of = catalog.get_product(session, product_id).brand_id
    facts = []
    for b in session.execute(select(brands).where(brands.c.protected.is_(True))):
        official = tuple(
            session.execute(
                select(brand_images.c.pdq).where(brand_images.c.brand_id == b.id)
            ).scalars()
        )
        facts.append(
            gate.BrandFacts(
                b.id,
                b.name,
                True,
                tuple(b.keywords),
                b.ref_price_min,
                official,
                _authorized(session, merchant, b.id, b.owner, day),
            )
        )
    verdict = gate.check(
        gate.ListingDraft(merchant, title, text, price, brand_of, images),
        facts,
        _index(session),
        merchant_serious_points,
    )
    if verdict.outcome != "allow":
        try:
            with session.begin_nested():
                session.execute(
                    interceptions.insert(),
                    dict(
                        merchant=merchant,
                        title=title[:300],
                        text=text,
                        outcome=verdict.outcome,
                        reasons=list(verdict.reasons),
                        rule_id="CF-1" if verdict.outcome == "block" else None,
                        draft_key=draft_key,
                        listing_id=listing_id,
                        created_at=clock.now(),
                    ),
                )
        except IntegrityError:  # the draft was intercepted before (draft_key is unique)
            return verdict
        events.append(
            session,
            clock,
            "listing.intercepted",
            merchant,
            {"outcome": verdict.outcome, "reasons": list(verdict.reasons), "title": title[:300]},
        )
    return verdict


def add_official_image(session: Session, clock: Clock, brand_id: int, pdq_hex: str) -> bool:
    """Record a protected brand's official image by its PDQ hash; True if it was new."""
    catalog.get_brand(session, brand_id)
    known = session.execute(
        select(brand_images.c.id).where(
            brand_images.c.brand_id == brand_id, brand_images.c.pdq == pdq_hex
        )
    ).first()
    if known is not None:
        return False
    session.execute(
        brand_images.insert(), dict(brand_id=brand_id, pdq=pdq_hex, created_at=clock.now())
    )
    return True
