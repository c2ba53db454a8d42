"""What the accountability commands share: one transaction per command, reading a JSON or YAML
file, tables, keys, and turning a file's entry into a service call's arguments with the
entry's place named in any error."""

from __future__ import annotations

import inspect
import json
import mimetypes
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, get_args, get_type_hints

import typer
import yaml
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from xinren.cli.common import opened
from xinren.db import session_factory, unit_of_work
from xinren.errors import ValidationFailed, XinrenError
from xinren.ids import payload_hash

#: A catalog file of this many entries shows a progress bar (an EPCIS file: one of many parts).
PROGRESS_FROM = 200
#: EPCIS events imported per part; all parts share one transaction.
EPCIS_CHUNK = 500

InputFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
Reviewer = Annotated[str, typer.Option("--by", help="who decides, e.g. reviewer:wang")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


@contextmanager
def one_transaction() -> Iterator[Session]:
    """One transaction on the configured database, committed only if the command finishes."""
    with opened() as engine, unit_of_work(session_factory(engine)) as session:
        yield session


def read_data(path: Path) -> Any:
    """A JSON (.json, .jsonld) or YAML file's data; unreadable content is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text) if path.suffix in (".json", ".jsonld") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as err:
        raise ValidationFailed(f"cannot read {path}: {err}", field=path.name) from err


def print_json(body: Any) -> None:
    print(json.dumps(body, indent=2, ensure_ascii=False, default=str))


def table_of(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A table whose cells are shown as given: never read as markup, never cut short."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else escape(str(v)) for v in row))
    return table


def short_sha(sha256: str) -> str:
    return sha256[:12] + "…"


def when_text(iso: str | None) -> str:
    """An ISO timestamp to the minute, which is what a reader compares."""
    return (iso or "")[:16].replace("T", " ")


def key_of(*parts: Any) -> str:
    """An idempotency key derived from what a command does, so running it again is a replay."""
    return f"cli-{payload_hash(list(parts))[:40]}"


def coerce(hint: Any, value: Any, field: str) -> Any:
    """A JSON/YAML value as the parameter's type: ISO dates and enum values converted, plain
    text, numbers and booleans checked (services assume their types)."""
    options = (
        [a for a in get_args(hint) if a is not type(None)]
        if isinstance(hint, UnionType)
        else [hint]
    )
    kind = options[0] if len(options) == 1 and isinstance(options[0], type) else None
    if value is None or kind is None:
        return value
    try:
        if issubclass(kind, Enum):
            return kind(value)
        if kind is date and isinstance(value, datetime):
            return value.date()
        if kind is date and isinstance(value, str):
            return date.fromisoformat(value)
    except ValueError:
        wanted = (
            f"one of {', '.join(str(m.value) for m in kind)}"
            if issubclass(kind, Enum)
            else "a date (YYYY-MM-DD)"
        )
        raise ValidationFailed(f"{field} is {wanted}; got {value!r}", field=field) from None
    if kind in (str, int, bool, date) and (
        not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    ):
        raise ValidationFailed(f"{field} must be a {kind.__name__}; got {value!r}", field=field)
    return value


#: arguments the command gives a service itself, never read from the file (the catalog's file
#: store, which the counterfeit gate reads a listing's photos from)
_FROM_THE_COMMAND = ("store", "draft_key", "may_use")


def arguments_for(target: Callable[..., Any], data: Any, where: str) -> dict[str, Any]:
    """`data` as keyword arguments of `target` (a service function or a dataclass): unknown and
    missing keys and values of the wrong type are errors naming their place in the input."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(f"{where} must be a mapping of name: value", field=where)
    hints = get_type_hints(target)
    params = {
        name: p
        for name, p in inspect.signature(target).parameters.items()
        if name not in ("session", "clock", *_FROM_THE_COMMAND)
    }
    for name in data:
        if name not in params:
            known = ", ".join(params)
            raise ValidationFailed(
                f"{where}: unknown key {name!r}; known: {known}", field=f"{where}.{name}"
            )
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in data:
            raise ValidationFailed(f"{where}.{name} is required", field=f"{where}.{name}")
    return {k: coerce(hints.get(k), v, f"{where}.{k}") for k, v in data.items()}


def media_type_of(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@contextmanager
def located(where: str) -> Iterator[None]:
    """Say which entry of the input file a service's error is about, e.g. `listings[0].price`."""
    try:
        yield
    except XinrenError as err:
        if err.field and err.field.startswith(where):
            raise
        field = f"{where}.{err.field}" if err.field else where
        raise type(err)(f"{where}: {err.detail}", field=field, **err.extra) from err
