"""A combined unsupervised suspicion score, for platforms with no labels.

Fake reviews on review platforms come mostly from new, one-off accounts that disagree with the
crowd and rate at the extremes. The score is a weighted mean of the ranks of four behavioural
signals: few reviews (weight 3), a short active span (3), the account's mean deviation from
products' consensus (1) and its mean extremity (1). The weights were chosen on YelpChi's labels
and checked on planted data; no label is used when scoring.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from xinren.detect.features import review_features
from xinren.detect.reviews import Reviews

WEIGHTS = {
    "user_reviews": -3.0,
    "user_span_days": -3.0,
    "user_deviation": 1.0,
    "user_extremity": 1.0,
}


def scores(r: Reviews) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(review_score, user_score), each in [0, 1], higher = more suspicious."""
    x, names = review_features(r, with_texts=False)
    total = np.zeros(len(r))
    for name, weight in WEIGHTS.items():
        column = x[:, names.index(name)]
        total += abs(weight) * rankdata(np.sign(weight) * column) / len(r)
    review = total / sum(abs(w) for w in WEIGHTS.values())
    user = np.zeros(r.n_users)
    np.maximum.at(user, r.user, review)
    return review, user
