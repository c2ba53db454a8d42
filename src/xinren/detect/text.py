"""Near-duplicate review texts by MinHash LSH: farms reuse their words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import MinHashLSH
from numpy.typing import NDArray

from xinren.catalog.model import minhash

NEAR = 0.8  # estimated Jaccard similarity of 4-character shingles


def near_duplicates(texts: Sequence[str], threshold: float = NEAR) -> NDArray[np.int64]:
    """For each text, how many other texts are near-duplicates of it (empty texts: 0)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=64)
    hashes = []
    for i, t in enumerate(texts):
        h = minhash(t)
        hashes.append(h)
        if t.strip():
            lsh.insert(str(i), h)
    out = np.zeros(len(texts), dtype=np.int64)
    for i, (t, h) in enumerate(zip(texts, hashes, strict=True)):
        if t.strip():
            out[i] = len(lsh.query(h)) - 1
    return out
