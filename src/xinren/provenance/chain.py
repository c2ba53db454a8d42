"""Gather what the chain of custody of an order line is computed from, and compute it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.documents import service as documents
from xinren.errors import Conflict, NotFound
from xinren.orders import service as orders
from xinren.parties import service as parties
from xinren.provenance import custody
from xinren.provenance.model import PARTY_URI_PREFIX, Chain, ChainFacts, LabReport, trace


@dataclass(frozen=True, slots=True)
class OrderLine:
    """The order line and the catalog records behind it."""

    order: orders.OrderView
    listing: catalog.Listing
    batch: catalog.Batch
    product: catalog.Product
    brand: catalog.Brand
    live: catalog.LiveSession | None


def line_of(session: Session, order_id: int) -> OrderLine:
    order = orders.get_order(session, order_id)
    if order.listing_id is None or order.batch_id is None:
        raise Conflict(
            f"order {order_id} was created without a listing and batch, so it cannot be "
            "traced; create orders with listing_id (and batch_id where a listing sells several)",
            field="order_id",
        )
    listing = catalog.get_listing(session, order.listing_id)
    batch = catalog.get_batch(session, order.batch_id)
    product = catalog.get_product(session, batch.product_id)
    brand = catalog.get_brand(session, product.brand_id)
    live = (
        catalog.get_live_session(session, order.live_session_id)
        if order.live_session_id is not None
        else None
    )
    return OrderLine(order, listing, batch, product, brand, live)


def lab_reports(session: Session, batch_id: int) -> list[LabReport]:
    out = []
    for inspection in catalog.inspections_of(session, batch_id):
        lab = parties.get(session, inspection.lab)
        doc = documents.get(session, inspection.document)
        out.append(
            LabReport(
                inspection.document,
                inspection.lab,
                inspection.commissioned_by,
                inspection.sampled_on,
                inspection.result.value == "pass",
                inspection.finding,
                accredited=bool(lab.accreditation and doc.meta.accreditation and lab.verified),
                lab_affiliated_with=lab.affiliated_with,
            )
        )
    return out


def _party_refs(session: Session, uris: set[str]) -> dict[str, str]:
    """Map EPCIS party URIs to party refs: our own URNs directly, GS1 ids via the registry."""
    refs: dict[str, str] = {}
    for uri in uris:
        if uri.startswith(PARTY_URI_PREFIX):
            ref = uri.removeprefix(PARTY_URI_PREFIX)
            try:
                refs[uri] = parties.get(session, ref).ref
            except NotFound:  # an unregistered ref stays a URI and is reported as a gap
                continue
        else:
            party = parties.by_epcis_id(session, uri)
            if party is not None:
                refs[uri] = party.ref
    return refs


def facts_for(session: Session, line: OrderLine) -> ChainFacts:
    found = custody.events_for(session, [line.batch.epc_class])
    uris = {link.party for e in found for link in (*e.sources, *e.destinations)}
    grants = tuple(catalog.brand_authorizations_all(session, line.brand.id))
    return ChainFacts(
        sale_day=line.order.created_at.date(),
        sale_at=line.order.created_at,
        seller=line.order.merchant,
        manufacturer=line.product.manufacturer,
        brand_owner=line.brand.owner,
        brand_protected=line.brand.protected,
        batch_class=line.batch.epc_class,
        events=tuple(found),
        grants=grants,
        reports=tuple(lab_reports(session, line.batch.id)),
        party_refs=_party_refs(session, uris),
    )


def chain_of(session: Session, order_id: int) -> tuple[OrderLine, Chain]:
    line = line_of(session, order_id)
    return line, trace(facts_for(session, line))


def as_dict(line: OrderLine, chain: Chain) -> dict[str, Any]:
    """The chain as the API and CLI show it."""
    return {
        "order": line.order.id,
        "listing": line.listing.id,
        "batch": {"id": line.batch.id, "lot": line.batch.lot, "epc_class": line.batch.epc_class},
        "product": {"id": line.product.id, "name": line.product.name},
        "brand": {"id": line.brand.id, "name": line.brand.name, "owner": line.brand.owner},
        "custodians": list(chain.custodians),
        "steps": [
            {
                "kind": s.kind,
                "at": s.at.isoformat() if s.at else None,
                "from": s.from_party,
                "to": s.to_party,
                "event_id": s.event_id,
                "documents": list(s.documents),
                "note": s.note,
            }
            for s in chain.steps
        ],
        "gaps": [{"kind": g.kind.value, "party": g.party, "detail": g.detail} for g in chain.gaps],
        "ignored_events": list(chain.ignored_events),
        "complete": chain.complete,
    }
