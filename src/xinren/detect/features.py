"""Behavioural features per review and per reviewer, vectorised over the review arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from xinren.detect.reviews import Reviews
from xinren.detect.text import near_duplicates

Array = NDArray[np.float64]


def _per_user(r: Reviews, values: Array) -> Array:
    counts = np.bincount(r.user, minlength=r.n_users)
    return np.bincount(r.user, values, minlength=r.n_users) / np.maximum(counts, 1)


def _group_rank(keys: NDArray[np.int64], days: NDArray[np.int64]) -> Array:
    """Each review's position within its group, ordered by day (0 = first)."""
    order = np.lexsort((days, keys))
    sorted_keys = keys[order]
    starts = np.searchsorted(sorted_keys, sorted_keys)  # first index of each key's run
    pos = np.arange(len(keys)) - starts
    out = np.empty(len(keys))
    out[order] = pos
    return out


def review_features(r: Reviews, *, with_texts: bool = True) -> tuple[Array, list[str]]:
    """Feature matrix (one row per review) and its column names; `with_texts=False` skips the
    MinHash near-duplicate search (its columns are then 0) for callers that do not use it."""
    n_u = np.bincount(r.user, minlength=r.n_users).astype(float)
    n_p = np.bincount(r.product, minlength=r.n_products).astype(float)
    sum_p = np.bincount(r.product, r.rating, minlength=r.n_products)
    cnt = n_p[r.product]
    # the product's mean rating without this review (its own rating must not pull the mean)
    loo = np.where(cnt > 1, (sum_p[r.product] - r.rating) / np.maximum(cnt - 1, 1), 3.0)
    dev = np.abs(r.rating - loo)
    ext = np.abs(r.rating - 3.0)
    first = np.full(r.n_users, np.iinfo(np.int64).max)
    last = np.full(r.n_users, np.iinfo(np.int64).min)
    np.minimum.at(first, r.user, r.day)
    np.maximum.at(last, r.user, r.day)
    span = (last - first)[r.user].astype(float)
    single = (n_u[r.user] == 1).astype(float)
    share_single = (np.bincount(r.product, single, minlength=r.n_products) / np.maximum(n_p, 1))[
        r.product
    ]
    same_day = np.unique(r.product * 1_000_000 + r.day, return_inverse=True, return_counts=True)
    burst = same_day[2][same_day[1]].astype(float)
    sq = np.bincount(r.product, r.rating**2, minlength=r.n_products) / np.maximum(n_p, 1)
    spread = np.sqrt(np.maximum(sq - (sum_p / np.maximum(n_p, 1)) ** 2, 0))[r.product]
    rank = _group_rank(r.product, r.day)
    # how many other reviews say nearly the same thing (farms reuse their words); 0 without texts
    near = (
        np.zeros(len(r))
        if r.texts is None or not with_texts
        else np.minimum(near_duplicates(r.texts), 1000).astype(float)
    )
    columns = {
        "user_reviews": n_u[r.user],
        "user_span_days": span,
        "user_deviation": _per_user(r, dev)[r.user],
        "user_extremity": _per_user(r, ext)[r.user],
        "deviation": dev,
        "signed_deviation": r.rating - loo,
        "extremity": ext,
        "rating": r.rating,
        "product_reviews": cnt,
        "product_single_share": share_single,
        "same_day_on_product": burst,
        "user_mean_rating": _per_user(r, r.rating)[r.user],
        "product_spread": spread,
        "position_on_product": rank,
        "relative_position": rank / np.maximum(cnt - 1, 1),
        "product_mean": loo,
        "near_duplicate_texts": near,
        "user_near_duplicates": _per_user(r, near)[r.user],
    }
    return np.column_stack(list(columns.values())), list(columns)
