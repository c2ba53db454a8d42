"""Honest ratings, pure: suspicious reviews are down-weighted by their score (reviews inside a
coordinated block count for nothing), then the mean is shrunk toward the category mean by the
number of effective reviews, so that a few reviews cannot make a perfect score.

Detection looks at every review at once (a farm's accounts review many shops), so a rescore
finds the blocks once (`coordinated`) and then scores each merchant it was asked for (`score`).
What a rescore found is stored; a rating is read from there (`Shown`), and a subject never
scored is shown with its raw mean only (`unscored`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xinren.detect import fraudar, unsupervised
from xinren.detect.reviews import Reviews

#: named in every stored rating, so a figure can be traced to the method that made it; bump it
#: when the method or a parameter below changes
DETECTOR = "honest-rating/1"
PRIOR_STRENGTH = 20.0  # effective reviews' worth of weight given to the category mean
MIN_BLOCK_USERS = 10  # a "block" of fewer accounts is not evidence of coordination
MIN_REVIEWS_PER_USER = 2.0
BLOCKS = 3  # dense blocks looked for in the whole review graph
PARAMETERS: dict[str, Any] = {
    "prior_strength": PRIOR_STRENGTH,
    "min_block_users": MIN_BLOCK_USERS,
    "min_reviews_per_user": MIN_REVIEWS_PER_USER,
    "blocks": BLOCKS,
    "suspicion": "unsupervised",
}
DIGITS = 6  # stored figures are rounded, so that recomputing the same inputs compares equal


@dataclass(frozen=True)
class HonestRating:
    raw: float
    reviews: int
    robust: float
    effective: float
    discounted_in_blocks: int
    blocks: int

    def explain(self) -> str:
        text = f"{self.raw:.2f} from {self.reviews:,} reviews; {self.robust:.2f} after "
        if self.discounted_in_blocks:
            what = (
                "one coordinated block" if self.blocks == 1 else f"{self.blocks} coordinated blocks"
            )
            return text + f"discounting {self.discounted_in_blocks:,} reviews from {what}"
        return text + "weighting reviews by how suspicious they look"


def honest(
    ratings: NDArray[np.float64],
    suspicion: NDArray[np.float64],
    in_block: NDArray[np.bool_],
    block_count: int,
    category_mean: float,
    judged_genuine: NDArray[np.bool_] | None = None,
) -> HonestRating:
    """`judged_genuine` marks reviews a person reinstated: they count in full, whatever their
    suspicion score."""
    weights = np.where(in_block, 0.0, 1.0 - np.clip(suspicion, 0, 1))
    if judged_genuine is not None:
        weights = np.where(judged_genuine, 1.0, weights)
    effective = float(weights.sum())
    robust = (PRIOR_STRENGTH * category_mean + float((weights * ratings).sum())) / (
        PRIOR_STRENGTH + effective
    )
    return HonestRating(
        float(ratings.mean()) if len(ratings) else 0.0,
        len(ratings),
        robust,
        effective,
        int(in_block.sum()),
        block_count,
    )


# --- a rescore: detection over every review, then each merchant ---


@dataclass(frozen=True)
class Graph:
    """What detection found in the whole review graph, shared by every merchant scored."""

    rating: NDArray[np.float64]
    suspicion: NDArray[np.float64]
    blocks: tuple[NDArray[np.bool_], ...]  # per coordinated block: which reviews lie in it


def coordinated(r: Reviews) -> Graph:
    """Suspicion of every review and the coordinated blocks among them. Coordination means many
    accounts each reviewing the block's listings repeatedly; a crowd of one-review buyers around
    a popular listing is not a block."""
    suspicion, _ = unsupervised.scores(r)
    kept = []
    for block in fraudar.detect(r.user, r.product, blocks=BLOCKS):
        members = block.covers(r.user, r.product)
        per_user = members.sum() / max(len(block.users), 1)
        if len(block.users) >= MIN_BLOCK_USERS and per_user >= MIN_REVIEWS_PER_USER:
            kept.append(members)
    return Graph(r.rating, suspicion, tuple(kept))


@dataclass(frozen=True)
class Subject:
    """One merchant's (listing_id None) or listing's rating as a rescore found it."""

    listing_id: int | None
    rating: HonestRating
    last_review_id: int


@dataclass(frozen=True)
class Scored:
    merchant: Subject
    listings: tuple[Subject, ...]
    in_block: NDArray[np.int64]  # positions (in the graph) of the merchant's reviews in a block


def score(
    graph: Graph,
    mine: NDArray[np.int64],
    review_ids: NDArray[np.int64],
    listing_ids: NDArray[np.int64],
    genuine: NDArray[np.bool_],
) -> Scored:
    """The merchant whose reviews sit at positions `mine` (ascending): its reviews inside a
    block touching them count for nothing, except those a person reinstated on its appeal,
    which count in full whatever the graph and the score say. The category mean is that of
    every review outside the merchant's block."""
    touching = [b for b in graph.blocks if b[mine].any()]
    in_block = np.zeros(len(mine), dtype=bool)
    for b in touching:
        in_block |= b[mine]
    in_block &= ~genuine[mine]
    outside = len(graph.rating) - int(in_block.sum())
    category_mean = (
        (float(graph.rating.sum()) - float(graph.rating[mine][in_block].sum())) / outside
        if outside
        else 3.0
    )

    def subject(where: NDArray[np.bool_], listing_id: int | None) -> Subject:
        at = mine[where]
        rating = honest(
            graph.rating[at],
            graph.suspicion[at],
            in_block[where],
            len(touching),
            category_mean,
            genuine[at],
        )
        return Subject(listing_id, rating, int(review_ids[at].max()))

    merchant = subject(np.ones(len(mine), dtype=bool), None)
    listings = tuple(
        subject(listing_ids[mine] == listing, int(listing))
        for listing in np.unique(listing_ids[mine])
    )
    return Scored(merchant, listings, mine[in_block])


def stored_values(s: Subject) -> dict[str, Any]:
    """The columns a stored rating keeps (its time apart), rounded so that a rescore of the
    same reviews produces the same values and rewrites nothing."""
    r = s.rating
    return {
        "raw": round(r.raw, DIGITS),
        "reviews": r.reviews,
        "honest": round(r.robust, DIGITS),
        "effective": round(r.effective, DIGITS),
        "excluded_in_blocks": r.discounted_in_blocks,
        "blocks": r.blocks,
        "explanation": r.explain(),
        "last_review_id": s.last_review_id,
        "detector": DETECTOR,
        "parameters": PARAMETERS,
    }


# --- what a reader is shown ---

SCORED = "scored"
NOT_SCORED = "not_scored"


@dataclass(frozen=True)
class Shown:
    """A rating as a reader gets it: what the last rescore stored, or, for a subject never
    scored, the raw mean alone. `rescore_due_at` says when a pending rescore will run."""

    status: str  # scored | not_scored
    raw: float
    reviews: int
    honest: float | None
    effective: float | None
    excluded_in_blocks: int | None
    explanation: str
    computed_at: datetime | None
    last_review_id: int | None
    detector: str | None
    parameters: dict[str, Any] | None
    rescore_due_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "raw": round(self.raw, 2),
            "reviews": self.reviews,
            "honest": None if self.honest is None else round(self.honest, 2),
            "effective_reviews": None if self.effective is None else round(self.effective, 1),
            "excluded_in_blocks": self.excluded_in_blocks,
            "explanation": self.explanation,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "last_review_id": self.last_review_id,
            "detector": self.detector,
            "parameters": self.parameters,
            "rescore_due_at": self.rescore_due_at.isoformat() if self.rescore_due_at else None,
        }


def stored(row: Any, rescore_due_at: datetime | None) -> Shown:
    """A stored rating (a row of `honest_ratings`) as shown."""
    return Shown(
        SCORED,
        row.raw,
        row.reviews,
        row.honest,
        row.effective,
        row.excluded_in_blocks,
        row.explanation,
        row.computed_at,
        row.last_review_id,
        row.detector,
        row.parameters,
        rescore_due_at,
    )


def unscored(rating_sum: int, reviews: int, rescore_due_at: datetime | None) -> Shown:
    """A subject no rescore has scored yet: its raw mean, and when it is due to be scored."""
    raw = rating_sum / reviews if reviews else 0.0
    if rescore_due_at is not None:
        when = f"due {rescore_due_at:%Y-%m-%d %H:%M} UTC"
    elif reviews:
        when = "none scheduled"
    else:
        when = "nothing to score"
    text = f"{raw:.2f} from {reviews:,} reviews; not scored yet ({when})"
    return Shown(
        NOT_SCORED, raw, reviews, None, None, None, text, None, None, None, None, rescore_due_at
    )
