"""/v1/documents, /v1/provenance (EPCIS events, recalls) and the order-line views
/v1/orders/{id}/chain and /v1/orders/{id}/liability."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from xinren.access.service import Principal
from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StaffDep,
    is_staff,
)
from xinren.api.idempotency import once
from xinren.catalog import service as catalog
from xinren.errors import Forbidden, NotFound, ValidationFailed
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.orders import service as orders
from xinren.parties import service as parties
from xinren.provenance import chain as chains
from xinren.provenance import documents, events
from xinren.provenance.model import DocType, DocumentMeta, party_uri
from xinren.provenance.store import FileStore
from xinren.recalls import service as recalls

WRITERS = (
    "admin",
    "platform",
    "reviewer",
    "supplier",
    "manufacturer",
    "brand_owner",
    "merchant",
    "host",
    "lab",
)
EDITORS = ("admin", "platform", "reviewer")


def get_store(request: Request) -> FileStore:
    store: FileStore = request.app.state.store
    return store


StoreDep = Annotated[FileStore, Depends(get_store)]

documents_router = APIRouter(prefix="/v1/documents", tags=["documents"])


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


@documents_router.post("", status_code=status.HTTP_201_CREATED)
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
    if principal.role not in EDITORS and issuer != principal.subject:
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
    """Evidence is for staff, its issuer and the party it is about (invoices and reports carry
    prices and business terms)."""
    return is_staff(principal) or principal.subject in (doc.meta.issuer, doc.meta.subject)


def _readable(session: SessionDep, principal: PrincipalDep, sha256: str) -> documents.Document:
    """A document the caller may read; to others it does not exist."""
    doc = documents.get(session, sha256)
    if not may_read(principal, doc):
        raise NotFound(f"no document {sha256}", field="sha256")
    return doc


@documents_router.get("/{sha256}/meta")
def document_meta(sha256: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _doc(_readable(session, principal, sha256))


@documents_router.get("/{sha256}")
def document_bytes(
    sha256: str, session: SessionDep, principal: PrincipalDep, store: StoreDep
) -> Response:
    """The bytes, verified against their hash on every read."""
    doc = _readable(session, principal, sha256)
    return Response(store.get(doc.sha256), media_type=doc.meta.media_type)


router = APIRouter(prefix="/v1/provenance", tags=["provenance"])


@router.post("/epcis")
async def import_epcis(
    request: Request, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> dict[str, Any]:
    """Import an EPCIS 2.0 JSON-LD document; replaying the same events is harmless."""
    if principal.role not in WRITERS:
        raise Forbidden(f"a {principal.role} may not record provenance events")
    try:
        body = await request.json()
    except ValueError:
        raise ValidationFailed("the body is an EPCIS 2.0 JSON-LD document", field="body") from None
    speaks_for = None
    if principal.role not in EDITORS:
        if principal.subject is None:
            raise Forbidden("this key acts for no party; create it with --party")
        party = parties.get(session, principal.subject)
        speaks_for = frozenset(
            {party_uri(party.ref), *([party.epcis_id] if party.epcis_id else [])}
        )
    result = events.import_document(
        session, clock, body, recorded_by=principal.subject or principal.role, speaks_for=speaks_for
    )
    return {
        "created": result.created,
        "replayed": result.replayed,
        "declared": result.declared,
        "event_ids": list(result.event_ids),
    }


@router.get("/epcis")
def export_epcis(
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    batch_id: int | None = None,
) -> Response:
    """Staff export any batch (or everything); a supplier or manufacturer its own batches."""
    epc = None
    if batch_id is not None:
        batch = catalog.get_batch(session, batch_id)
        if not is_staff(principal) and principal.subject != batch.registered_by:
            raise NotFound(f"no batch {batch_id}", field="batch_id")
        epc = batch.epc_class
    elif not is_staff(principal):
        raise Forbidden("name the batch_id of a batch you registered")
    body = events.export_document(session, clock, epc=epc)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/ld+json")


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_id: int
    finding: Finding
    reason: str
    evidence: Annotated[list[str], Field(min_length=1)]


@router.post("/recalls", status_code=status.HTTP_201_CREATED)
def recall(
    body: RecallIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
    response: Response,
) -> dict[str, Any]:
    opened = recalls.recall_batch(
        session,
        clock,
        key,
        batch_id=body.batch_id,
        finding=body.finding,
        reason=body.reason,
        evidence=body.evidence,
        decided_by=principal.actor,
    )
    if opened.replayed:
        response.status_code = status.HTTP_200_OK
    return recalls.as_dict(opened)


@router.get("/recalls/{recall_id}")
def get_recall(recall_id: int, session: SessionDep, principal: StaffDep) -> dict[str, Any]:
    return recalls.as_dict(recalls.get_recall(session, recall_id))


orders_router = APIRouter(prefix="/v1/orders", tags=["orders"])


def _order_for_staff_or_seller(session: SessionDep, principal: PrincipalDep, order_id: int) -> None:
    order = orders.get_order(session, order_id)
    if not is_staff(principal) and principal.subject != order.merchant:
        raise NotFound(f"no order {order_id}", field="order_id")


@orders_router.get("/{order_id}/chain")
def chain_of_order(order_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The chain of custody of the order line, with every gap; for staff and the seller."""
    _order_for_staff_or_seller(session, principal, order_id)
    line, chain = chains.chain_of(session, order_id)
    return chains.as_dict(line, chain)


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    finding: Finding


@orders_router.post("/{order_id}/liability")
def assess(
    order_id: int,
    body: FindingIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: ReviewerDep,
) -> dict[str, Any]:
    """Resolve liability for a finding (a reviewer's call); the result is kept with its policy
    version. A new key assesses again (evidence may have changed); a retried key replays."""

    def run() -> dict[str, Any]:
        result, chain = liability.assess(
            session,
            clock,
            order_id,
            body.finding,
            assessed_by=principal.actor,
        )
        return result.as_dict() | {"chain_gaps": [g.detail for g in chain.gaps]}

    scope = f"POST orders/{order_id}/liability"
    return once(session, clock, principal, key, scope, body.model_dump(mode="json"), run)[0]


@orders_router.get("/{order_id}/liability")
def liability_history(
    order_id: int,
    session: SessionDep,
    principal: PrincipalDep,
) -> list[dict[str, Any]]:
    _order_for_staff_or_seller(session, principal, order_id)
    return liability.history(session, order_id)
