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


def _user_labels(r: Reviews) -> NDArray[np.bool_]:
    assert r.fake is not None
    spam = np.zeros(r.n_users, dtype=bool)
    np.logical_or.at(spam, r.user, r.fake)
    return spam


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
