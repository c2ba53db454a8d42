"""`xinren report --from --to --out DIR`: the transparency report for a period, its JSON and the
period's DSA statements of reasons, written to a folder with a progress bar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from xinren.cli.common import console, friendly_errors, opened
from xinren.clock import Clock, SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.errors import ValidationFailed
from xinren.report import export
from xinren.report.model import Period, check_lang, parse_day, show

app = typer.Typer()
DEFAULT_OUT = Path("xinren-report")


class _Bar:
    """Feeds the export's steps to a rich progress bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("counting the statements of reasons", total=None)

    def plan(self, steps: int) -> None:
        self.progress.update(self.task, total=steps, description="computing the figures")

    def step(self, what: str) -> None:
        self.progress.update(self.task, advance=1, description=f"written: {what}")


def write_report(
    engine: Engine,
    out_console: Console,
    period: Period,
    out: Path,
    *,
    clock: Clock | None = None,
    lang: str = "zh",
) -> export.Written:
    """Write the report for `period` into `out` (one read-only transaction), with progress."""
    check_lang(lang)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with (
            Progress(*columns, console=out_console, transient=True) as progress,
            unit_of_work(session_factory(engine)) as session,
        ):
            return export.write(
                session, clock or SystemClock(), period, out, lang=lang, progress=_Bar(progress)
            )
    except OSError as err:
        raise ValidationFailed(
            f"cannot write the report to {out}: {err.strerror or err}; choose a folder you may "
            "write to with --out",
            field="out",
        ) from err


def summary(out_console: Console, written: export.Written) -> None:
    r = written.report
    p = r.period
    batches = len(written.batches)
    out_console.print(
        f"Trust report for {p.first} to {p.last} written to [bold]{written.directory}[/bold]:"
    )
    out_console.print(f"  {written.html}  (open it in a browser; prints as is)")
    out_console.print(f"  {written.json}")
    out_console.print(
        f"  {written.directory / 'statements'}/  {written.statements} statement(s) of reasons "
        f"in {batches} batch(es) of at most {export.BATCH_SIZE} (DSA Transparency Database)"
    )
    e, g = r.enforcement, r.gate
    out_console.print(
        f"  merchants cleared {show(e.merchants_cleared, 'count', 'en')}, sanctioned "
        f"{show(e.merchants_sanctioned, 'count', 'en')}; listings intercepted "
        f"{show(g.intercepted, 'count', 'en')}; complaints decided "
        f"{show(r.complaints.decided, 'count', 'en')}; fake reviews excluded "
        f"{show(r.reviews.excluded, 'count', 'en')}"
    )


@app.command("report")
@friendly_errors
def report(
    first: Annotated[
        str | None,
        typer.Option("--from", help="first day, YYYY-MM-DD; default: 1 January of --to's year"),
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="last day, included, YYYY-MM-DD; default: today")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="the folder to write into")] = DEFAULT_OUT,
    lang: Annotated[str, typer.Option(help="zh or en: the language the HTML opens in")] = "zh",
    tz: Annotated[str, typer.Option(help="the days' time zone (IANA), e.g. Asia/Shanghai")] = "UTC",
) -> None:
    """The transparency report (信任建设报告) for a period: report.html, report.json and the
    period's DSA statements of reasons (statements/batch-NNNN.json, at most 100 each)."""
    end = parse_day(last, "to") if last else SystemClock().now().date()
    period = Period.parse(first or date(end.year, 1, 1), end, tz)
    check_lang(lang)
    with opened() as engine:
        written = write_report(engine, console, period, out, lang=lang)
    summary(console, written)


def folder_beside(engine: Engine) -> Path:
    """Where the demo writes its report: next to a SQLite file, else the current folder."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / DEFAULT_OUT.name
    return DEFAULT_OUT.resolve()


def demo_report(engine: Engine, out_console: Console, clock: Clock, began: datetime) -> Path:
    """The demo's last step: the report for the demo's period, from a year before its first
    day (its reviews reach back a year) to the day its clock stopped on."""
    period = Period((began - timedelta(days=365)).date(), clock.now().date())
    out_console.rule("[bold]The trust report (信任建设报告)")
    written = write_report(engine, out_console, period, folder_beside(engine), clock=clock)
    summary(out_console, written)
    return written.directory
