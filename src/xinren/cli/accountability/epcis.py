"""`xinren epcis import | export`: GS1 EPCIS 2.0 provenance events, a large file in parts of one
transaction."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import track

from xinren.cli.accountability.helpers import EPCIS_CHUNK, InputFile, one_transaction, read_data
from xinren.cli.common import console, err_console, friendly_errors
from xinren.clock import SystemClock
from xinren.errors import ValidationFailed, XinrenError

epcis_app = typer.Typer(help="GS1 EPCIS 2.0 provenance events.", no_args_is_help=True)


def _parts(document: Any) -> list[tuple[int, Any]]:
    """The document as documents of at most EPCIS_CHUNK events, each with its first index."""
    try:
        event_list = document["epcisBody"]["eventList"]
    except (TypeError, KeyError):
        return [(0, document)]  # not a document: the import says why
    if not isinstance(event_list, list) or len(event_list) <= EPCIS_CHUNK:
        return [(0, document)]
    return [
        (i, {**document, "epcisBody": {**document["epcisBody"], "eventList": event_list[i:j]}})
        for i, j in ((i, i + EPCIS_CHUNK) for i in range(0, len(event_list), EPCIS_CHUNK))
    ]


@contextmanager
def _offset(first: int) -> Iterator[None]:
    """Number the events in an error by their place in the whole document, not the part."""
    try:
        yield
    except XinrenError as err:
        if not first:
            raise

        def shift(text: str) -> str:
            return re.sub(r"eventList\[(\d+)\]", lambda m: f"eventList[{int(m[1]) + first}]", text)

        field = shift(err.field) if err.field else None
        raise type(err)(shift(err.detail), field=field, **err.extra) from err


@epcis_app.command("import")
@friendly_errors
def epcis_import(
    file: InputFile,
    by: Annotated[str, typer.Option("--by", help="who sent it, e.g. supplier:tongda")] = "cli",
) -> None:
    """Record the events of an EPCIS 2.0 JSON-LD document, all or nothing; sending the same
    document again is a replay and changes nothing."""
    from xinren.provenance import custody

    parts = _parts(read_data(file))
    created = replayed = declared = 0
    with one_transaction() as session:
        clock = SystemClock()
        for first, part in track(
            parts, "importing events", console=err_console, disable=len(parts) == 1
        ):
            with _offset(first):
                result = custody.import_document(session, clock, part, recorded_by=by)
            created += result.created
            replayed += result.replayed
            declared += result.declared
    console.print(f"{created} created, {replayed} replayed, {declared} error declaration(s)")


@epcis_app.command("export")
@friendly_errors
def epcis_export(
    epc: Annotated[str | None, typer.Option(help="only events about this EPC or class")] = None,
    out: Annotated[Path | None, typer.Option(dir_okay=False, help="default: stdout")] = None,
) -> None:
    """Export stored events as one EPCIS 2.0 JSON-LD document, validated before it is written."""
    from xinren.provenance import custody

    with one_transaction() as session:
        document = custody.export_document(session, SystemClock(), epc=epc)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        print(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as err:
        raise ValidationFailed(f"cannot write {out}: {err.strerror}", field="out") from err
    count = len(document["epcisBody"]["eventList"])
    console.print(f"{count} event(s) written to {escape(str(out))}")
