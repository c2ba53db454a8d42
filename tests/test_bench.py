"""The benchmark runs (figures are printed, never asserted)."""

from __future__ import annotations

from bench.ledger_bench import main


def test_ledger_bench_quick_smoke(capsys):
    assert main(["--quick", "--backend", "sqlite"]) == 0
    out = capsys.readouterr().out
    assert "transfers one-at-a-time" in out
