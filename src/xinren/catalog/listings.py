"""Listings: what a verified merchant sells, from which batches, at what price, with which
claims and photos, and how many units are left. Every write of a listing's offer (creating it,
changing its title, price or photos) passes the counterfeit gate first (`catalog.gate`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from xinren.catalog import gate, model
from xinren.catalog.batches import get_batch
from xinren.catalog.brands import get_product
from xinren.catalog.model import Value
from xinren.catalog.refs import one_row
from xinren.catalog.tables import listing_batches, listings, products
from xinren.clock import Clock
from xinren.documents.store import FileStore
from xinren.errors import Conflict, OutOfStock, ValidationFailed
from xinren.events import service as events
from xinren.money import check_amount, check_currency
from xinren.parties import service as parties
from xinren.parties.model import check_ref

MAX_STOCK = 10**9
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


def _check_stock(stock: int | None) -> None:
    if stock is not None and (
        isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK
    ):
        raise ValidationFailed(f"stock is a count of units, 0 to {MAX_STOCK}", field="stock")


def _images(images: Sequence[str]) -> list[str]:
    if len(images) > 20 or any(not _SHA256.fullmatch(d) for d in images):
        raise ValidationFailed(
            "images names at most 20 photos, each the sha256 of an uploaded document",
            field="images",
        )
    return list(images)


def _check_offer(title: str, price: int, images: Sequence[str], stock: int | None) -> None:
    """The offer's own fields, checked before the gate: bad input is refused and never
    recorded as an interception."""
    model.check_text(title, "title", 300)
    check_amount(price, "price", positive=True)
    _images(images)
    _check_stock(stock)


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
    store: FileStore | None = None,
    draft_key: str | None = None,
    may_use: gate.MayUse | None = None,
) -> Listing:
    """List a product; only a verified merchant may, and every batch must be of the product.
    The counterfeit gate runs first: a blocked draft is refused (Conflict) and recorded as
    intercepted. `images`: the photos' documents (their bytes come from `store`); `stock`: the
    units there are to sell (orders never take more); None: not tracked. `draft_key` names the
    draft, so a retried request is intercepted once."""
    _check_offer(title, price, images, stock)
    verdict = gate.check_listing(
        session,
        clock,
        merchant=merchant,
        title=title,
        text=claim_text,
        price=price,
        product_id=product_id,
        images=gate.image_hashes(session, store, images, may_use),
        draft_key=draft_key,
    )
    gate.refuse_if_blocked(verdict, "the listing")
    check_ref(merchant, "merchant", kind="merchant")
    parties.require_verified(session, merchant, "list goods", listing=True)
    product = get_product(session, product_id)
    check_currency(currency)
    checked = model.check_attributes(claims or {}, "claims")
    if len(claim_text) > 10_000:
        raise ValidationFailed("claim_text is at most 10,000 characters", field="claim_text")
    _check_batches(session, product.id, batch_ids)
    return _insert_listing(
        session,
        clock,
        dict(
            merchant=merchant,
            product_id=product.id,
            title=title,
            price=price,
            currency=currency,
            claims=checked,
            claim_text=claim_text,
            images=list(images),
            status="active",
            stock=stock,
        ),
        batch_ids,
    )


def _check_batches(session: Session, product_id: int, batch_ids: Sequence[int]) -> None:
    if not batch_ids:
        raise ValidationFailed(
            "batch_ids names at least one batch: every listing traces to its batches",
            field="batch_ids",
        )
    for batch_id in batch_ids:
        if get_batch(session, batch_id).product_id != product_id:
            raise ValidationFailed(
                f"batch {batch_id} is not of product {product_id}", field="batch_ids"
            )


def _insert_listing(
    session: Session, clock: Clock, row: dict[str, Any], batch_ids: Sequence[int]
) -> Listing:
    now = clock.now()
    listing_id = session.execute(
        listings.insert().returning(listings.c.id), row | {"created_at": now, "updated_at": now}
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
        {"listing": listing_id, "merchant": row["merchant"], "product": row["product_id"]},
    )
    return get_listing(session, listing_id)


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
    store: FileStore | None = None,
    draft_key: str | None = None,
    may_use: gate.MayUse | None = None,
) -> Listing:
    """Change a listing's title, price, photos or stock (its claims are evidence buyers relied
    on: new claims need a new listing). The counterfeit gate runs again first, on the listing
    as it would be, so a listing cannot pass the gate innocently and then turn into a fake; a
    blocked change is refused and the listing stays as it was. The old and new values go on
    the event feed."""
    listing = get_listing(session, listing_id)
    require_changeable(session, listing)  # before the gate: a refusal is no interception
    after_title = listing.title if title is None else title
    after_price = listing.price if price is None else price
    after_images = listing.images if images is None else tuple(images)
    _check_offer(after_title, after_price, after_images, stock)
    verdict = gate.check_listing(
        session,
        clock,
        merchant=listing.merchant,
        title=after_title,
        text=listing.claim_text,
        price=after_price,
        product_id=listing.product_id,
        images=gate.image_hashes(session, store, after_images, may_use),
        draft_key=draft_key,
        listing_id=listing_id,
    )
    gate.refuse_if_blocked(verdict, "the change")
    changes: dict[str, Any] = {}
    if title is not None and title != listing.title:
        changes["title"] = title
    if price is not None and price != listing.price:
        changes["price"] = price
    if images is not None and tuple(images) != listing.images:
        changes["images"] = list(images)
    if stock is not None and stock != listing.stock:
        changes["stock"] = stock
    if changes:
        _record_change(session, clock, listing, changes)
    return get_listing(session, listing_id)


def _record_change(
    session: Session, clock: Clock, listing: Listing, changes: dict[str, Any]
) -> None:
    session.execute(
        update(listings)
        .where(listings.c.id == listing.id)
        .values(**changes, updated_at=clock.now())
    )
    events.append(
        session,
        clock,
        "listing.changed",
        f"listing:{listing.id}",
        {
            "listing": listing.id,
            "merchant": listing.merchant,
            "before": {
                k: list(v) if isinstance(v, tuple) else v
                for k, v in ((k, getattr(listing, k)) for k in changes)
            },
            "after": changes,
        },
    )


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
    r = one_row(session, listings, listing_id, "listing")
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
