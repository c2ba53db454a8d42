"""What every command shares: opening the database, printing errors as one readable line.

Imports nothing heavy at module level: `xinren version` and `--help` load this module, and
SQLAlchemy with Alembic alone costs ~0.4 s; the commands that open a database import it then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from xinren.errors import XinrenError

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn Xinren and connection errors into one line saying what to do; exit code 2.

    A command is one unit of work: when the database broke it off (a deadlock, a serialization
    conflict, a concurrent duplicate) it is run again from the start, a bounded number of times.
    """

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        # lazy: SQLAlchemy is imported by the commands that run, not by `--help` (see above)
        from sqlalchemy.exc import OperationalError

        from xinren.unit_of_work import attempts_for, backoff

        attempt = 1
        try:
            while True:
                try:
                    return fn(*args, **kwargs)
                except XinrenError as err:
                    if attempt >= attempts_for(err):
                        raise
                    time.sleep(backoff(attempt))
                    attempt += 1
        except XinrenError as err:
            where = f" ({err.field})" if err.field else ""
            err_console.print(f"[red]error{where}:[/red] {err.detail}")
            raise typer.Exit(2) from err
        except OperationalError as err:
            err_console.print(
                f"[red]error:[/red] cannot use the database: {err.orig}\n"
                "Check XINREN_DATABASE_URL (e.g. postgresql+psycopg://user@127.0.0.1:5432/xinren)"
                " or unset it to use the SQLite file ./xinren.db."
            )
            raise typer.Exit(2) from err

    return wrapper


@contextmanager
def opened(migrate: bool = True, url: str | None = None, **options: Any) -> Iterator[Engine]:
    """An engine on the configured database (`options` go to `make_engine`), migrated first if
    it is empty."""
    from xinren.db import ensure_schema, make_engine  # lazy: see the module docstring

    engine = make_engine(url, **options)
    try:
        if migrate and ensure_schema(engine):
            # on stderr: a command's stdout is its answer (KEY=$(xinren keys create ...))
            err_console.print("[dim]database was empty: migrations applied[/dim]")
        yield engine
    finally:
        engine.dispose()


def run_with(*decorators: Callable[[Any], Any]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    def apply(fn: Callable[P, R]) -> Callable[P, R]:
        for d in reversed(decorators):
            fn = d(fn)
        return fn

    return apply
