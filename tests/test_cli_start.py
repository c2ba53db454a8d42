"""The command line starts fast: `xinren version` and `--help` import none of the heavy stack.

Checked by what the process imports (`python -X importtime`), never by wall time: the time varies
with the machine's load, the imports do not. `bench/cli_start_bench.py` prints the time.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from xinren.cli import lazy
from xinren.cli.main import app

#: what only the commands that use them may import (each costs 0.1-2 s to import)
HEAVY = (
    "numba",
    "sklearn",
    "scipy",
    "numpy",
    "pandas",
    "datasketch",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
)


def imported(*args: str) -> set[str]:
    """The top-level packages a `xinren ...` process imported, and its stdout."""
    env = {**os.environ, "COLUMNS": "120"}
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "xinren.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    names = (
        line.split("|")[-1].strip() for line in out.stderr.splitlines() if "import time:" in line
    )
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("args", [["version"], ["--help"]])
def test_version_and_help_import_none_of_the_heavy_stack(args):
    modules = imported(*args)
    assert "typer" in modules  # the check sees imports at all
    assert sorted(modules & set(HEAVY)) == []


def test_a_lazy_group_still_runs_its_commands_and_help():
    runner = CliRunner()
    result = runner.invoke(app, ["rules", "--help"])
    assert result.exit_code == 0, result.output
    assert "backtest" in result.output
    result = runner.invoke(app, ["detect", "--help"])
    assert result.exit_code == 0 and "evaluate" in result.output
    result = runner.invoke(app, ["nosuch"])
    assert result.exit_code == 2


@pytest.mark.parametrize("name", sorted(lazy.LAZY))
def test_each_lazy_line_is_the_commands_own_help(name):
    """The top-level help is written in `cli.lazy`; it must say what the command says."""
    real = lazy.load(name)
    assert real.name == name
    assert real.help == lazy.LAZY[name].help


def test_cli_start_bench_smoke(capsys):
    from bench.cli_start_bench import main

    assert main(["--rounds", "1"]) == 0
    assert "xinren version" in capsys.readouterr().out
