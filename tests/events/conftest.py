"""The event feed's tests wait for the feed's horizon, which on PostgreSQL is cluster-wide: any
open transaction on the server holds it back, whatever its database. In a parallel run they are
marked `alone`, so no other worker's test holds a transaction open beside them."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.alone)
