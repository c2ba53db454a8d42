"""`xinren documents add`: store an evidence file; other records cite it by its sha256."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from xinren.cli.accountability.helpers import InputFile, coerce, media_type_of, one_transaction
from xinren.cli.common import err_console, friendly_errors
from xinren.clock import SystemClock
from xinren.documents.model import DocType, DocumentMeta

documents_app = typer.Typer(
    help="Evidence files (reports, authorizations, ...).", no_args_is_help=True
)


@documents_app.command("add")
@friendly_errors
def documents_add(
    file: InputFile,
    doc_type: Annotated[DocType, typer.Option("--type", help="what the document is")],
    issuer: Annotated[str, typer.Option(help="the party that issued it, e.g. lab:cesi")],
    subject: Annotated[str, typer.Option(help="what it is about, e.g. batch:12")],
    accreditation: Annotated[str | None, typer.Option(help="the issuing lab's number")] = None,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    valid_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    media_type: Annotated[str | None, typer.Option(help="default: from the file name")] = None,
) -> None:
    """Store an evidence file; prints its sha256, by which other records cite it."""
    from xinren.documents import service as documents
    from xinren.documents.store import FileStore

    meta = DocumentMeta(
        doc_type,
        media_type or media_type_of(file),
        issuer,
        subject,
        coerce(date, valid_from, "valid_from"),
        coerce(date, valid_to, "valid_to"),
        accreditation,
    )
    with one_transaction() as session:
        doc = documents.add(session, SystemClock(), FileStore(), file.read_bytes(), meta)
    err_console.print(
        f"[dim]{doc.meta.doc_type.value} from {escape(issuer)}, {doc.size} bytes[/dim]"
    )
    print(doc.sha256)
