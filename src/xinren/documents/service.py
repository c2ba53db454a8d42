"""Add and fetch evidence: bytes in the file store, metadata in the database.

The file is written before the metadata row commits; a crash in between leaves an orphan file
(harmless, and re-used by the next upload of the same bytes), never a row without its file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.documents.model import DocType, DocumentMeta, check_digest
from xinren.documents.store import FileStore
from xinren.documents.tables import documents
from xinren.errors import AlreadyExists, NotFound, RequestTooLarge

MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Document:
    sha256: str
    size: int
    meta: DocumentMeta
    created_at: datetime


def _document(row: Any) -> Document:
    meta = DocumentMeta(
        DocType(row.doc_type),
        row.media_type,
        row.issuer,
        row.subject,
        row.valid_from,
        row.valid_to,
        row.accreditation,
    )
    return Document(row.sha256, row.size, meta, row.created_at)


def add(
    session: Session, clock: Clock, store: FileStore, content: bytes, meta: DocumentMeta
) -> Document:
    """Store a document; the same bytes with the same metadata return the same document."""
    meta.check()
    if len(content) > MAX_BYTES:
        raise RequestTooLarge(f"documents are at most {MAX_BYTES} bytes", field="content")
    digest = store.put(content)
    existing = session.execute(select(documents).where(documents.c.sha256 == digest)).first()
    if existing is not None:
        found = _document(existing)
        if found.meta != meta:
            raise AlreadyExists(
                f"document {digest} is already recorded with other metadata "
                f"({found.meta.doc_type.value} from {found.meta.issuer})",
                field="sha256",
            )
        return found
    session.execute(
        documents.insert(),
        dict(
            sha256=digest,
            size=len(content),
            media_type=meta.media_type,
            doc_type=meta.doc_type.value,
            issuer=meta.issuer,
            subject=meta.subject,
            valid_from=meta.valid_from,
            valid_to=meta.valid_to,
            accreditation=meta.accreditation,
            created_at=clock.now(),
        ),
    )
    return get(session, digest)


def get(session: Session, digest: str) -> Document:
    check_digest(digest)
    row = session.execute(select(documents).where(documents.c.sha256 == digest)).first()
    if row is None:
        raise NotFound(f"no document {digest}", field="sha256")
    return _document(row)


def read(session: Session, store: FileStore, digest: str) -> tuple[Document, bytes]:
    """The document and its bytes, verified against the hash."""
    return get(session, digest), store.get(digest)


def about(session: Session, subject: str) -> list[Document]:
    q = select(documents).where(documents.c.subject == subject).order_by(documents.c.created_at)
    return [_document(r) for r in session.execute(q)]
