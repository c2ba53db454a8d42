"""Planted fraud for graphs without labels: honest reviews with popularity skew, plus review
farms (dense blocks that also review popular products as camouflage), one-off fake accounts and
bursts of fake reviews on one product. Written in the YelpChi line format (label -1 = planted)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from xinren.detect.reviews import Reviews


@dataclass(frozen=True)
class Planted:
    users: NDArray[np.int64]
    products: NDArray[np.int64]
    ratings: NDArray[np.float64]
    days: NDArray[np.int64]
    fake: NDArray[np.bool_]
    farm_users: NDArray[np.int64]
    farm_products: NDArray[np.int64]

    def as_reviews(self) -> Reviews:
        """The planted graph as review arrays, with its labels."""
        users, user = np.unique(self.users, return_inverse=True)
        products, product = np.unique(self.products, return_inverse=True)
        return Reviews(
            user.astype(np.int64),
            product.astype(np.int64),
            self.ratings,
            self.days,
            self.fake,
            users.astype(str),
            products.astype(str),
        )

    def write(self, path: Path) -> None:
        start = np.datetime64("2024-01-01")
        with path.open("w") as f:
            for u, p, r, d, bad in zip(
                self.users, self.products, self.ratings, self.days, self.fake, strict=True
            ):
                f.write(f"u{u} p{p} {r:.1f} {-1 if bad else 1} {start + int(d)}\n")


def generate(
    edges: int,
    *,
    seed: int = 0,
    farm_users: int = 100,
    farm_products: int = 30,
    farm_density: float = 0.8,
    one_off: float = 0.02,
    camouflage: int = 5,
    bursts: int = 3,
    burst_size: int = 40,
) -> Planted:
    """About `edges` reviews; the farm's reviews, its camouflage, the one-off fakes and the
    bursts (new accounts each rating one product 5 stars within two days) are labelled fake."""
    rng = np.random.default_rng(seed)
    n_users, n_products = max(edges // 8, farm_users * 2), max(edges // 50, farm_products * 2)
    honest = edges
    users = rng.integers(0, n_users, honest)
    popularity = rng.zipf(1.6, honest) % n_products
    products = popularity.astype(np.int64)
    ratings = np.clip(np.round(rng.normal(3.9, 1.0, honest)), 1, 5)
    days = rng.integers(0, 700, honest)
    fake = np.zeros(honest, dtype=bool)
    # a review farm: new accounts, a block of target products, 5 stars, in a short window
    fu = np.arange(n_users, n_users + farm_users)
    fp = rng.choice(n_products, farm_products, replace=False)
    mask = rng.random((farm_users, farm_products)) < farm_density
    bu, bp = np.nonzero(mask)
    block_u, block_p = fu[bu], fp[bp]
    cam_u = np.repeat(fu, camouflage)
    cam_p = rng.zipf(1.6, len(cam_u)) % n_products
    # one-off fake accounts: a single extreme review each
    k = int(edges * one_off)
    oo_u = np.arange(n_users + farm_users, n_users + farm_users + k)
    oo_p = rng.integers(0, n_products, k)
    # bursts: a crowd of new accounts lifts one product within two days
    b_first = n_users + farm_users + k
    bu_u = np.arange(b_first, b_first + bursts * burst_size)
    bu_p = np.repeat(rng.choice(n_products, bursts, replace=False), burst_size)
    bu_d = np.repeat(rng.integers(0, 698, bursts), burst_size) + rng.integers(0, 2, len(bu_u))
    parts_u = [users, block_u, cam_u, oo_u, bu_u]
    parts_p = [products, block_p, cam_p.astype(np.int64), oo_p, bu_p.astype(np.int64)]
    parts_r = [
        ratings,
        np.full(len(block_u), 5.0),
        np.full(len(cam_u), 4.0),
        rng.choice([1.0, 5.0], k),
        np.full(len(bu_u), 5.0),
    ]
    parts_d = [
        days,
        rng.integers(600, 610, len(block_u)),
        rng.integers(0, 700, len(cam_u)),
        rng.integers(0, 700, k),
        bu_d,
    ]
    parts_f = [
        fake,
        np.ones(len(block_u), bool),
        np.ones(len(cam_u), bool),
        np.ones(k, bool),
        np.ones(len(bu_u), bool),
    ]
    return Planted(
        np.concatenate(parts_u).astype(np.int64),
        np.concatenate(parts_p).astype(np.int64),
        np.concatenate(parts_r),
        np.concatenate(parts_d).astype(np.int64),
        np.concatenate(parts_f),
        fu,
        np.sort(fp),
    )
