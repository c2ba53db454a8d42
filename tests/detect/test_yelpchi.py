"""Fake-review detection measured on real, labelled data (YelpChi): the quality bars hold."""

from __future__ import annotations

import csv

import pytest

from xinren.detect import evaluate, reviews, supervised, unsupervised
from xinren.errors import ValidationFailed


@pytest.fixture(scope="module")
def yelpchi():
    return reviews.dataset("yelpchi")


def test_the_data_and_its_label_polarity(yelpchi):
    assert len(yelpchi) == 67_395 and yelpchi.n_users == 38_063 and yelpchi.n_products == 201
    assert int(yelpchi.fake.sum()) == 8_919  # -1 = filtered as fake, 13.2%


@pytest.mark.slow
def test_quality_bars(yelpchi):
    figures = {(f.method, f.level): f for f in evaluate.evaluate(yelpchi)}
    unsup = figures[("unsupervised", "review")]
    assert unsup.roc_auc >= 0.77 and unsup.average_precision >= 0.30
    sup = figures[("supervised (reviewer split)", "review")]
    assert sup.roc_auc >= 0.80 and sup.average_precision >= 0.36


def test_scores_are_in_range_and_users_take_their_worst_review(yelpchi):
    review, user = unsupervised.scores(yelpchi)
    assert review.min() >= 0 and review.max() <= 1 and len(user) == yelpchi.n_users
    assert (user[yelpchi.user] >= review).all()


def test_bad_files_name_the_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("u1 p1 5 1 2020-01-01\nu2 p1 nine 1 2020-01-02\n")
    with pytest.raises(ValidationFailed) as err:
        reviews.read(bad)
    assert err.value.field == "line 2"
    bad.write_text("u1 p1 7 1 2020-01-01\n")
    with pytest.raises(ValidationFailed, match="1 to 5"):
        reviews.read(bad)
    with pytest.raises(ValidationFailed, match="not a model"):
        bad.write_bytes(b"\x80\x04K\x01.")
        supervised.load(bad)


@pytest.mark.slow
def test_score_and_train_from_the_command_line(cli, tmp_path, yelpchi):
    lines = [
        f"{yelpchi.user_ids[u]} {yelpchi.product_ids[p]} {r} {'-1' if f else '1'} 2011-01-01"
        for u, p, r, f in zip(
            yelpchi.user[:3000],
            yelpchi.product[:3000],
            yelpchi.rating[:3000],
            yelpchi.fake[:3000],
            strict=True,
        )
    ]
    data = tmp_path / "reviews.txt"
    data.write_text("\n".join(lines))
    out = tmp_path / "scores.csv"
    cli("detect", "score", str(data), "--out", str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 3000 and set(rows[0]) == {"line", "review_score", "user_score"}
    model = tmp_path / "model.pkl"
    cli("detect", "train", str(data), "--out", str(model))
    cli("detect", "score", str(data), "--out", str(out), "--model", str(model))
    assert len(list(csv.DictReader(out.open()))) == 3000
    assert "met" in cli("detect", "eval", "yelpchi").stdout
