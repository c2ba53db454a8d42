"""REV2-style fairness, goodness and reliability (Kumar et al., WSDM 2018): a reviewer is fair
when its reviews are reliable, a review is reliable when its reviewer is fair and it agrees
with the product's goodness, and a product's goodness is the reliability-weighted mean of its
ratings. Iterated to a fixed point over the edge list."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def rev2(
    users: NDArray[np.int64],
    products: NDArray[np.int64],
    ratings: Array,
    *,
    iterations: int = 30,
    tolerance: float = 1e-6,
) -> tuple[Array, Array, Array]:
    """(fairness per user, goodness per product, reliability per review), each in [0, 1]
    except goodness in [-1, 1]; suspicion is 1 - fairness or 1 - reliability."""
    score = (ratings - 3.0) / 2.0  # ratings 1..5 as -1..1
    n_u, n_p = int(users.max()) + 1, int(products.max()) + 1
    deg_u = np.maximum(np.bincount(users, minlength=n_u), 1)
    deg_p = np.maximum(np.bincount(products, minlength=n_p), 1)
    fairness = np.ones(n_u)
    reliability = np.ones(len(ratings))
    goodness = np.zeros(n_p)
    for _ in range(iterations):
        goodness = np.clip(np.bincount(products, reliability * score, minlength=n_p) / deg_p, -1, 1)
        new_r = (fairness[users] + (1.0 - np.abs(score - goodness[products]) / 2.0)) / 2.0
        fairness = np.bincount(users, new_r, minlength=n_u) / deg_u
        done = np.abs(new_r - reliability).max() < tolerance
        reliability = new_r
        if done:
            break
    return fairness, goodness, reliability
