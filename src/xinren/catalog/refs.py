"""What every catalog write looks up first: a row by id, a registered party of the right kind,
a stored document of the right type. One place, so every use case refuses the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from xinren.documents import service as documents
from xinren.documents.model import DocType
from xinren.errors import NotFound, ValidationFailed
from xinren.parties import service as parties
from xinren.parties.model import check_ref, kind_of


def one_row(session: Session, table: Table, ident: int, what: str) -> Any:
    row = session.execute(select(table).where(table.c.id == ident)).first()
    if row is None:
        raise NotFound(f"no {what} {ident}", field=f"{what}_id")
    return row


def party_of_kind(session: Session, ref: str, field: str, *kinds: str) -> parties.Party:
    check_ref(ref, field)
    if kind_of(ref) not in kinds:
        raise ValidationFailed(f"{field} must be a {' or '.join(kinds)}; got {ref}", field=field)
    try:
        return parties.get(session, ref)
    except NotFound:
        raise NotFound(f"{field} {ref} is not a registered party", field=field) from None


def document_of(session: Session, sha256: str, field: str, *types: DocType) -> documents.Document:
    try:
        doc = documents.get(session, sha256)
    except NotFound:
        raise NotFound(
            f"{field}: no document {sha256}; upload it first (POST /v1/documents)", field=field
        ) from None
    if doc.meta.doc_type not in types:
        raise ValidationFailed(
            f"{field} must be a {' or '.join(sorted(t.value for t in types))}; "
            f"document {sha256[:12]}… is a {doc.meta.doc_type.value}",
            field=field,
        )
    return doc
