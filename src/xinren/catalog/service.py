"""Catalog use cases. Every write checks who the parties are (registered, of the right kind,
verified where they trade) and that references agree (a listing's batches are of its product,
a live session's listings are its merchant's), so a sale can always be traced to its source."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, or_, select, update
from sqlalchemy.orm import Session

from xinren.catalog import model
from xinren.catalog.model import Result, Scope, Value
from xinren.catalog.tables import (
    batch_inspections,
    batches,
    brand_authorizations,
    brands,
    listing_batches,
    listings,
    live_claims,
    live_session_listings,
    live_sessions,
    products,
)
from xinren.clock import Clock
from xinren.documents import service as documents
from xinren.documents.model import LAB_REPORTS, DocType, Grant
from xinren.errors import AlreadyExists, Conflict, NotFound, OutOfStock, ValidationFailed
from xinren.events import service as events
from xinren.money import check_amount, check_currency
from xinren.parties import service as parties
from xinren.parties.model import check_ref, kind_of


@dataclass(frozen=True, slots=True)
class Brand:
    id: int
    name: str
    owner: str
    protected: bool
    currency: str
    ref_price_min: int | None
    ref_price_max: int | None
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    brand_id: int
    manufacturer: str
    name: str
    category: str
    gtin: str | None
    facts: dict[str, Value]


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


#: A brand authorization is the chain's Grant: one shape for the record and for the reasoning.
Authorization = Grant


_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Listing:
    id: int
    merchant: str
    product_id: int
    title: str
    price: int
    currency: str
    claims: dict[str, Value]
    claim_text: str
    status: str
    batch_ids: tuple[int, ...]
    images: tuple[str, ...] = ()  # sha256 digests of the photos' documents
    stock: int | None = None  # units left to sell; None: not tracked


@dataclass(frozen=True, slots=True)
class LiveClaim:
    id: int
    session_id: int
    listing_id: int | None
    spoken_at: datetime
    text: str
    attributes: dict[str, Value]


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: int
    host: str
    merchant: str
    title: str
    starts_at: datetime
    ends_at: datetime
    recording: str | None
    listing_ids: tuple[int, ...]


def _one(session: Session, table: Table, ident: int, what: str) -> Any:
    row = session.execute(select(table).where(table.c.id == ident)).first()
    if row is None:
        raise NotFound(f"no {what} {ident}", field=f"{what}_id")
    return row


def _party_of_kind(session: Session, ref: str, field: str, *kinds: str) -> parties.Party:
    check_ref(ref, field)
    if kind_of(ref) not in kinds:
        raise ValidationFailed(f"{field} must be a {' or '.join(kinds)}; got {ref}", field=field)
    try:
        return parties.get(session, ref)
    except NotFound:
        raise NotFound(f"{field} {ref} is not a registered party", field=field) from None


def _document(session: Session, sha256: str, field: str, *types: DocType) -> documents.Document:
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


# --- brands and products ---


def create_brand(
    session: Session,
    clock: Clock,
    *,
    name: str,
    owner: str,
    protected: bool = False,
    currency: str = "CNY",
    ref_price_min: int | None = None,
    ref_price_max: int | None = None,
    keywords: Sequence[str] = (),
) -> Brand:
    model.check_text(name, "name", 200)
    _party_of_kind(session, owner, "owner", "brand_owner")
    check_currency(currency)
    model.check_price_range(ref_price_min, ref_price_max)
    words = tuple(model.check_text(k, "keywords", 100) for k in keywords)
    if session.execute(select(brands.c.id).where(brands.c.name == name)).first() is not None:
        raise AlreadyExists(f"brand {name!r} exists", field="name")
    brand_id = session.execute(
        brands.insert().returning(brands.c.id),
        dict(
            name=name,
            owner=owner,
            protected=protected,
            currency=currency,
            ref_price_min=ref_price_min,
            ref_price_max=ref_price_max,
            keywords=list(words),
            created_at=clock.now(),
        ),
    ).scalar_one()
    return get_brand(session, brand_id)


def get_brand(session: Session, brand_id: int) -> Brand:
    r = _one(session, brands, brand_id, "brand")
    return Brand(
        r.id,
        r.name,
        r.owner,
        r.protected,
        r.currency,
        r.ref_price_min,
        r.ref_price_max,
        tuple(r.keywords),
    )


def create_product(
    session: Session,
    clock: Clock,
    *,
    brand_id: int,
    manufacturer: str,
    name: str,
    category: str,
    gtin: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Product:
    get_brand(session, brand_id)
    _party_of_kind(session, manufacturer, "manufacturer", "manufacturer")
    model.check_text(name, "name", 200)
    model.check_category(category)
    model.check_gtin(gtin)
    checked = model.check_attributes(facts or {}, "facts")
    if gtin and session.execute(select(products.c.id).where(products.c.gtin == gtin)).first():
        raise AlreadyExists(f"a product with GTIN {gtin} exists", field="gtin")
    product_id = session.execute(
        products.insert().returning(products.c.id),
        dict(
            brand_id=brand_id,
            manufacturer=manufacturer,
            name=name,
            category=category,
            gtin=gtin,
            facts=checked,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return get_product(session, product_id)


def get_product(session: Session, product_id: int) -> Product:
    r = _one(session, products, product_id, "product")
    return Product(r.id, r.brand_id, r.manufacturer, r.name, r.category, r.gtin, dict(r.facts))


# --- batches and their inspections ---


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
    _party_of_kind(session, registered_by, "registered_by", "manufacturer", "supplier")
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
    r = _one(session, batches, batch_id, "batch")
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
    doc = _document(session, document, "document", *LAB_REPORTS)
    names = (f"batch:{batch.id}", f"lot:{batch.lot}", batch.epc_class)
    if doc.meta.subject not in names:
        raise ValidationFailed(
            f"the report is about {doc.meta.subject}, not this batch (its subject must be one "
            f"of {', '.join(names)})",
            field="document",
        )
    lab = doc.meta.issuer
    _party_of_kind(session, lab, "document.issuer", "lab")
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


# --- brand authorizations ---


def authorize(
    session: Session,
    clock: Clock,
    *,
    brand_id: int,
    grantor: str,
    grantee: str,
    scope: Scope,
    valid_from: date,
    valid_to: date,
    document: str,
) -> Authorization:
    """Record a brand authorization. The grantor is the brand owner, or a distributor holding
    a valid 'distribute' authorization for the same brand (a sub-authorization)."""
    brand = get_brand(session, brand_id)
    _party_of_kind(session, grantor, "grantor", "brand_owner", "supplier", "manufacturer")
    _party_of_kind(session, grantee, "grantee", "supplier", "merchant", "manufacturer")
    model.check_window(valid_from, valid_to, "validity")
    doc = _document(session, document, "document", DocType.BRAND_AUTHORIZATION)
    if doc.meta.issuer != grantor:
        raise ValidationFailed(
            f"the authorization document was issued by {doc.meta.issuer}, not by {grantor}",
            field="document",
        )
    if grantor != brand.owner:
        held = [
            a
            for a in authorizations_of(session, grantor, brand_id)
            if a.scope is Scope.DISTRIBUTE and a.valid_on(valid_from)
        ]
        if not held:
            raise Conflict(
                f"{grantor} holds no valid 'distribute' authorization for {brand.name} on "
                f"{valid_from}, so it cannot authorize others",
                field="grantor",
            )
    ident = session.execute(
        brand_authorizations.insert().returning(brand_authorizations.c.id),
        dict(
            brand_id=brand_id,
            grantor=grantor,
            grantee=grantee,
            scope=Scope(scope).value,
            valid_from=valid_from,
            valid_to=valid_to,
            document=document,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return _authorization(_one(session, brand_authorizations, ident, "authorization"))


def _authorization(r: Any) -> Authorization:
    return Authorization(
        r.id,
        r.grantor,
        r.grantee,
        Scope(r.scope),
        r.valid_from,
        r.valid_to,
        r.document,
        r.revoked_at is not None,
        r.brand_id,
    )


def revoke_authorization(session: Session, clock: Clock, authorization_id: int) -> Authorization:
    _one(session, brand_authorizations, authorization_id, "authorization")
    session.execute(
        update(brand_authorizations)
        .where(brand_authorizations.c.id == authorization_id)
        .where(brand_authorizations.c.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    return _authorization(_one(session, brand_authorizations, authorization_id, "authorization"))


def authorizations_of(session: Session, grantee: str, brand_id: int) -> list[Authorization]:
    rows = session.execute(
        select(brand_authorizations)
        .where(brand_authorizations.c.grantee == grantee)
        .where(brand_authorizations.c.brand_id == brand_id)
        .order_by(brand_authorizations.c.id)
    )
    return [_authorization(r) for r in rows]


def brand_authorizations_all(session: Session, brand_id: int) -> list[Authorization]:
    rows = session.execute(
        select(brand_authorizations)
        .where(brand_authorizations.c.brand_id == brand_id)
        .order_by(brand_authorizations.c.id)
    )
    return [_authorization(r) for r in rows]


# --- listings ---


def create_listing(
    session: Session,
    clock: Clock,
    *,
    merchant: str,
    product_id: int,
    batch_ids: Sequence[int],
    title: str,
    price: int,
    currency: str,
    claims: Mapping[str, Any] | None = None,
    claim_text: str = "",
    images: Sequence[str] = (),
    stock: int | None = None,
) -> Listing:
    """List a product; only a verified merchant may, and every batch must be of the product.
    `stock`: the units there are to sell (orders never take more); None: not tracked."""
    check_ref(merchant, "merchant", kind="merchant")
    parties.require_verified(session, merchant, "list goods", listing=True)
    product = get_product(session, product_id)
    model.check_text(title, "title", 300)
    check_amount(price, "price", positive=True)
    check_currency(currency)
    _check_stock(stock)
    checked = model.check_attributes(claims or {}, "claims")
    if len(claim_text) > 10_000:
        raise ValidationFailed("claim_text is at most 10,000 characters", field="claim_text")
    if not batch_ids:
        raise ValidationFailed(
            "batch_ids names at least one batch: every listing traces to its batches",
            field="batch_ids",
        )
    for batch_id in batch_ids:
        if get_batch(session, batch_id).product_id != product.id:
            raise ValidationFailed(
                f"batch {batch_id} is not of product {product.id}", field="batch_ids"
            )
    now = clock.now()
    listing_id = session.execute(
        listings.insert().returning(listings.c.id),
        dict(
            merchant=merchant,
            product_id=product.id,
            title=title,
            price=price,
            currency=currency,
            claims=checked,
            claim_text=claim_text,
            images=_images(images),
            status="active",
            stock=stock,
            created_at=now,
            updated_at=now,
        ),
    ).scalar_one()
    session.execute(
        listing_batches.insert(),
        [dict(listing_id=listing_id, batch_id=b) for b in sorted(set(batch_ids))],
    )
    events.append(
        session,
        clock,
        "listing.created",
        f"listing:{listing_id}",
        {"listing": listing_id, "merchant": merchant, "product": product.id},
    )
    return get_listing(session, listing_id)


MAX_STOCK = 10**9


def _check_stock(stock: int | None) -> None:
    if stock is not None and (
        isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK
    ):
        raise ValidationFailed(f"stock is a count of units, 0 to {MAX_STOCK}", field="stock")


def take_stock(session: Session, listing_id: int, quantity: int) -> None:
    """Take `quantity` units for an order, or refuse: one conditional update, so concurrent
    orders can never take more than there is (each waits for the other's row lock and then
    sees what is left)."""
    taken = session.execute(
        update(listings)
        .where(listings.c.id == listing_id)
        .where(or_(listings.c.stock.is_(None), listings.c.stock >= quantity))
        .values(stock=listings.c.stock - quantity)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        left = session.execute(
            select(listings.c.stock).where(listings.c.id == listing_id)
        ).scalar_one_or_none()
        raise OutOfStock(
            f"listing {listing_id} has {left} unit(s) left; the order asks for {quantity}",
            field="quantity",
            stock=left,
        )


def return_stock(session: Session, listing_id: int, quantity: int) -> None:
    """Put an order's units back (the order was cancelled before it shipped)."""
    session.execute(
        update(listings)
        .where(listings.c.id == listing_id, listings.c.stock.is_not(None))
        .values(stock=listings.c.stock + quantity)
    )


def _images(images: Sequence[str]) -> list[str]:
    if len(images) > 20 or any(not _SHA256.fullmatch(d) for d in images):
        raise ValidationFailed(
            "images names at most 20 photos, each the sha256 of an uploaded document",
            field="images",
        )
    return list(images)


def require_changeable(session: Session, listing: Listing) -> None:
    """Only an active listing of a merchant still allowed to list can change."""
    parties.require_verified(session, listing.merchant, "change listings", listing=True)
    if listing.status != "active":
        raise Conflict(
            f"listing {listing.id} is {listing.status}: only an active listing can change",
            field="listing_id",
        )


def change_listing(
    session: Session,
    clock: Clock,
    listing_id: int,
    *,
    title: str | None = None,
    price: int | None = None,
    images: Sequence[str] | None = None,
    stock: int | None = None,
) -> Listing:
    """Change a listing's title, price, photos or stock (its claims are evidence buyers relied
    on: new claims need a new listing). The old and new values go on the event feed."""
    listing = get_listing(session, listing_id)
    require_changeable(session, listing)
    changes: dict[str, Any] = {}
    if title is not None and title != listing.title:
        model.check_text(title, "title", 300)
        changes["title"] = title
    if price is not None and price != listing.price:
        check_amount(price, "price", positive=True)
        changes["price"] = price
    if images is not None and tuple(images) != listing.images:
        changes["images"] = _images(images)
    if stock is not None and stock != listing.stock:
        _check_stock(stock)
        changes["stock"] = stock
    if changes:
        session.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(**changes, updated_at=clock.now())
        )
        events.append(
            session,
            clock,
            "listing.changed",
            f"listing:{listing_id}",
            {
                "listing": listing_id,
                "merchant": listing.merchant,
                "before": {
                    k: list(v) if isinstance(v, tuple) else v
                    for k, v in ((k, getattr(listing, k)) for k in changes)
                },
                "after": changes,
            },
        )
    return get_listing(session, listing_id)


def set_listing_status(
    session: Session, clock: Clock, listing_id: int, status: str, *, reason: str
) -> Listing:
    """Remove a listing (a sanction) or restore it (the sanction lifted or overturned)."""
    if status not in ("active", "removed"):
        raise ValidationFailed("status is active or removed", field="status")
    listing = get_listing(session, listing_id)
    if listing.status != status:
        session.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(status=status, updated_at=clock.now())
        )
        events.append(
            session,
            clock,
            "listing.removed" if status == "removed" else "listing.restored",
            f"listing:{listing_id}",
            {"listing": listing_id, "merchant": listing.merchant, "reason": reason},
        )
    return get_listing(session, listing_id)


def get_listing(session: Session, listing_id: int) -> Listing:
    r = _one(session, listings, listing_id, "listing")
    batch_ids = session.execute(
        select(listing_batches.c.batch_id)
        .where(listing_batches.c.listing_id == listing_id)
        .order_by(listing_batches.c.batch_id)
    ).scalars()
    return Listing(
        r.id,
        r.merchant,
        r.product_id,
        r.title,
        r.price,
        r.currency,
        dict(r.claims),
        r.claim_text,
        r.status,
        tuple(batch_ids),
        tuple(r.images or ()),
        r.stock,
    )


def list_listings(
    session: Session, *, merchant: str | None = None, brand_id: int | None = None
) -> list[Listing]:
    query = select(listings.c.id).order_by(listings.c.id)
    if merchant is not None:
        query = query.where(listings.c.merchant == merchant)
    if brand_id is not None:
        query = query.join(products, products.c.id == listings.c.product_id).where(
            products.c.brand_id == brand_id
        )
    return [get_listing(session, i) for i in session.execute(query).scalars()]


def brands_owned_by(session: Session, owner: str) -> list[int]:
    return list(session.execute(select(brands.c.id).where(brands.c.owner == owner)).scalars())


# --- live sessions ---


def create_live_session(
    session: Session,
    clock: Clock,
    *,
    host: str,
    merchant: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    listing_ids: Sequence[int],
    recording: str | None = None,
) -> LiveSession:
    """A live stream: a verified host selling a verified merchant's listings in a window."""
    check_ref(host, "host", kind="host")
    check_ref(merchant, "merchant", kind="merchant")
    parties.require_verified(session, host, "host a live session")
    parties.require_verified(session, merchant, "sell in a live session")
    model.check_text(title, "title", 300)
    if ends_at <= starts_at:
        raise ValidationFailed("ends_at must be after starts_at", field="ends_at")
    for listing_id in listing_ids:
        if get_listing(session, listing_id).merchant != merchant:
            raise ValidationFailed(f"listing {listing_id} is not {merchant}'s", field="listing_ids")
    if recording is not None:
        _document(session, recording, "recording", DocType.STREAM_RECORDING)
    ident = session.execute(
        live_sessions.insert().returning(live_sessions.c.id),
        dict(
            host=host,
            merchant=merchant,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            recording=recording,
            created_at=clock.now(),
        ),
    ).scalar_one()
    if listing_ids:
        session.execute(
            live_session_listings.insert(),
            [dict(session_id=ident, listing_id=i) for i in sorted(set(listing_ids))],
        )
    return get_live_session(session, ident)


def get_live_session(session: Session, session_id: int) -> LiveSession:
    r = _one(session, live_sessions, session_id, "live_session")
    shown = session.execute(
        select(live_session_listings.c.listing_id)
        .where(live_session_listings.c.session_id == session_id)
        .order_by(live_session_listings.c.listing_id)
    ).scalars()
    return LiveSession(
        r.id, r.host, r.merchant, r.title, r.starts_at, r.ends_at, r.recording, tuple(shown)
    )


def add_claim(
    session: Session,
    clock: Clock,
    *,
    session_id: int,
    spoken_at: datetime,
    text: str,
    listing_id: int | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> LiveClaim:
    """Record what was said on stream, when, about which listing (with its structured reading,
    e.g. {"storage_gb": 512} for "this one has half a terabyte")."""
    live = get_live_session(session, session_id)
    model.check_text(text, "text", 5_000)
    checked = model.check_attributes(attributes or {}, "attributes")
    if not live.starts_at <= spoken_at <= live.ends_at:
        raise ValidationFailed(
            f"spoken_at is outside the session's window ({live.starts_at.isoformat()} to "
            f"{live.ends_at.isoformat()})",
            field="spoken_at",
        )
    if listing_id is not None and listing_id not in live.listing_ids:
        raise ValidationFailed(
            f"listing {listing_id} was not shown in live session {session_id}", field="listing_id"
        )
    ident = session.execute(
        live_claims.insert().returning(live_claims.c.id),
        dict(
            session_id=session_id,
            listing_id=listing_id,
            spoken_at=spoken_at,
            text=text,
            attributes=checked,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return claims_of(session, session_id, only=ident)[0]


def claims_of(session: Session, session_id: int, only: int | None = None) -> list[LiveClaim]:
    query = (
        select(live_claims)
        .where(live_claims.c.session_id == session_id)
        .order_by(live_claims.c.spoken_at, live_claims.c.id)
    )
    if only is not None:
        query = query.where(live_claims.c.id == only)
    return [
        LiveClaim(r.id, r.session_id, r.listing_id, r.spoken_at, r.text, dict(r.attributes))
        for r in session.execute(query)
    ]
