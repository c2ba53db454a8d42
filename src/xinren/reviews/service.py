"""Reviews of listings: one by one or in bulk, a verified purchase when the buyer's order for
the listing is named. Reviews judged fake are kept but stop counting in ratings; the merchant
may appeal their exclusion and a named person decides.

Ratings are scored by detection, never when read: reviews arriving for a merchant (or
reinstated on its appeal) schedule one rescore of it (`RESCORE`, run by `xinren tick`), and a
burst of reviews schedules one, not one per review. Detection registers the handler; reviews
only names the timer, so it never imports detection (which sits above it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.model import check_text
from xinren.clock import Clock
from xinren.errors import (
    ConcurrentRequest,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    ValidationFailed,
)
from xinren.events import service as events
from xinren.ids import check_idempotency_key
from xinren.orders.tables import orders
from xinren.parties.tables import parties
from xinren.reviews import model
from xinren.reviews.model import ReviewAppeal, ReviewIn
from xinren.reviews.tables import review_appeals, reviews
from xinren.timers import service as timers

__all__ = [
    "RESCORE",
    "RESCORE_DELAY",
    "ReviewAppeal",
    "ReviewIn",
    "add_many",
    "appeal_exclusion",
    "decide_appeal",
    "exclude",
    "get_appeal",
    "of_merchant",
    "rescore_soon",
]

#: the timer that rescores a merchant's honest rating (its handler is in `xinren.detect`)
RESCORE = "detect.rescore"
#: how long after the first of a burst of reviews the merchant is rescored: the rest of the
#: burst lands in the same rescore
RESCORE_DELAY = timedelta(minutes=5)


def _row(session: Session, r: ReviewIn, where: str, merchant_of: dict[int, str]) -> dict[str, Any]:
    """The row to insert; `merchant_of` remembers each listing's merchant, so a batch of
    10,000 reviews of one listing looks it up once."""
    model.check_review(r, where)
    if r.listing_id not in merchant_of:
        merchant_of[r.listing_id] = catalog.get_listing(session, r.listing_id).merchant
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
        merchant=merchant_of[r.listing_id],
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
    merchant_of: dict[int, str] = {}
    for i, item in enumerate(items):
        where = f"reviews[{i}]." if len(items) > 1 else ""
        row = _row(session, item, where, merchant_of)
        if item.key in known:
            if not model.same_review(known[item.key], item):
                raise IdempotencyKeyReused(
                    f"key {item.key!r} holds another review", field=f"{where}key"
                )
            continue
        rows.append(row | {"created_at": now})
    if rows:
        session.execute(reviews.insert(), rows)
        rescore_soon(session, clock, {r["merchant"] for r in rows})
    return len(rows)


def rescore_soon(session: Session, clock: Clock, merchants: Iterable[str]) -> None:
    """Make sure a rescore of each merchant is pending, scheduled `RESCORE_DELAY` from now
    unless one already is (it keeps its time, so a steady stream of reviews cannot put it off
    for ever). A pending rescore that a runner holds (it is running now, and may have read the
    reviews already) does not count: on PostgreSQL it is locked, and skipped here."""
    timers.schedule_once(session, clock, RESCORE, list(merchants), clock.now() + RESCORE_DELAY)


def of_merchant(session: Session, merchant: str) -> list[Any]:
    return list(
        session.execute(
            select(reviews).where(reviews.c.merchant == merchant).order_by(reviews.c.id)
        )
    )


def exclude(session: Session, ids: Sequence[int]) -> list[int]:
    """Judged fake: kept, but no longer counted. A review reinstated on appeal stays counted.
    Returns the ids this call excluded (not those excluded before): of two rescores racing,
    only one sees a review newly excluded."""
    ids = sorted(set(ids))
    newly: list[int] = []
    for start in range(0, len(ids), 10_000):  # within every database's parameter limit
        newly += session.execute(
            update(reviews)
            .where(
                reviews.c.id.in_(ids[start : start + 10_000]),
                reviews.c.reinstated.is_(False),
                reviews.c.excluded.is_(False),
            )
            .values(excluded=True)
            .returning(reviews.c.id)
        ).scalars()
    return sorted(newly)


# --- a merchant's appeal against reviews excluded as fake ---


def _appeal(row: Any) -> ReviewAppeal:
    return ReviewAppeal(
        row.id,
        row.merchant,
        tuple(row.review_ids),
        row.reason,
        row.status,
        row.filed_at,
        row.decided_by,
        row.decided_at,
        tuple(row.reinstated_ids or ()),
        row.decision_reason,
    )


def get_appeal(session: Session, appeal_id: int) -> ReviewAppeal:
    row = session.execute(select(review_appeals).where(review_appeals.c.id == appeal_id)).first()
    if row is None:
        raise NotFound(f"no review appeal {appeal_id}", field="appeal_id")
    return _appeal(row)


def appeal_exclusion(
    session: Session,
    clock: Clock,
    key: str,
    *,
    merchant: str,
    review_ids: Sequence[int],
    reason: str,
) -> ReviewAppeal:
    """The merchant contests reviews excluded as fake; a named reviewer decides."""
    check_idempotency_key(key)
    ids = model.contested_ids(review_ids)
    check_text(reason, "reason", 4000)
    # one merchant's appeals are filed one at a time, so two filed at once cannot both
    # contest the same reviews, and a racing retry finds the first one
    session.execute(select(parties.c.id).where(parties.c.ref == merchant).with_for_update())
    done = session.execute(
        select(review_appeals).where(review_appeals.c.idempotency_key == key)
    ).first()
    if done is not None:
        if done.merchant != merchant or sorted(done.review_ids) != ids:
            raise IdempotencyKeyReused(
                f"key {key!r} filed appeal {done.id} about other reviews", field="idempotency_key"
            )
        return _appeal(done)
    found = {r.id: r for r in session.execute(select(reviews).where(reviews.c.id.in_(ids))).all()}
    pending = session.execute(
        select(review_appeals.c.id, review_appeals.c.review_ids).where(
            review_appeals.c.merchant == merchant, review_appeals.c.status == "open"
        )
    ).all()
    model.check_contestable(merchant, ids, found, [(p.id, p.review_ids) for p in pending])
    try:
        with session.begin_nested():
            appeal_id = session.execute(
                review_appeals.insert().returning(review_appeals.c.id),
                dict(
                    idempotency_key=key,
                    merchant=merchant,
                    review_ids=ids,
                    reason=reason,
                    status="open",
                    filed_at=clock.now(),
                ),
            ).scalar_one()
    except IntegrityError:
        raise ConcurrentRequest(
            f"another appeal with key {key!r} is being filed; retry to get it",
            field="idempotency_key",
        ) from None
    events.append(
        session,
        clock,
        "review_appeal.filed",
        merchant,
        {"appeal": appeal_id, "reviews": len(ids)},
    )
    return get_appeal(session, appeal_id)


def decide_appeal(
    session: Session,
    clock: Clock,
    appeal_id: int,
    *,
    decided_by: str,
    reinstate: Sequence[int],
    reason: str,
) -> ReviewAppeal:
    """A named person decides: the reviews reinstated count again, and detection may not
    exclude them again; the rest stay excluded. Deciding twice is refused."""
    model.check_decider(decided_by)
    check_text(reason, "reason", 4000)
    row = session.execute(
        select(review_appeals).where(review_appeals.c.id == appeal_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no review appeal {appeal_id}", field="appeal_id")
    if row.status != "open":
        same = (row.decided_by, sorted(row.reinstated_ids or ()), row.decision_reason) == (
            decided_by,
            sorted(set(reinstate)),
            reason,
        )
        if same:  # a retry of the decision already taken: its answer again
            return _appeal(row)
        raise Conflict(f"review appeal {appeal_id} was decided ({row.status})", field="appeal_id")
    back = model.check_reinstated(appeal_id, row.review_ids, reinstate)
    status = model.appeal_outcome(len(row.review_ids), len(back))
    if back:
        session.execute(
            update(reviews).where(reviews.c.id.in_(back)).values(excluded=False, reinstated=True)
        )
        rescore_soon(session, clock, [row.merchant])  # they count again in the rating
    session.execute(
        update(review_appeals)
        .where(review_appeals.c.id == appeal_id)
        .values(
            status=status,
            decided_by=decided_by,
            decided_at=clock.now(),
            reinstated_ids=back,
            decision_reason=reason,
        )
    )
    events.append(
        session,
        clock,
        "review_appeal.decided",
        row.merchant,
        {"appeal": appeal_id, "status": status, "reinstated": len(back)},
    )
    return get_appeal(session, appeal_id)
