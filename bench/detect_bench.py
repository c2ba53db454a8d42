"""Run time and peak memory of the detectors on YelpChi and on planted graphs, and FRAUDAR
against the `ugfraud` package's Fraudar on the same graph (a ratio measured in the same run).

ugfraud is not a dependency of Xinren: install it in a separate environment and name its
Python with --ugfraud-python (e.g. `python3 -m venv /tmp/ug && /tmp/ug/bin/pip install
numpy scipy ugfraud`). Never asserts on time.

    python bench/detect_bench.py [--sizes 100000,1000000,3000000] [--ugfraud-python PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from xinren.catalog import model as gate
from xinren.detect import evaluate, fraudar, planted, rev2, reviews, supervised, unsupervised

UGFRAUD = """
import sys, time, numpy as np
from scipy import sparse
from UGFraud.Detector.Fraudar import logWeightedAveDegree
edges = np.load(sys.argv[1])
m = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1]))).tocsr()
m = (m > 0).astype(int)
t = time.perf_counter()
(rows, cols), score = logWeightedAveDegree(m)
print(time.perf_counter() - t, len(rows), len(cols))
"""


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds of one untraced call, then peak traced memory (MiB) of a second call (tracing
    slows Python code down, so it must not be in the timed run)."""
    started = time.perf_counter()
    result = fn()
    took = time.perf_counter() - started
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return took, peak / 2**20, result


def ugfraud_seconds(python: str, users: np.ndarray, products: np.ndarray) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "edges.npy"
        np.save(path, np.column_stack([users, products]))
        out = subprocess.run(
            [python, "-c", UGFRAUD, str(path)], capture_output=True, text=True, timeout=3600
        )
        if out.returncode != 0:
            print(f"  ugfraud failed: {out.stderr.strip().splitlines()[-1:]}")
            return None
        return float(out.stdout.split()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--ugfraud-python", default=None)
    parser.add_argument("--skip-yelpchi", action="store_true")
    args = parser.parse_args(argv)
    warm = planted.generate(5_000)
    fraudar.detect(warm.users, warm.products)  # numba compiles (and caches) once, untimed
    if not args.skip_yelpchi:
        r = reviews.dataset("yelpchi")
        print(f"YelpChi: {len(r):,} reviews")
        for name, fn in (
            ("unsupervised score", lambda: unsupervised.scores(r)),
            ("FRAUDAR, 1 block", lambda: fraudar.detect(r.user, r.product, blocks=1)),
            ("REV2", lambda: rev2.rev2(r.user, r.product, r.rating)),
            ("full evaluation incl. supervised training", lambda: evaluate.evaluate(r)),
        ):
            took, peak, _ = measure(fn)
            print(f"  {name:45} {took:7.2f} s  peak {peak:7.1f} MiB")
    gate_latency()
    for size in (int(s) for s in args.sizes.split(",")):
        g = planted.generate(size)
        took, peak, blocks = measure(partial(fraudar.detect, g.users, g.products, blocks=1))
        found = set(blocks[0].users.tolist())
        farm = set(g.farm_users.tolist())
        recall = len(found & farm) / len(farm)
        precision = len(found & farm) / max(len(found), 1)
        print(
            f"planted {len(g.users):,} edges: FRAUDAR {took:.2f} s, peak {peak:.1f} MiB, "
            f"farm users precision {precision:.2f} recall {recall:.2f}"
        )
        r = g.as_reviews()
        model = supervised.train(planted.generate(min(size, 200_000), seed=1).as_reviews())
        for name, fn in (
            ("unsupervised score", partial(unsupervised.scores, r)),
            ("REV2", partial(rev2.rev2, r.user, r.product, r.rating)),
            ("supervised scoring", partial(supervised.predict, model, r)),
        ):
            took_x, peak_x, _ = measure(fn)
            print(f"  {name:20} {took_x:6.2f} s, peak {peak_x:7.1f} MiB")
        for f in evaluate.on_planted(r, model):
            print(
                f"  {f.method:36} {f.level:8} precision {f.precision:.2f} "
                f"recall {f.recall:.2f} ({f.flagged:,} flagged)"
            )
        if args.ugfraud_python:
            theirs = ugfraud_seconds(args.ugfraud_python, g.users, g.products)
            if theirs is not None:
                print(f"  ugfraud Fraudar {theirs:.2f} s: Xinren is {theirs / took:.1f}x faster")
    return 0


def gate_latency(checks: int = 5_000) -> None:
    """The gate in process: 50 protected brands with 4 official images each, 2,000 texts
    intercepted before; latency per listing checked."""
    rng = np.random.default_rng(0)

    def bits() -> str:
        return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()

    brands = [
        gate.BrandFacts(
            i,
            f"Brand{i}",
            True,
            (f"brand{i}", f"牌{i}"),
            100_000,
            tuple(bits() for _ in range(4)),
            i % 2 == 0,
        )
        for i in range(50)
    ]
    seen = gate.Intercepted()
    for i in range(2_000):
        seen.add(f"replica brand{i % 50} bag grade AAA number {i} same as the counter")
    drafts = [
        gate.ListingDraft(
            "merchant:m",
            f"brand{i % 60} handbag {i}",
            f"leather bag number {i}",
            int(rng.integers(10_000, 300_000)),
            i % 60 if i % 60 < 50 else None,
            (bits(),),
        )
        for i in range(checks)
    ]
    times = []
    for d in drafts:
        started = time.perf_counter()
        gate.gate_verdict(d, brands, seen)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    print(
        f"gate: {checks:,} listings against 50 brands and 2,000 interceptions: "
        f"p50 {np.percentile(ms, 50):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms, "
        f"max {ms.max():.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
