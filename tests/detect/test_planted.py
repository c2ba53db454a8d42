"""Dense-block detection and the planted-fraud generator."""

from __future__ import annotations

import numpy as np
import pytest

from xinren.detect import fraudar, planted, reviews, unsupervised


def test_fraudar_finds_the_planted_farm_despite_camouflage():
    g = planted.generate(50_000, seed=3)
    [block] = fraudar.detect(g.users, g.products, blocks=1)
    found, farm = set(block.users), set(g.farm_users)
    assert len(farm & found) >= 0.95 * len(farm) and len(found - farm) <= 0.05 * len(found)
    assert set(g.farm_products) <= set(block.products)
    assert len(block.products) <= len(g.farm_products) + 5  # at most a few camouflage targets


def test_several_blocks_are_found_in_turn():
    a = planted.generate(20_000, seed=1, farm_users=60, farm_products=20)
    # a second farm on other users and products, appended to the first graph
    offset_u, offset_p = a.users.max() + 1, a.products.max() + 1
    b = planted.generate(5_000, seed=2, farm_users=40, farm_products=15, one_off=0.0)
    users = np.concatenate([a.users, b.users + offset_u])
    products = np.concatenate([a.products, b.products + offset_p])
    blocks = fraudar.detect(users, products, blocks=2)

    def jaccard(x: set[int], y: set[int]) -> float:
        return len(x & y) / len(x | y)

    for farm in (set(a.farm_users), set(b.farm_users + offset_u)):
        assert max(jaccard(farm, set(x.users)) for x in blocks) >= 0.85
    assert blocks[0].density >= blocks[1].density


def test_planted_file_reads_back_and_scores(tmp_path):
    g = planted.generate(5_000, seed=4)
    path = tmp_path / "planted.txt"
    g.write(path)
    r = reviews.read(path)
    assert len(r) == len(g.users) and int(r.fake.sum()) == int(g.fake.sum())
    review, _ = unsupervised.scores(r)
    # the one-off fake accounts stand out to the unsupervised score (the farm is FRAUDAR's job)
    one_off = r.fake & (np.bincount(r.user)[r.user] == 1)
    assert review[one_off].mean() > review[~r.fake].mean()


@pytest.mark.slow
def test_each_detector_has_its_precision_and_recall_on_planted_fraud():
    from xinren.detect import evaluate, supervised

    g = planted.generate(40_000, seed=5)
    model = supervised.train(planted.generate(40_000, seed=6).as_reviews())
    got = {(f.method, f.level): f for f in evaluate.on_planted(g.as_reviews(), model)}
    fraudar_ = got[("FRAUDAR (1 block)", "reviewer")]
    assert fraudar_.precision >= 0.95 and fraudar_.flagged >= 0.95 * len(g.farm_users)
    # the unsupervised score finds most fake accounts (one-offs and bursts), not the farm's
    # camouflage, so it is better at reviewer than at review level
    unsup = got[("unsupervised score", "reviewer")]
    assert unsup.recall >= 0.85 and unsup.precision >= 0.6
    r = g.as_reviews()
    fake_users = np.zeros(r.n_users, dtype=bool)
    np.logical_or.at(fake_users, r.user, r.fake)
    rev = got[("REV2 (1 - reliability)", "reviewer")]
    assert rev.precision > 1.5 * fake_users.mean()  # better than flagging at random
    both = got[("combined (FRAUDAR or unsupervised)", "review")]
    assert both.recall >= 0.9 and both.recall > got[("FRAUDAR (1 block)", "review")].recall
    assert got[("supervised (trained elsewhere)", "review")].precision >= 0.9


@pytest.mark.slow
def test_the_planted_command_writes_a_file_score_can_read(tmp_path):
    from typer.testing import CliRunner

    from xinren.cli.main import app

    out = tmp_path / "planted.txt"
    result = CliRunner().invoke(app, ["detect", "planted", "--edges", "5000", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "FRAUDAR" in result.output and "precision" in result.output
    scores = tmp_path / "scores.csv"
    result = CliRunner().invoke(app, ["detect", "score", str(out), "--out", str(scores)])
    assert result.exit_code == 0, result.output
    assert len(scores.read_text().splitlines()) == len(out.read_text().splitlines()) + 1
