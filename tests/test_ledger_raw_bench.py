"""The ledger-beside-raw benchmark runs (figures are printed, never asserted)."""

from __future__ import annotations

from bench.ledger_raw_bench import main


def test_ledger_raw_bench_smoke(capsys):
    args = ["--backend", "sqlite", "--rounds", "1", "--singles", "4", "--batches", "1"]
    assert main([*args, "--batch", "5"]) == 0
    out = capsys.readouterr().out
    assert "ratio" in out and "hold -> post" in out
