"""HTTP routes under /v1/documents: evidence files kept by sha256."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request, Response, status

from xinren.access.service import Principal
from xinren.api.deps import (
    EDITORS,
    WRITERS,
    ClockDep,
    PrincipalDep,
    SessionDep,
    StoreDep,
    is_staff,
)
from xinren.api.threads import Router
from xinren.documents import model as rules
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.errors import Forbidden, NotFound, ValidationFailed

router = Router(prefix="/v1/documents", tags=["documents"])


def _doc(d: documents.Document) -> dict[str, Any]:
    m = d.meta
    return {
        "sha256": d.sha256,
        "size": d.size,
        "media_type": m.media_type,
        "doc_type": m.doc_type.value,
        "issuer": m.issuer,
        "subject": m.subject,
        "valid_from": m.valid_from.isoformat() if m.valid_from else None,
        "valid_to": m.valid_to.isoformat() if m.valid_to else None,
        "accreditation": m.accreditation,
        "created_at": d.created_at.isoformat(),
    }


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_document(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    store: StoreDep,
    doc_type: DocType,
    issuer: str,
    subject: str,
    valid_from: date | None = None,
    valid_to: date | None = None,
    accreditation: str | None = None,
) -> dict[str, Any]:
    """Upload the raw bytes as the body; metadata in the query; Content-Type is kept.

    Storing the same bytes again is a safe retry (content addressing is the idempotency key).
    """
    if principal.role not in WRITERS:
        raise Forbidden(f"a {principal.role} may not upload evidence")
    if not rules.may_file(issuer, principal.subject, editor=principal.role in EDITORS):
        raise Forbidden(f"a {principal.role} uploads documents it issued ({principal.subject})")
    content = await request.body()
    if not content:
        raise ValidationFailed(
            "the request body is the document's bytes; it is empty", field="body"
        )
    meta = DocumentMeta(
        doc_type,
        request.headers.get("content-type", "application/octet-stream"),
        issuer,
        subject,
        valid_from,
        valid_to,
        accreditation,
    )
    doc = documents.add(session, clock, store, content, meta)
    return _doc(doc)


def may_read(principal: Principal, doc: documents.Document) -> bool:
    """The caller may read `doc` (the rule is documents.model.may_read)."""
    return rules.may_read(doc.meta, principal.subject, staff=is_staff(principal))


def _readable(session: SessionDep, principal: PrincipalDep, sha256: str) -> documents.Document:
    """A document the caller may read; to others it does not exist."""
    doc = documents.get(session, sha256)
    if not may_read(principal, doc):
        raise NotFound(f"no document {sha256}", field="sha256")
    return doc


@router.get("/{sha256}/meta")
def document_meta(sha256: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _doc(_readable(session, principal, sha256))


@router.get("/{sha256}")
def document_bytes(
    sha256: str, session: SessionDep, principal: PrincipalDep, store: StoreDep
) -> Response:
    """The bytes, verified against their hash on every read."""
    doc = _readable(session, principal, sha256)
    return Response(store.get(doc.sha256), media_type=doc.meta.media_type)
