"""Batches and their inspections: a batch ties a product's lot to the supply chain's events
(by its EPC class), and labs' reports say whether it passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.catalog import model
from xinren.catalog.authorizations import authorizations_of
from xinren.catalog.brands import get_brand, get_product
from xinren.catalog.model import Result
from xinren.catalog.refs import document_of, one_row, party_of_kind
from xinren.catalog.tables import batch_inspections, batches
from xinren.clock import Clock
from xinren.documents.model import LAB_REPORTS, DocType
from xinren.errors import AlreadyExists, Conflict, ValidationFailed
from xinren.events import service as events
from xinren.money import check_amount
from xinren.parties import service as parties
from xinren.parties.model import check_ref


@dataclass(frozen=True, slots=True)
class Batch:
    id: int
    product_id: int
    lot: str
    epc_class: str
    production_date: date
    quantity: int
    registered_by: str


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    batch_id: int
    document: str
    lab: str
    commissioned_by: str
    kind: str
    sampled_on: date
    result: Result
    finding: str


def batch_class(product_id: int, lot: str) -> str:
    """The EPC class URI of a batch when it has no GS1 LGTIN of its own."""
    return f"urn:xinren:class:batch:{product_id}.{lot}"


def create_batch(
    session: Session,
    clock: Clock,
    *,
    product_id: int,
    lot: str,
    production_date: date,
    quantity: int,
    registered_by: str,
    epc_class: str | None = None,
) -> Batch:
    """Register a batch (by its manufacturer or a supplier); its EPC class ties it to events."""
    product = get_product(session, product_id)
    model.check_lot(lot)
    check_amount(quantity, "quantity", positive=True)
    party_of_kind(session, registered_by, "registered_by", "manufacturer", "supplier")
    if production_date > clock.now().date():
        raise ValidationFailed("production_date is in the future", field="production_date")
    if registered_by != product.manufacturer:
        today = clock.now().date()
        brand = get_brand(session, product.brand_id)
        if not any(a.valid_on(today) for a in authorizations_of(session, registered_by, brand.id)):
            raise Conflict(
                f"{registered_by} is neither the product's manufacturer ({product.manufacturer}) "
                f"nor authorized for {brand.name}, so it cannot register its batches",
                field="registered_by",
            )
    uri = epc_class or batch_class(product.id, lot)
    if not uri.startswith(("urn:", "http://", "https://")) or len(uri) > 200:
        raise ValidationFailed(
            "epc_class is a URI, e.g. urn:epc:class:lgtin:4012345.012345.LOT1", field="epc_class"
        )
    taken = session.execute(
        select(batches.c.id).where(
            (batches.c.epc_class == uri)
            | ((batches.c.product_id == product.id) & (batches.c.lot == lot))
        )
    ).first()
    if taken is not None:
        raise AlreadyExists(f"batch {lot} of product {product.id} exists", field="lot")
    batch_id = session.execute(
        batches.insert().returning(batches.c.id),
        dict(
            product_id=product.id,
            lot=lot,
            epc_class=uri,
            production_date=production_date,
            quantity=quantity,
            registered_by=registered_by,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return get_batch(session, batch_id)


def get_batch(session: Session, batch_id: int) -> Batch:
    r = one_row(session, batches, batch_id, "batch")
    return Batch(
        r.id, r.product_id, r.lot, r.epc_class, r.production_date, r.quantity, r.registered_by
    )


def list_batches(session: Session, *, party: str | None = None) -> list[Batch]:
    """All batches, or those a party registered or is named in as a commissioned inspection."""
    query = select(batches.c.id).order_by(batches.c.id)
    if party is not None:
        query = query.where(batches.c.registered_by == party)
    return [get_batch(session, i) for i in session.execute(query).scalars()]


def add_inspection(
    session: Session,
    clock: Clock,
    *,
    batch_id: int,
    document: str,
    commissioned_by: str,
    sampled_on: date,
    result: Result,
    finding: str,
) -> Inspection:
    """Attach an inspection or sampling report to a batch. The lab is the report's issuer."""
    batch = get_batch(session, batch_id)
    doc = document_of(session, document, "document", *LAB_REPORTS)
    names = (f"batch:{batch.id}", f"lot:{batch.lot}", batch.epc_class)
    if doc.meta.subject not in names:
        raise ValidationFailed(
            f"the report is about {doc.meta.subject}, not this batch (its subject must be one "
            f"of {', '.join(names)})",
            field="document",
        )
    lab = doc.meta.issuer
    party_of_kind(session, lab, "document.issuer", "lab")
    check_ref(commissioned_by, "commissioned_by")
    parties.get(session, commissioned_by)
    model.check_text(finding, "finding", 500)
    if sampled_on > clock.now().date():
        raise ValidationFailed("sampled_on is in the future", field="sampled_on")
    exists = session.execute(
        select(batch_inspections.c.id).where(
            (batch_inspections.c.batch_id == batch_id) & (batch_inspections.c.document == document)
        )
    ).first()
    if exists is not None:
        raise AlreadyExists("this report is already attached to the batch", field="document")
    ident = session.execute(
        batch_inspections.insert().returning(batch_inspections.c.id),
        dict(
            batch_id=batch_id,
            document=document,
            lab=lab,
            commissioned_by=commissioned_by,
            kind="sampling" if doc.meta.doc_type is DocType.SAMPLING_REPORT else "inspection",
            sampled_on=sampled_on,
            result=Result(result).value,
            finding=finding,
            created_at=clock.now(),
        ),
    ).scalar_one()
    if result is Result.FAIL:
        events.append(
            session,
            clock,
            "batch.inspection_failed",
            f"batch:{batch_id}",
            {"batch": batch_id, "lab": lab, "document": document, "finding": finding},
        )
    return inspections_of(session, batch_id, only=ident)[0]


def inspections_of(session: Session, batch_id: int, only: int | None = None) -> list[Inspection]:
    query = (
        select(batch_inspections)
        .where(batch_inspections.c.batch_id == batch_id)
        .order_by(batch_inspections.c.sampled_on, batch_inspections.c.id)
    )
    if only is not None:
        query = query.where(batch_inspections.c.id == only)
    return [
        Inspection(
            r.id,
            r.batch_id,
            r.document,
            r.lab,
            r.commissioned_by,
            r.kind,
            r.sampled_on,
            Result(r.result),
            r.finding,
        )
        for r in session.execute(query)
    ]
