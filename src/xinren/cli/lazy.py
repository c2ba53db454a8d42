"""Command groups loaded only when they run, so `xinren --help` and `xinren version` start fast.

Importing a command module imports its services, and through them SQLAlchemy, FastAPI (the rule
routes' JSON shapes), datasketch (the catalog), numba, scikit-learn and scipy (detection): about
4 s on a loaded 2-core machine. The top-level help needs only each command's one-line help, so
it is written here and the module is imported when the command itself is resolved (run, or its
own `--help` asked). `tests/test_cli_start.py` checks each line against the command's own help.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from typer import _click


class Lazy(NamedTuple):
    """Where a top-level command lives: `module.app`, added `as_group` or merged, and its help."""

    module: str
    help: str
    as_group: bool = False


ACCOUNTABILITY = "xinren.cli.accountability"
ENFORCEMENT = "xinren.cli.enforcement"
REMEDIES = "xinren.cli.remedies"

LAZY: dict[str, Lazy] = {
    "chain": Lazy(
        ACCOUNTABILITY,
        "Trace an order's goods back to their maker: custodians, steps and gaps (in red).",
    ),
    "liability": Lazy(
        ACCOUNTABILITY,
        "Assess who answers for a finding on an order, record the assessment, and say why.",
    ),
    "recall": Lazy(
        ACCOUNTABILITY,
        "Recall a batch: notify every buyer of it and record the refund and compensation owed.",
    ),
    "parties": Lazy(ACCOUNTABILITY, "Traders: register, verify, show."),
    "documents": Lazy(ACCOUNTABILITY, "Evidence files (reports, authorizations, ...)."),
    "catalog": Lazy(ACCOUNTABILITY, "Brands, products, batches, listings."),
    "epcis": Lazy(ACCOUNTABILITY, "GS1 EPCIS 2.0 provenance events."),
    "rules": Lazy(ENFORCEMENT, "The published rulebook: list, show, validate, backtest."),
    "violations": Lazy(ENFORCEMENT, "Violation decisions and their statements of reasons."),
    "appeals": Lazy(ENFORCEMENT, "Appeals against violation decisions."),
    "notices": Lazy(ENFORCEMENT, "Notices (reports) and reporters' records."),
    "cases": Lazy(REMEDIES, "Buyer complaints: file, answer, decide, appeal, metrics."),
    "remedies": Lazy(REMEDIES, "The guarantee fund, recovery claims, recall payments."),
    "detect": Lazy(
        "xinren.cli.detect",
        "Fake-review detection: score a file, train a model, evaluate.",
        as_group=True,
    ),
    "report": Lazy(
        "xinren.cli.report",
        "The transparency report (信任建设报告) for a period: report.html, report.json and the\n"
        "period's DSA statements of reasons (statements/batch-NNNN.json, at most 100 each).",
    ),
}


def load(name: str) -> _click.Command:
    """The real command `name`, importing its module (and what that imports) now."""
    where = LAZY[name]
    holder = typer.Typer()
    holder.add_typer(
        importlib.import_module(where.module).app, name=name if where.as_group else None
    )
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


class Placeholder(TyperCommand):
    """A `LAZY` command before its module is imported: enough for the top-level help."""


class LazyGroup(TyperGroup):
    """The top-level group: `LAZY` commands stand as placeholders (name and help) until resolved."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, where in LAZY.items():
            self.commands.setdefault(name, Placeholder(name, help=where.help))

    def resolve_command(
        self, ctx: _click.Context, args: list[str]
    ) -> tuple[str | None, _click.Command | None, list[str]]:
        if args and isinstance(self.commands.get(args[0]), Placeholder):
            self.commands[args[0]] = load(args[0])
        return super().resolve_command(ctx, args)
