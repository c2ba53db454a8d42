"""/v1/documents, /v1/provenance (EPCIS events, recalls) and the order-line views
/v1/orders/{id}/chain and /v1/orders/{id}/liability."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from xinren.api.deps import (
    EDITORS,
    WRITERS,
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StaffDep,
    is_staff,
)
from xinren.api.threads import Router
from xinren.catalog import service as catalog
from xinren.errors import Forbidden, NotFound, ValidationFailed
from xinren.liability.model import Finding
from xinren.parties import service as parties
from xinren.provenance import custody
from xinren.provenance.model import party_uri
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies

router = Router(prefix="/v1/provenance", tags=["provenance"])


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
    result = custody.import_document(
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
    body = custody.export_document(session, clock, epc=epc)
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


@router.post("/recalls/{recall_id}/execution")
def execute_recall(
    recall_id: int, session: SessionDep, clock: ClockDep, principal: ReviewerDep
) -> dict[str, Any]:
    """Pay the recall's pending remedy tasks (a retry pays nobody twice)."""
    paid = remedies.execute_recall(session, clock, recall_id, decided_by=principal.actor)
    return {
        "recall": recall_id,
        "paid": [
            {
                "order": r.order_id,
                "buyer": r.buyer,
                "refund": r.refund,
                "compensation": r.compensation,
                "payer": r.payer,
                "fund_paid": r.fund_paid,
            }
            for r in paid
        ],
    }
