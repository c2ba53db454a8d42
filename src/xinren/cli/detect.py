"""`xinren detect score | train | eval | planted`: fake-review detection on files, measured on
real data; `xinren detect rescore`: the platform's own honest ratings, scored now."""

from __future__ import annotations

import csv
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from xinren.cli.common import console, friendly_errors, opened
from xinren.clock import SystemClock
from xinren.db import session_factory, unit_of_work
from xinren.detect import evaluate, planted, reviews, supervised, unsupervised
from xinren.detect import service as detect
from xinren.unit_of_work import run

app = typer.Typer(help="Fake-review detection: score a file, train a model, evaluate.")
InFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]

#: The quality bars `eval` checks (and CI asserts): unsupervised at review level, supervised
#: split by reviewer.
BARS = {
    ("unsupervised", "review"): (0.77, 0.30),
    ("supervised (reviewer split)", "review"): (0.80, 0.36),
}
#: merchants rescored per transaction: each reads every review once for all of them
RESCORE_CHUNK = 500
#: merchants listed one by one when their rating changed; the rest are counted
RESCORE_SHOWN = 50


@app.command("score")
@friendly_errors
def score(
    file: InFile,
    out: Annotated[Path, typer.Option("--out", help="where to write line,review_score,user_score")],
    model: Annotated[
        Path | None, typer.Option("--model", help="a model from `detect train`")
    ] = None,
) -> None:
    """Score every review of a file in the YelpChi line format (the label column is ignored)."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading", total=3)
        r = reviews.read(file)
        progress.update(task, advance=1, description="scoring")
        if model is None:
            review, user = unsupervised.scores(r)
        else:
            review, user = supervised.predict(supervised.load(model), r)
        progress.update(task, advance=1, description="writing")
        with out.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["line", "review_score", "user_score"])
            for n in range(len(r)):
                w.writerow([n + 1, f"{review[n]:.6f}", f"{user[r.user[n]]:.6f}"])
        progress.update(task, advance=1)
    console.print(f"{len(r):,} reviews scored ({'model' if model else 'unsupervised'}) -> {out}")


@app.command("train")
@friendly_errors
def train(
    file: InFile, out: Annotated[Path, typer.Option("--out", help="where to save the model")]
) -> None:
    """Train the supervised model on a labelled file (-1 = fake)."""
    r = reviews.read(file)
    supervised.save(supervised.train(r), out)
    console.print(f"model trained on {len(r):,} reviews -> {out}")


@app.command("eval")
@friendly_errors
def eval_(dataset: Annotated[str, typer.Argument()] = "yelpchi") -> None:
    """ROC-AUC and average precision on a labelled data set shipped with Xinren."""
    r = reviews.dataset(dataset)
    table = Table(title=f"{dataset}: {len(r):,} reviews, {r.n_users:,} reviewers")
    for column in ("method", "level", "ROC-AUC", "AP", "seconds", "bar"):
        table.add_column(column)
    failed = False
    for f in evaluate.evaluate(r):
        bar = BARS.get((f.method, f.level))
        verdict = ""
        if bar is not None:
            ok = f.roc_auc >= bar[0] and f.average_precision >= bar[1]
            failed |= not ok
            verdict = f"{'[green]met' if ok else '[red]missed'}[/] (>= {bar[0]}, >= {bar[1]})"
        table.add_row(
            f.method,
            f.level,
            f"{f.roc_auc:.3f}",
            f"{f.average_precision:.3f}",
            f"{f.seconds:.2f}",
            verdict,
        )
    console.print(table)
    if failed:
        raise typer.Exit(1)


@app.command("planted")
@friendly_errors
def planted_(
    edges: Annotated[
        int, typer.Option(min=1_000, max=10_000_000, help="about this many reviews")
    ] = 100_000,
    seed: Annotated[int, typer.Option(help="the generator's seed")] = 0,
    out: Annotated[
        Path | None, typer.Option(dir_okay=False, help="also write it in the YelpChi format")
    ] = None,
) -> None:
    """Plant review farms, one-off fake accounts and bursts in a graph without labels, then
    print each detector's precision and recall on it (the supervised model is trained on
    another planted graph, seed + 1)."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("planting and detecting", total=3)
        g = planted.generate(edges, seed=seed)
        if out is not None:
            g.write(out)
        progress.advance(task)
        model = supervised.train(planted.generate(edges, seed=seed + 1).as_reviews())
        progress.advance(task)
        r = g.as_reviews()
        figures = evaluate.on_planted(r, model)
        progress.advance(task)
    fake = g.fake
    table = Table(
        title=f"planted: {len(r):,} reviews, {int(fake.sum()):,} fake "
        f"({fake.mean():.1%}), seed {seed}"
    )
    for column in ("method", "level", "precision", "recall", "flagged", "seconds"):
        table.add_column(column)
    for f in figures:
        table.add_row(
            f.method,
            f.level,
            f"{f.precision:.2f}",
            f"{f.recall:.2f}",
            f"{f.flagged:,}",
            f"{f.seconds:.2f}",
        )
    console.print(table)
    if out is not None:
        console.print(
            f"written to {out} (label -1 = planted fake); score it with "
            f"`xinren detect score {out} --out SCORES.csv`"
        )


@app.command("rescore")
@friendly_errors
def rescore(
    merchant: Annotated[
        list[str] | None,
        typer.Option("--merchant", help="only this merchant (repeat for more); default: all"),
    ] = None,
) -> None:
    """Score honest ratings now (every merchant with reviews, or those named), as the timer
    does after reviews arrive: reviews in a coordinated block are excluded, rating
    manipulation (RM-1) is proposed once, and the ratings readers get are stored. Running it
    again with no new reviews changes nothing. Prints what changed."""
    clock = SystemClock()
    with opened() as engine:
        factory = session_factory(engine)
        if merchant:
            names = sorted(set(merchant))
        else:
            with unit_of_work(factory) as session:
                names = detect.merchants_with_reviews(session)
        done: list[detect.Rescored] = []
        columns = (
            TextColumn("rescoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("merchants"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("rescoring", total=len(names))
            for start in range(0, len(names), RESCORE_CHUNK):
                chunk = names[start : start + RESCORE_CHUNK]
                done += run(factory, partial(detect.rescore, clock=clock, merchants=chunk))
                progress.advance(task, len(chunk))
    _print_rescored(done)


def _print_rescored(done: list[detect.Rescored]) -> None:
    changed = [d for d in done if d.changed]
    table = Table(title="honest ratings that changed")
    for column in ("merchant", "reviews", "raw", "honest before", "honest now", "newly excluded"):
        table.add_column(column)
    for d in changed[:RESCORE_SHOWN]:
        assert d.rating is not None  # a changed rating was scored
        table.add_row(
            d.merchant,
            f"{d.rating.reviews:,}",
            f"{d.rating.raw:.2f}",
            "not scored" if d.before is None else f"{d.before:.2f}",
            f"{d.rating.robust:.2f}",
            f"{d.newly_excluded:,}" + (" (RM-1 proposed)" if d.proposed else ""),
        )
    if changed:
        console.print(table)
    if len(changed) > RESCORE_SHOWN:
        console.print(f"... and {len(changed) - RESCORE_SHOWN:,} more")
    for d in done:
        if d.rating is None:
            console.print(f"{d.merchant}: no reviews, nothing to score")
    excluded = sum(d.newly_excluded for d in done)
    proposed = sum(d.proposed for d in done)
    console.print(
        f"{len(done):,} merchant(s) rescored: {len(changed):,} changed, {excluded:,} review(s) "
        f"newly excluded, {proposed:,} rating-manipulation violation(s) proposed"
    )
