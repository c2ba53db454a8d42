"""Measure detectors against labels: ROC-AUC and average precision at review and reviewer
level, the supervised model split by reviewer (no reviewer in both train and test)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit

from xinren.detect import supervised, unsupervised
from xinren.detect.reviews import Reviews


@dataclass(frozen=True)
class Figures:
    method: str
    level: str
    roc_auc: float
    average_precision: float
    seconds: float


def _any_per_user(r: Reviews, flags: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """A reviewer is flagged (or fake) when any of its reviews is."""
    out = np.zeros(r.n_users, dtype=bool)
    np.logical_or.at(out, r.user, flags)
    return out


def _user_labels(r: Reviews) -> NDArray[np.bool_]:
    assert r.fake is not None
    return _any_per_user(r, r.fake)


def evaluate(r: Reviews) -> list[Figures]:
    assert r.fake is not None, "evaluation needs labels"
    out = []
    started = time.perf_counter()
    review, user = unsupervised.scores(r)
    took = time.perf_counter() - started
    users = _user_labels(r)
    out.append(
        Figures(
            "unsupervised",
            "review",
            roc_auc_score(r.fake, review),
            average_precision_score(r.fake, review),
            took,
        )
    )
    out.append(
        Figures(
            "unsupervised",
            "reviewer",
            roc_auc_score(users, user),
            average_precision_score(users, user),
            took,
        )
    )
    started = time.perf_counter()
    split = GroupShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    train_rows, test_rows = next(split.split(np.zeros(len(r)), r.fake, groups=r.user))
    model = supervised.train(r, train_rows)
    review, _ = supervised.predict(model, r)
    took = time.perf_counter() - started
    test_users = np.unique(r.user[test_rows])
    user = np.zeros(r.n_users)
    np.maximum.at(user, r.user[test_rows], review[test_rows])
    out.append(
        Figures(
            "supervised (reviewer split)",
            "review",
            roc_auc_score(r.fake[test_rows], review[test_rows]),
            average_precision_score(r.fake[test_rows], review[test_rows]),
            took,
        )
    )
    out.append(
        Figures(
            "supervised (reviewer split)",
            "reviewer",
            roc_auc_score(users[test_users], user[test_users]),
            average_precision_score(users[test_users], user[test_users]),
            took,
        )
    )
    return out


# --- precision and recall on planted fraud ---

FLAG_SHARE = 0.05  # a score-based detector flags its most suspicious 5% (a review budget)


@dataclass(frozen=True)
class Flagged:
    method: str
    level: str  # review | reviewer
    precision: float
    recall: float
    flagged: int
    seconds: float


def _pr(flags: NDArray[np.bool_], truth: NDArray[np.bool_]) -> tuple[float, float]:
    hit = int((flags & truth).sum())
    return hit / max(int(flags.sum()), 1), hit / max(int(truth.sum()), 1)


def _top(score: NDArray[np.float64], share: float) -> NDArray[np.bool_]:
    k = max(round(len(score) * share), 1)
    flags = np.zeros(len(score), dtype=bool)
    flags[np.argsort(-score, kind="stable")[:k]] = True
    return flags


def on_planted(r: Reviews, model: object | None = None) -> list[Flagged]:
    """Each detector's precision and recall against planted labels, at review and reviewer
    level. FRAUDAR flags the reviews inside its blocks; score-based detectors flag their top
    FLAG_SHARE; `combined` is FRAUDAR's blocks or the unsupervised score's top share (what
    `rate_merchant` and the review queue use together). `model`, if given, is a supervised
    model trained on other data (it flags reviews it scores above 0.5)."""
    from xinren.detect import fraudar, rev2

    assert r.fake is not None, "evaluation needs labels"
    fake = r.fake
    users = _user_labels(r)
    out: list[Flagged] = []

    def add(method: str, review_flags: NDArray[np.bool_], seconds: float) -> None:
        for level, flags, truth in (
            ("review", review_flags, fake),
            ("reviewer", _any_per_user(r, review_flags), users),
        ):
            p, rc = _pr(flags, truth)
            out.append(Flagged(method, level, p, rc, int(flags.sum()), seconds))

    started = time.perf_counter()
    in_block = np.zeros(len(r), dtype=bool)
    for block in fraudar.detect(r.user, r.product, blocks=1):
        in_block |= block.covers(r.user, r.product)
    add("FRAUDAR (1 block)", in_block, time.perf_counter() - started)
    started = time.perf_counter()
    review, _ = unsupervised.scores(r)
    top = _top(review, FLAG_SHARE)
    add("unsupervised score", top, time.perf_counter() - started)
    started = time.perf_counter()
    _, _, reliability = rev2.rev2(r.user, r.product, r.rating)
    add(
        "REV2 (1 - reliability)", _top(1.0 - reliability, FLAG_SHARE), time.perf_counter() - started
    )
    if model is not None:
        started = time.perf_counter()
        predicted, _ = supervised.predict(model, r)
        add("supervised (trained elsewhere)", predicted > 0.5, time.perf_counter() - started)
    add("combined (FRAUDAR or unsupervised)", in_block | top, 0.0)
    return out
