"""REV2, near-duplicate texts and the abuse score."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from xinren.detect import abuse, planted, rev2, reviews, text


def test_rev2_finds_reviewers_who_disagree_with_the_crowd():
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(50), 10)
    products = np.tile(np.arange(10), 50)
    ratings = np.clip(np.round(rng.normal(4.2, 0.5, 500)), 1, 5)
    ratings[users >= 45] = 1.0  # five reviewers trash every product
    fairness, goodness, reliability = rev2.rev2(users, products, ratings)
    assert fairness[45:].max() < fairness[:45].min()
    assert (goodness > 0).all() and reliability.min() >= 0 and reliability.max() <= 1


def test_rev2_beats_chance_on_yelpchi():
    r = reviews.dataset("yelpchi")
    _, _, reliability = rev2.rev2(r.user, r.product, r.rating)
    assert roc_auc_score(r.fake, 1 - reliability) > 0.55


def test_near_duplicate_texts_are_counted():
    texts = [
        "best tea ever, genuine longjing, fast delivery!!",
        "best tea ever, genuine longjing, fast delivery!",
        "Best tea ever, genuine Longjing, fast delivery!!",
        "the leaves stayed hard after an hour of brewing",
        "",
    ]
    assert text.near_duplicates(texts).tolist() == [2, 2, 2, 0, 0]


def test_abuse_score_weights_a_serial_complainer_down():
    honest = abuse.score(abuse.BuyerRecord(40, 2, 1, 0, 0, 0, 0))
    troll = abuse.score(abuse.BuyerRecord(12, 11, 12, 6, 5, 10, 2))
    assert honest.score < 0.2 and honest.weight > 0.8
    assert troll.score > 0.9 and troll.weight < 0.2
    assert "unfounded complaints" in troll.reasons


def test_planted_generator_is_reproducible():
    a, b = planted.generate(2_000, seed=9), planted.generate(2_000, seed=9)
    assert (a.users == b.users).all() and (a.fake == b.fake).all()


@pytest.mark.slow
def test_near_duplicate_texts_are_features_of_the_supervised_model():
    from xinren.detect import features, supervised

    g = planted.generate(5_000, seed=8)
    r = g.as_reviews()
    rng = np.random.default_rng(0)
    words = ["tea", "fresh", "leaf", "brew", "taste", "aroma", "green", "cup", "smooth", "bitter"]
    texts = tuple(
        "amazing tea best seller five stars genuine product fast delivery"
        if bad
        else " ".join(rng.choice(words, 12))
        for bad in r.fake
    )
    with_texts = reviews.Reviews(
        r.user, r.product, r.rating, r.day, r.fake, r.user_ids, r.product_ids, texts
    )
    x, names = features.review_features(with_texts)
    near = x[:, names.index("near_duplicate_texts")]
    assert near[r.fake].min() > 100 and np.median(near[~r.fake]) < 5
    assert not features.review_features(r)[0][:, names.index("near_duplicate_texts")].any()
    model = supervised.train(with_texts)
    assert model.n_features_in_ == len(names)
