"""/v1/catalog reviews: ingesting them, a merchant's reviews and honest rating, and the
merchant's appeals against reviews excluded as fake (the reviews context's use cases)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import status
from pydantic import Field

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    is_staff,
)
from xinren.api.routes.catalog.bodies import ReviewAppealDecisionIn, ReviewAppealIn, ReviewBody
from xinren.api.routes.catalog.common import scoped_key
from xinren.api.threads import Router
from xinren.detect import service as detect
from xinren.errors import Forbidden
from xinren.reviews import service as reviews_service

router = Router()


@router.post("/reviews")
def add_reviews(
    body: Annotated[list[ReviewBody], Field(min_length=1, max_length=10_000)],
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, int]:
    """Ingest reviews, one or many (all or nothing); each carries its own idempotency key."""
    if principal.role not in ("admin", "platform"):
        raise Forbidden("reviews are ingested by the platform back end (role platform)")
    created = reviews_service.add_many(
        session,
        clock,
        [  # each review's key is the caller's, as an Idempotency-Key is (ids.scoped)
            reviews_service.ReviewIn(**(r.model_dump() | {"key": scoped_key(principal, r.key)}))
            for r in body
        ],
    )
    return {"received": len(body), "created": created}


@router.get("/merchants/{merchant}/rating")
def merchant_rating(
    merchant: str, session: SessionDep, principal: PrincipalDep
) -> dict[str, object]:
    """The merchant's honest rating beside the raw one, as detection last stored it: reading it
    runs no detection and changes nothing (reviews arriving schedule the rescore)."""
    return {"merchant": merchant} | detect.merchant_rating(session, merchant).as_dict()


@router.get("/merchants/{merchant}/reviews")
def merchant_reviews(
    merchant: str,
    session: SessionDep,
    principal: PrincipalDep,
    excluded: bool | None = None,
) -> list[dict[str, Any]]:
    """The merchant's reviews (to itself and staff), with whether each is excluded as fake."""
    if not is_staff(principal) and principal.subject != merchant:
        raise Forbidden(f"a {principal.role} key may not read {merchant}'s reviews")
    return [
        {
            "id": r.id,
            "buyer": r.buyer,
            "listing_id": r.listing_id,
            "rating": r.rating,
            "reviewed_at": r.reviewed_at.isoformat(),
            "excluded": r.excluded,
            "reinstated": r.reinstated,
        }
        for r in reviews_service.of_merchant(session, merchant)
        if excluded is None or r.excluded == excluded
    ]


@router.post("/review-appeals", status_code=status.HTTP_201_CREATED)
def appeal_excluded_reviews(
    body: ReviewAppealIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """The merchant contests reviews excluded as fake."""
    if principal.subject != body.merchant and principal.role not in ("admin",):
        raise Forbidden(f"only {body.merchant} may appeal the exclusion of its reviews")
    appeal = reviews_service.appeal_exclusion(
        session, clock, key, merchant=body.merchant, review_ids=body.review_ids, reason=body.reason
    )
    return appeal.as_dict()


@router.get("/review-appeals/{appeal_id}")
def get_review_appeal(
    appeal_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    appeal = reviews_service.get_appeal(session, appeal_id)
    if not is_staff(principal) and principal.subject != appeal.merchant:
        raise Forbidden(f"review appeal {appeal_id} is {appeal.merchant}'s")
    return appeal.as_dict()


@router.post("/review-appeals/{appeal_id}/decision")
def decide_review_appeal(
    appeal_id: int,
    body: ReviewAppealDecisionIn,
    session: SessionDep,
    clock: ClockDep,
    reviewer: ReviewerDep,
) -> dict[str, Any]:
    """A named reviewer decides; reinstated reviews count again in the honest rating."""
    appeal = reviews_service.decide_appeal(
        session,
        clock,
        appeal_id,
        decided_by=reviewer.actor,
        reinstate=body.reinstate,
        reason=body.reason,
    )
    return appeal.as_dict()
