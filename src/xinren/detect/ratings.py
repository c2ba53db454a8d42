"""Honest ratings, pure: suspicious reviews are down-weighted by their score (reviews inside a
coordinated block count for nothing), then the mean is shrunk toward the category mean by the
number of effective reviews, so that a few reviews cannot make a perfect score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

PRIOR_STRENGTH = 20.0  # effective reviews' worth of weight given to the category mean


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
