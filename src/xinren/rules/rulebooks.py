"""Load the rulebook versions shipped in `xinren/policies/rulebook/` (published) and
`.../drafts/` (drafts), and pick the one in force on a day."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from xinren.errors import NotFound, ValidationFailed
from xinren.rules.model import Rulebook, check_overlaps, in_force, parse_rulebook


def _folder() -> Path:
    return Path(str(files("xinren.policies") / "rulebook"))


def parse_file(path: Path) -> Rulebook:
    """Parse and check one rulebook file; a problem names the file and what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("the file is not a YAML mapping")
        return parse_rulebook(raw)
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as err:
        raise ValidationFailed(f"{path.name}: {err}", field="rulebook") from None


@cache
def published() -> tuple[Rulebook, ...]:
    books = tuple(
        sorted((parse_file(p) for p in _folder().glob("*.yaml")), key=lambda b: b.effective_from)
    )
    check_overlaps(books)
    return books


@cache
def drafts() -> tuple[Rulebook, ...]:
    return tuple(parse_file(p) for p in sorted((_folder() / "drafts").glob("*.yaml")))


def in_force_on(day: date) -> Rulebook:
    return in_force(published(), day)


def version(name: str) -> Rulebook:
    for book in (*published(), *drafts()):
        if book.version == name:
            return book
    raise NotFound(
        f"no rulebook version {name!r}; published: {', '.join(b.version for b in published())}",
        field="version",
    )
