"""Order statistics shared by the complaint metrics and the transparency report, so both give
the same median and 90th percentile of the same times."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating linearly between the closest ranks (the
    'inclusive' method: the median of 1, 2, 3, 4 is 2.5, the 90th percentile of 10, 30, 49
    is 45.2). None for no values."""
    if not 0 <= q <= 100:
        raise ValueError("q is between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)
