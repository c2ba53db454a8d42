"""A supervised gradient-boosted model on the behavioural features, trained where labels exist
(e.g. a platform's own past moderation), saved to a file and used by `xinren detect score`."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier

from xinren.detect.features import review_features
from xinren.detect.reviews import Reviews
from xinren.errors import ValidationFailed

FORMAT = "xinren-review-model/2"  # /2: near-duplicate text features


def train(r: Reviews, rows: NDArray[np.int64] | None = None) -> HistGradientBoostingClassifier:
    if r.fake is None:
        raise ValidationFailed(
            "training needs labels (-1 fake, 1 genuine) in the file", field="file"
        )
    x, _ = review_features(r)
    idx = np.arange(len(r)) if rows is None else rows
    model = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.05, max_leaf_nodes=31, random_state=0
    )
    model.fit(x[idx], r.fake[idx])
    return model


def predict(model: Any, r: Reviews) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x, _ = review_features(r)
    review = model.predict_proba(x)[:, 1]
    user = np.zeros(r.n_users)
    np.maximum.at(user, r.user, review)
    return review, user


def save(model: HistGradientBoostingClassifier, path: Path) -> None:
    _, names = review_features(_tiny())
    path.write_bytes(pickle.dumps({"format": FORMAT, "features": names, "model": model}))


def load(path: Path) -> Any:
    """Load a model saved by `save` (only load files you trust: this is a pickle)."""
    try:
        data = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError) as err:
        raise ValidationFailed(f"cannot read model {path}: {err}", field="model") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationFailed(f"{path} is not a model saved by xinren detect train", field="model")
    return data["model"]


def _tiny() -> Reviews:
    from xinren.detect.reviews import parse

    return parse(["a p 5 1 2020-01-01"])
