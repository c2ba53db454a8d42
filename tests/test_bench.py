"""The benchmark runs (figures are printed, never asserted)."""

from __future__ import annotations

import pytest
from bench.ledger_bench import main


def test_ledger_bench_quick_smoke(capsys):
    assert main(["--quick", "--backend", "sqlite"]) == 0
    out = capsys.readouterr().out
    assert "transfers one-at-a-time" in out


def test_orders_bench_smoke(capsys):
    from bench.orders_bench import main as orders_main

    args = ["--backend", "sqlite", "--orders", "3", "--rounds", "1", "--batch", "2"]
    assert orders_main(args) == 0
    out = capsys.readouterr().out
    assert "completed orders/s in batches of 2" in out
    assert "confirm  p50" in out


def test_chain_bench_smoke(capsys):
    from bench.chain_bench import main as chain_main

    assert chain_main(["--backend", "sqlite", "--events", "5", "--repeat", "1"]) == 0
    assert "chain + liability" in capsys.readouterr().out


@pytest.mark.slow
def test_detect_bench_smoke(capsys):
    from bench.detect_bench import main as detect_main

    assert detect_main(["--sizes", "20000", "--skip-yelpchi"]) == 0
    assert "FRAUDAR" in capsys.readouterr().out


def test_order_statements_bench_smoke(capsys):
    from bench.order_statements_bench import main as statements_main

    assert statements_main(["--backend", "sqlite", "--orders", "1"]) == 0
    assert "round trips" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.postgres
def test_ledger_growth_bench_quick_smoke(capsys):
    import os

    from bench.ledger_growth_bench import main as growth_main

    url = os.environ["XINREN_TEST_DATABASE_URL"]
    assert growth_main(["--quick", "--arms", "new,old", "--explain", "--pg-url", url]) == 0
    out = capsys.readouterr().out
    assert "up to     1,500 entries" in out
    assert "old: last window / first window" in out
    assert "hold -> post" in out
