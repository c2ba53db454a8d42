"""How long the command line takes to start: `xinren version` and `xinren --help`.

Printed beside a bare `python -c pass` started the same way in the same run, so the figure reads
as "the CLI costs N times an empty interpreter" on a machine whose load varies. Each round runs
the three once, interleaved; the median and min..max of the rounds are printed. Never asserts on
time (`tests/test_cli_start.py` checks what is imported instead).

    python bench/cli_start_bench.py [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "xinren version": [sys.executable, "-m", "xinren.cli.main", "version"],
    "xinren --help": [sys.executable, "-m", "xinren.cli.main", "--help"],
}


def once(argv: list[str]) -> float:
    env = {**os.environ, "COLUMNS": "120"}
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.rounds):
        for name, command in CASES.items():
            times[name].append(once(command))
    bare = statistics.median(times["python -c pass"])
    print(f"CLI start, {args.rounds} rounds (median, min..max; ratio to bare python):")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"  {name:16s} {med * 1000:7.0f} ms  ({min(ts) * 1000:.0f}..{max(ts) * 1000:.0f})"
            f"  x{med / bare:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
