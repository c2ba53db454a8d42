"""Entry point: `xinren demo | serve | tick | db upgrade | keys create|list|rotate|revoke |
ledger verify|seal`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from xinren import __version__
from xinren.cli.common import console, err_console, friendly_errors, opened
from xinren.cli.lazy import LazyGroup
from xinren.clock import SystemClock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Only typer, rich and this module are imported before a command runs: the other groups
# (parties ... report, see `cli.lazy.LAZY`) are imported when run, and every command here
# imports the database and its services inside itself, so `--help` and `version` start fast.
app = typer.Typer(
    cls=LazyGroup,
    help="Xinren (信任): trust infrastructure for live-stream and social commerce.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts of the operators' console.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(ledger_app, name="ledger")

#: Who the outbox records as having made a key change from the command line.
CLI = "cli"


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"xinren {__version__}")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply every pending migration (Alembic) to XINREN_DATABASE_URL."""
    from xinren.db import current_revision, head_revision, upgrade

    with opened(migrate=False) as engine:
        before = current_revision(engine)
        upgrade(engine)
        console.print(f"database at {head_revision()} (was {before or 'empty'})")


@contextmanager
def _keys_database() -> Iterator[Session]:
    """One unit of work on the configured database (migrated first if empty). Says so on
    stderr, not stdout: `KEY=$(xinren keys create ...)` must capture the key alone."""
    from xinren.db import ensure_schema, session_factory, unit_of_work

    with opened(migrate=False) as engine:
        if ensure_schema(engine):
            err_console.print("[dim]database was empty: migrations applied[/dim]")
        with unit_of_work(session_factory(engine)) as session:
            yield session


@keys_app.command("create")
@friendly_errors
def keys_create(
    role: Annotated[str, typer.Option(help="platform, buyer, merchant, ..., admin")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "",
    party: Annotated[
        str | None,
        typer.Option(
            help="the party it acts for, as 'merchant:acme-tea' or just 'acme-tea' (the "
            "role's kind); needed by every role but platform, auditor and admin"
        ),
    ] = None,
) -> None:
    """Create an API key and print it on stdout alone (it is shown only once)."""
    from xinren.access import service as access

    with _keys_database() as session:
        principal, secret = access.create_key(
            session, SystemClock(), role, name=name, subject=party, field="--party", by=CLI
        )
    who = f" for {principal.subject}" if principal.subject else ""  # a checked ref: no markup
    err_console.print(f"[dim]key {principal.key_id} ({principal.role}{who}); shown once:[/dim]")
    print(secret)


@users_app.command("create")
@friendly_errors
def users_create(
    username: Annotated[str, typer.Option(help="2-32 characters, e.g. 'zhao.li'")],
    role: Annotated[str, typer.Option(help="auditor, reviewer, senior_reviewer or admin")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Create a staff account; the password is asked for twice (or read from stdin)."""
    import sys

    from xinren.access import users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _keys_database() as session:
        user = users.create_user(session, SystemClock(), username, password, role, by=CLI)
    who = f", deciding as {user.person}" if user.person else ""
    console.print(f"staff account {user.id}: {user.username} ({user.role}{who})")


@keys_app.command("list")
@friendly_errors
def keys_list(
    revoked: Annotated[bool, typer.Option("--revoked/--active", help="show revoked keys")] = True,
) -> None:
    """List the keys (never a secret): id, name, role, subject, prefix and their dates."""
    from rich.markup import escape
    from rich.table import Table

    from xinren.access import service as access

    with _keys_database() as session:
        found, after = [], 0
        while page := access.list_keys(session, after=after, limit=500):
            found += [k for k in page if revoked or k.active]
            after = page[-1].id
    table = Table("id", "name", "role", "subject", "prefix", "created", "rotated", "revoked")
    for k in found:
        table.add_row(
            str(k.id),
            escape(k.name),
            k.role,
            escape(k.subject or "-"),
            k.prefix,
            *(
                f"{t:%Y-%m-%d %H:%M}" if t else "-"
                for t in (k.created_at, k.rotated_at, k.revoked_at)
            ),
        )
    console.print(table)


@keys_app.command("rotate")
@friendly_errors
def keys_rotate(
    key_id: Annotated[int, typer.Argument(help="the key's id (see keys list)")],
) -> None:
    """Give a key a new secret and print it on stdout alone; the old secret stops working now."""
    from xinren.access import service as access

    with _keys_database() as session:
        key, secret = access.rotate(session, SystemClock(), key_id, by=CLI)
    err_console.print(
        f"[dim]key {key.id} ({key.role}) rotated; the old secret is refused now; "
        "new secret shown once:[/dim]"
    )
    print(secret)


@keys_app.command("revoke")
@friendly_errors
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="the key's id (see keys list)")],
) -> None:
    """Revoke a key for good; its next request is refused (never the last active admin key)."""
    from rich.markup import escape

    from xinren.access import service as access

    with _keys_database() as session:
        key = access.revoke(session, SystemClock(), key_id, by=CLI)
    err_console.print(f"key {key.id} ({key.role}, {escape(key.name)}) revoked")


@app.command()
@friendly_errors
def tick() -> None:
    """Run every timer that is due now (hold expiries, ...), sweep the clearing shards into
    their accounts and seal the journal."""
    from xinren.cli.serve import tick_once

    with opened() as engine:
        ran, swept, sealed = tick_once(engine)
    console.print(
        f"{ran} timer(s) run, {swept} clearing shard(s) swept, {sealed} journal entr(y/ies) sealed"
    )


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    tick_seconds: Annotated[float, typer.Option(help="timer loop period; 0 turns it off")] = 5.0,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="worker processes (default: one per core)", show_default=False),
    ] = None,
) -> None:
    """Serve the HTTP API (and run due timers in the background)."""
    from xinren.cli import serve as serving

    serving.run(host, port, tick_seconds, workers or serving.default_workers())


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
    from xinren.db import session_factory, unit_of_work
    from xinren.ledger import journal

    with opened() as engine:
        factory = session_factory(engine)
        if seal_first:
            with unit_of_work(factory) as session:
                journal.seal(session, SystemClock())
        with unit_of_work(factory) as session:
            report = journal.verify(session, SystemClock())
            report.problems.extend(reconciliation.problems(session))
    console.print(
        f"{report.accounts} accounts, {report.entries} journal entries, {report.blocks} sealed "
        f"blocks, {report.unsealed} entries not yet sealed"
    )
    age = report.oldest_unsealed_age
    console.print(
        f"  sealer lag: {report.unsealed} entries, oldest waiting "
        + ("none" if age is None else f"{age.total_seconds():.1f} s")
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
    from xinren.db import session_factory, unit_of_work
    from xinren.ledger import journal

    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        n = journal.seal(session, SystemClock())
    console.print(f"{n} entr(y/ies) sealed")


@app.command()
@friendly_errors
def demo() -> None:
    """Walk one guaranteed transaction through the ledger, then verify the ledger."""
    from xinren.cli.report import demo_report
    from xinren.demo.run import run_demo

    with opened() as engine:
        started = time.perf_counter()
        clock, began = run_demo(engine, console)
        demo_report(engine, console, clock, began)
        console.print(f"[dim]demo finished in {time.perf_counter() - started:.1f} s[/dim]")


def main() -> None:  # pragma: no cover - console script
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m xinren.cli.main`
    main()
