"""Write the report for a period into a folder:

    DIR/report.html                 the report, self-contained (both languages, printable)
    DIR/report.json                 the same figures as JSON (as `GET /v1/transparency`)
    DIR/statements/batch-0001.json  the period's statements of reasons in the DSA Transparency
                                    Database's submission form, {"statements": [...]}, at most
                                    100 per batch (the database's API limit), each checked
                                    against the database's schema

Statements are built 100 at a time, so a year of decisions never sits in memory at once. Each
file is written beside its final name and renamed into place: a crash leaves the old file or
the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import ValidationFailed
from xinren.report import figures, html
from xinren.report.model import Period, Report
from xinren.rules import rulebooks, statement
from xinren.rules import service as rules

BATCH_SIZE = statement.BATCH_SIZE
_BATCH_FILE = re.compile(r"^batch-\d{4,}\.json$")


class Progress(Protocol):
    def plan(self, steps: int) -> None:
        """How many steps the export takes (known once the statements are counted)."""

    def step(self, what: str) -> None:
        """One step done."""


@dataclass(frozen=True, slots=True)
class Written:
    directory: Path
    html: Path
    json: Path
    batches: tuple[Path, ...]
    statements: int
    report: Report


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def statements_for(session: Session, violation_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The DSA statement of reasons of each violation, built and checked by `rules.statement`."""
    out = []
    for violation_id in violation_ids:
        v = rules.get_violation(session, violation_id)
        book = rulebooks.version(v.rule_version)
        out.append(statement.statement(v, book.rule(v.rule_id), book))
    return out


def _prepare(out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ValidationFailed(f"{out} is a file; --out names a folder to write into", field="out")
    statements_dir = out / "statements"
    statements_dir.mkdir(parents=True, exist_ok=True)
    for old in statements_dir.iterdir():  # batches of an earlier run would mix periods
        if _BATCH_FILE.match(old.name):
            old.unlink()
    return statements_dir


def write(
    session: Session,
    clock: Clock,
    period: Period,
    out: Path,
    *,
    lang: str = "zh",
    progress: Progress | None = None,
) -> Written:
    """Compute the report for `period` and write it, its JSON and its statements to `out`."""
    statements_dir = _prepare(out)
    figures.snapshot(session)  # the figures and the statements from one snapshot
    ids = list(figures.statement_ids(session, period))
    chunks = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
    if progress is not None:
        progress.plan(3 + len(chunks))
    report = figures.report(session, clock, period)
    if progress is not None:
        progress.step("figures")
    html_path = out / "report.html"
    _write(html_path, html.document(report, lang))
    if progress is not None:
        progress.step("report.html")
    json_path = out / "report.json"
    _write(json_path, dumps(report.as_dict()))
    if progress is not None:
        progress.step("report.json")
    written = []
    for n, chunk in enumerate(chunks, start=1):
        [batch] = statement.batches(statements_for(session, chunk))
        path = statements_dir / f"batch-{n:04d}.json"
        _write(path, dumps(batch))
        written.append(path)
        if progress is not None:
            progress.step(path.name)
    return Written(out, html_path, json_path, tuple(written), len(ids), report)
