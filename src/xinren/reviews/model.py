"""Review rules, pure: what a review must say to be taken in, which excluded reviews a merchant
may contest, who may decide an appeal and how it ends.

Which reviews are excluded as fake is detection's finding (`xinren.detect.ratings`: reviews in
a coordinated block); that a review a person reinstated is never excluded again is the
condition of `xinren.reviews.service.exclude`'s one update (atomic, so two rescores racing do not
both count a review as newly excluded)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xinren.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinren.ids import check_idempotency_key

MAX_TEXT = 5000
MAX_CONTESTED = 1000


@dataclass(frozen=True, slots=True)
class ReviewIn:
    key: str
    buyer: str
    listing_id: int
    rating: int
    text: str
    reviewed_at: datetime
    order_id: int | None = None


def check_review(r: ReviewIn, where: str = "") -> None:
    """A review's own fields; `where` prefixes the field named in an error (`reviews[3].`)."""
    check_idempotency_key(r.key, field=f"{where}key")
    if not isinstance(r.buyer, str) or not 1 <= len(r.buyer) <= 100:
        raise ValidationFailed("buyer is 1-100 characters", field=f"{where}buyer")
    if not isinstance(r.rating, int) or not 1 <= r.rating <= 5:
        raise ValidationFailed("rating is a whole number from 1 to 5", field=f"{where}rating")
    if len(r.text) > MAX_TEXT:
        raise ValidationFailed("text is at most 5,000 characters", field=f"{where}text")
    if r.reviewed_at.tzinfo is None:
        raise ValidationFailed("reviewed_at needs a time zone", field=f"{where}reviewed_at")


def same_review(old: Any, new: ReviewIn) -> bool:
    """A replayed key is the same review if it names the same buyer, listing and rating."""
    return bool((old.buyer, old.listing_id, old.rating) == (new.buyer, new.listing_id, new.rating))


# --- a merchant's appeal against reviews excluded as fake ---


@dataclass(frozen=True, slots=True)
class ReviewAppeal:
    id: int
    merchant: str
    review_ids: tuple[int, ...]
    reason: str
    status: str  # open | upheld | reinstated | partly
    filed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reinstated_ids: tuple[int, ...]
    decision_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant": self.merchant,
            "review_ids": list(self.review_ids),
            "reason": self.reason,
            "status": self.status,
            "filed_at": self.filed_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reinstated_ids": list(self.reinstated_ids),
            "decision_reason": self.decision_reason,
        }


def contested_ids(review_ids: Sequence[int]) -> list[int]:
    """The reviews an appeal names, each once, in order: 1 to 1,000 of them."""
    ids = sorted(set(review_ids))
    if not ids or len(ids) > MAX_CONTESTED:
        raise ValidationFailed("review_ids names 1 to 1,000 reviews", field="review_ids")
    return ids


def check_contestable(
    merchant: str,
    ids: Sequence[int],
    found: Mapping[int, Any],
    pending: Iterable[tuple[int, Sequence[int]]],
) -> None:
    """A merchant may contest only its own reviews that are excluded now, and none that an
    open appeal (`pending`: its id and reviews) already contests."""
    for i in ids:
        r = found.get(i)
        if r is None:
            raise NotFound(f"no review {i}", field="review_ids")
        if r.merchant != merchant:
            raise Forbidden(f"review {i} is not about {merchant}")
        if not r.excluded:
            raise Conflict(f"review {i} is not excluded: it already counts", field="review_ids")
    for appeal_id, contested in pending:
        if set(contested) & set(ids):
            raise Conflict(
                f"appeal {appeal_id} already contests some of these reviews; wait for its decision",
                field="review_ids",
            )


def check_decider(decided_by: str) -> None:
    """An appeal is decided by a named person, never by automation."""
    if not decided_by.startswith("reviewer:") and not decided_by.startswith("admin:"):
        raise ValidationFailed(
            "decided_by names the person, e.g. 'reviewer:li' (never automation)",
            field="decided_by",
        )


def check_reinstated(
    appeal_id: int, contested: Sequence[int], reinstate: Sequence[int]
) -> list[int]:
    """The reviews to reinstate, each once: only reviews the appeal contests."""
    back = sorted(set(reinstate))
    stray = set(back) - set(contested)
    if stray:
        raise ValidationFailed(
            f"reviews {sorted(stray)} are not in appeal {appeal_id}", field="reinstate"
        )
    return back


def appeal_outcome(contested: int, reinstated: int) -> str:
    """How a merchant's appeal against excluded reviews ended: every review reinstated, some,
    or none (the exclusion upheld)."""
    if not reinstated:
        return "upheld"
    return "reinstated" if reinstated == contested else "partly"
