"""Settings from the environment, read once per call so tests can point elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_FILE = "xinren.db"


def database_url() -> str:
    """`XINREN_DATABASE_URL`, or a SQLite file `xinren.db` in the working directory."""
    url = os.environ.get("XINREN_DATABASE_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}"
