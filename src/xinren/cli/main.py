"""Entry point: `xinren demo | serve | tick | db upgrade | keys create | ledger verify|seal`."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from xinren import __version__
from xinren.cli.accountability import app as accountability_app
from xinren.cli.common import console, err_console, friendly_errors, opened
from xinren.cli.detect import app as detect_app
from xinren.cli.enforcement import app as enforcement_app
from xinren.cli.remedies import app as remedies_app
from xinren.cli.report import app as report_app
from xinren.clock import SystemClock
from xinren.db import current_revision, head_revision, session_factory, unit_of_work, upgrade

app = typer.Typer(
    help="Xinren (信任): trust infrastructure for live-stream and social commerce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(ledger_app, name="ledger")
app.add_typer(accountability_app)  # parties, documents, catalog, epcis, chain, liability, recall
app.add_typer(enforcement_app)  # rules, violations, appeals
app.add_typer(remedies_app)  # cases, remedies
app.add_typer(detect_app, name="detect")
app.add_typer(report_app)  # report


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"xinren {__version__}")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply every pending migration (Alembic) to XINREN_DATABASE_URL."""
    with opened(migrate=False) as engine:
        before = current_revision(engine)
        upgrade(engine)
        console.print(f"database at {head_revision()} (was {before or 'empty'})")


@keys_app.command("create")
@friendly_errors
def keys_create(
    role: Annotated[str, typer.Option(help="platform, buyer, merchant, ..., admin")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
    party: Annotated[
        str | None, typer.Option(help="the buyer/merchant/host id it acts for")
    ] = None,
) -> None:
    """Create an API key and print it (it is shown only once)."""
    from xinren.access import service as access

    subject = f"{role}:{party}" if party else None

    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        principal, secret = access.create_key(
            session, SystemClock(), role, name=name, subject=subject
        )
    err_console.print(f"[dim]key {principal.key_id} ({principal.role}); shown once:[/dim]")
    print(secret)


def tick_once(engine: object) -> tuple[int, int]:
    """Run due timers, then seal the journal; returns (timers run, entries sealed)."""
    from sqlalchemy import Engine

    from xinren import handlers
    from xinren.ledger import journal
    from xinren.timers import service as timers

    assert isinstance(engine, Engine)
    handlers.load()
    factory = session_factory(engine)
    clock = SystemClock()
    ran = timers.run_due(factory, clock)
    with unit_of_work(factory) as session:
        sealed = journal.seal(session, clock)
    return ran, sealed


@app.command()
@friendly_errors
def tick() -> None:
    """Run every timer that is due now (hold expiries, ...) and seal the journal."""
    with opened() as engine:
        ran, sealed = tick_once(engine)
    console.print(f"{ran} timer(s) run, {sealed} journal entr(y/ies) sealed")


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    tick_seconds: Annotated[float, typer.Option(help="timer loop period; 0 turns it off")] = 5.0,
) -> None:
    """Serve the HTTP API (and run due timers in the background)."""
    import uvicorn

    from xinren.api.app import create_app

    with opened() as engine:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(tick_seconds):
                try:
                    tick_once(engine)
                except Exception as err:
                    err_console.print(f"[yellow]timer loop:[/yellow] {err}")

        if tick_seconds > 0:
            threading.Thread(target=loop, name="xinren-tick", daemon=True).start()
        try:
            uvicorn.run(create_app(engine), host=host, port=port, log_level="info")
        finally:
            stop.set()


@ledger_app.command("verify")
@friendly_errors
def ledger_verify(
    seal_first: Annotated[
        bool, typer.Option("--seal/--no-seal", help="seal new entries first")
    ] = True,
) -> None:
    """Rebuild every balance from the journal, check sums, limits, holds and the hash chain,
    and check every owned account (escrow, deposits, the fund) against its owner's records."""
    from xinren import reconciliation
    from xinren.ledger import journal

    with opened() as engine:
        factory = session_factory(engine)
        if seal_first:
            with unit_of_work(factory) as session:
                journal.seal(session, SystemClock())
        with unit_of_work(factory) as session:
            report = journal.verify(session)
            report.problems.extend(reconciliation.problems(session))
    console.print(
        f"{report.accounts} accounts, {report.entries} journal entries, {report.blocks} sealed "
        f"blocks, {report.unsealed} entries not yet sealed"
    )
    for currency, total in sorted(report.totals.items()):
        console.print(
            f"  {currency}: debits {total.debits_posted} = credits {total.credits_posted} posted; "
            f"pending {total.debits_pending} / {total.credits_pending}"
        )
    if report.problems:
        err_console.print(f"[red]FAILED:[/red] {report.problems[0]}")
        for more in report.problems[1:10]:
            err_console.print(f"  also: {more}")
        raise typer.Exit(1)
    console.print(
        "[green]ledger verified[/green]: balances match the journal, sums are 0, chain intact"
    )


@ledger_app.command("seal")
@friendly_errors
def ledger_seal() -> None:
    """Seal committed journal entries into the hash chain now."""
    from xinren.ledger import journal

    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        n = journal.seal(session, SystemClock())
    console.print(f"{n} entr(y/ies) sealed")


@app.command()
@friendly_errors
def demo() -> None:
    """Walk one guaranteed transaction through the ledger, then verify the ledger."""
    from xinren.cli.demo import run_demo

    with opened() as engine:
        started = time.perf_counter()
        run_demo(engine, console)
        console.print(f"[dim]demo finished in {time.perf_counter() - started:.1f} s[/dim]")


def main() -> None:  # pragma: no cover - console script
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m xinren.cli.main`
    main()
