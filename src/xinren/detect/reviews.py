"""Reviews as plain arrays, read from the YelpChi line format `user product rating label date`
(the label, when present, is -1 for a review filtered as fake and 1 otherwise)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from xinren.errors import ValidationFailed

YELPCHI = "yelpchi"


@dataclass(frozen=True)
class Reviews:
    """One row per review; users and products are dense indexes (0..n-1)."""

    user: NDArray[np.int64]
    product: NDArray[np.int64]
    rating: NDArray[np.float64]
    day: NDArray[np.int64]  # days since 1970-01-01
    fake: NDArray[np.bool_] | None  # from the label, where the file has one
    user_ids: NDArray[np.str_]
    product_ids: NDArray[np.str_]
    texts: tuple[str, ...] | None = None  # the review texts, where known (not in YelpChi)

    def __len__(self) -> int:
        return len(self.rating)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)


def parse(lines: list[str], source: str = "input") -> Reviews:
    """Parse review lines; a bad line is an error naming its number and what is wrong."""
    users, products, ratings, labels, days = [], [], [], [], []
    for n, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 5:
            raise ValidationFailed(
                f"{source} line {n}: expected 'user product rating label date', got "
                f"{len(parts)} fields",
                field=f"line {n}",
            )
        try:
            rating = float(parts[2])
            day = np.datetime64(parts[4], "D").astype(np.int64)
        except ValueError:
            raise ValidationFailed(
                f"{source} line {n}: rating must be a number and date YYYY-MM-DD",
                field=f"line {n}",
            ) from None
        if not 1 <= rating <= 5:
            raise ValidationFailed(f"{source} line {n}: rating is 1 to 5", field=f"line {n}")
        users.append(parts[0])
        products.append(parts[1])
        ratings.append(rating)
        labels.append(parts[3])
        days.append(day)
    if not ratings:
        raise ValidationFailed(f"{source} holds no reviews", field="file")
    user_ids, user = np.unique(np.array(users), return_inverse=True)
    product_ids, product = np.unique(np.array(products), return_inverse=True)
    label = np.array(labels)
    fake = (label == "-1") if np.isin(label, ["-1", "1"]).all() else None
    return Reviews(
        user.astype(np.int64),
        product.astype(np.int64),
        np.array(ratings),
        np.array(days, dtype=np.int64),
        fake,
        user_ids,
        product_ids,
    )


def read(path: Path) -> Reviews:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as err:
        raise ValidationFailed(f"cannot read {path}: {err}", field="file") from None
    return parse(lines, path.name)


def dataset(name: str) -> Reviews:
    """A data set shipped with Xinren (`yelpchi`)."""
    if name != YELPCHI:
        raise ValidationFailed(f"known data sets: {YELPCHI}", field="dataset")
    return read(Path(str(files("xinren.detect") / "data" / "yelpchi" / "metadata.gz")))
