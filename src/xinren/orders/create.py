"""Creating an order: check the request, price it (from its listing, or as the caller names
it), admit its parties (verified, the merchant's deposit), then take the stock and write it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren import policies
from xinren.catalog import service as catalog
from xinren.clock import Clock
from xinren.errors import Conflict, IdempotencyKeyReused, PriceMismatch, ValidationFailed
from xinren.events import service as events
from xinren.ids import check_idempotency_key, payload_hash
from xinren.ledger import service as ledger
from xinren.money import MAX_AMOUNT, Money, check_amount, check_currency
from xinren.orders import model
from xinren.orders.model import AfterSales, Status
from xinren.orders.tables import orders
from xinren.orders.views import OrderView, _view, check_party, escrow
from xinren.parties import deposits
from xinren.parties import service as parties


@dataclass(frozen=True, slots=True)
class _Terms:
    """What a checked request is sold for."""

    total: int
    currency: str
    category: str
    batch_id: int | None
    unit_price: int | None
    policy_version: str


def create_order(
    session: Session,
    clock: Clock,
    key: str,
    *,
    buyer: str,
    merchant: str,
    total: int | None = None,
    currency: str | None = None,
    category: str | None = None,
    delivery_method: str = "express",
    host: str | None = None,
    host_rate_bp: int = 0,
    listing_id: int | None = None,
    batch_id: int | None = None,
    live_session_id: int | None = None,
    quantity: int = 1,
    discount: int = 0,
    discount_reason: str | None = None,
) -> OrderView:
    """Create an order (status created); the key makes a retry return the same order.

    With a listing, the order takes the unit price, currency and category from it (a total or
    category the caller sends must agree; a discount is explicit and recorded with its reason),
    takes its units from the listing's stock, and records which batch was sold in which live
    session, so a recall reaches the buyer and the chain of custody starts from the sale.
    Without one, the caller names the total, currency and category.
    """
    check_idempotency_key(key)
    request = dict(
        buyer=buyer,
        merchant=merchant,
        total=total,
        currency=currency,
        category=category,
        delivery_method=delivery_method,
        host=host,
        host_rate_bp=host_rate_bp,
        listing_id=listing_id,
        batch_id=batch_id,
        live_session_id=live_session_id,
        quantity=quantity,
        discount=discount,
        discount_reason=discount_reason,
    )
    digest = payload_hash(request)
    existing = session.execute(select(orders).where(orders.c.idempotency_key == key)).first()
    if existing is not None:
        if existing.request_hash not in (None, digest):  # None: made before 0017
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} created order {existing.id} with other details",
                field="idempotency_key",
            )
        return _view(existing, replayed=True)
    terms = _terms(session, request)
    parties.require_verified(session, merchant, "take orders")
    if host is not None:
        parties.require_verified(session, host, "sell on an order as its host")
    deposits.check_deposit(session, merchant, terms.category)
    row = _write(session, clock, key, digest, request, terms)
    if listing_id is not None:
        # last: the listing's row, which every order of a flash sale updates, stays locked
        # only while this transaction commits (a refusal rolls the order back with it)
        catalog.take_stock(session, listing_id, quantity)
    return _view(row)


def _terms(session: Session, request: dict[str, Any]) -> _Terms:
    """Check the request's parties, rates, delivery and quantity, and price it."""
    host, quantity = request["host"], request["quantity"]
    check_party(request["buyer"], "buyer", "buyer")
    check_party(request["merchant"], "merchant", "merchant")
    if host is not None:
        check_party(host, "host", "host")
    model.check_host_rate(request["host_rate_bp"], policies.host_rate_cap_bp())
    timer_policy = policies.order_timers()
    timer_policy.receipt_period(request["delivery_method"])
    check_amount(quantity, "quantity", positive=True)
    if quantity > model.MAX_QUANTITY:
        raise ValidationFailed(f"quantity is at most {model.MAX_QUANTITY}", field="quantity")
    unit_price: int | None = None
    batch_id = request["batch_id"]
    if request["listing_id"] is not None:
        listing, batch_id, listed_category = _check_line(
            session,
            request["merchant"],
            host,
            request["listing_id"],
            batch_id,
            request["live_session_id"],
        )
        line = model.Line(listing.price, quantity, request["discount"])
        total, currency, category = _priced(listing, listed_category, request, line)
        unit_price = listing.price
    else:
        total, currency, category = _unlisted(request)
    _check_named(total, currency, category, request["discount"], request["discount_reason"])
    return _Terms(total, currency, category, batch_id, unit_price, timer_policy.version)


def _unlisted(request: dict[str, Any]) -> tuple[int, str, str]:
    """The total, currency and category of an order without a listing, as the caller names."""
    if request["batch_id"] is not None or request["live_session_id"] is not None:
        raise ValidationFailed(
            "batch_id and live_session_id need the listing_id they belong to",
            field="listing_id",
        )
    if request["discount"]:
        raise ValidationFailed(
            "a discount is granted on a listing's price: name the listing_id", field="discount"
        )
    if request["total"] is None:
        raise ValidationFailed("an order without a listing_id names its total", field="total")
    if request["currency"] is None:
        raise ValidationFailed("an order without a listing_id names its currency", field="currency")
    return request["total"], request["currency"], request["category"] or "default"


def _check_named(
    total: int, currency: str, category: Any, discount: int, discount_reason: str | None
) -> None:
    check_amount(total, "total", positive=True)
    check_currency(currency)
    if not isinstance(category, str) or not 1 <= len(category) <= 50:
        raise ValidationFailed("category is 1-50 characters", field="category")
    if discount and not (isinstance(discount_reason, str) and discount_reason.strip()):
        raise ValidationFailed("a discount states its reason", field="discount_reason")
    if discount_reason is not None and len(discount_reason) > 200:
        raise ValidationFailed("discount_reason is at most 200 characters", field="discount_reason")


def _write(
    session: Session,
    clock: Clock,
    key: str,
    digest: str,
    request: dict[str, Any],
    terms: _Terms,
) -> Any:
    """Insert the order, open its escrow account and announce it; the row as written (returned
    by the insert itself, so the order is not read back)."""
    now = clock.now()
    discount = request["discount"]
    row = session.execute(
        orders.insert().returning(*orders.c),
        dict(
            listing_id=request["listing_id"],
            batch_id=terms.batch_id,
            live_session_id=request["live_session_id"],
            quantity=request["quantity"],
            buyer=request["buyer"],
            merchant=request["merchant"],
            host=request["host"],
            host_rate_bp=request["host_rate_bp"],
            category=terms.category,
            delivery_method=request["delivery_method"],
            currency=terms.currency,
            total=terms.total,
            unit_price=terms.unit_price,
            discount=discount,
            discount_reason=request["discount_reason"] if discount else None,
            request_hash=digest,
            idempotency_key=key,
            status=Status.CREATED.value,
            after_sales=AfterSales.NONE.value,
            policy_version=terms.policy_version,
            created_at=now,
            updated_at=now,
        ),
    ).one()
    order_id: int = row.id
    ledger.create_account(
        session,
        clock,
        escrow(order_id),
        terms.currency,
        debits_must_not_exceed_credits=True,
        internal=True,
    )
    events.append(
        session,
        clock,
        "order.created",
        f"order:{order_id}",
        {"order": order_id, "total": terms.total, "currency": terms.currency, "discount": discount},
    )
    return row


def _priced(
    listing: catalog.Listing, listed_category: str, request: dict[str, Any], line: model.Line
) -> tuple[int, str, str]:
    """The total, currency and category an order line takes from its listing; what the caller
    sent must agree with them."""
    problem = model.line_problem(line, MAX_AMOUNT)
    if problem is not None:
        raise ValidationFailed(problem[1], field=problem[0])
    sent_total, sent_currency, sent_category = (
        request["total"],
        request["currency"],
        request["category"],
    )
    if sent_currency is not None and sent_currency != listing.currency:
        raise ValidationFailed(
            f"listing {listing.id} is priced in {listing.currency}", field="currency"
        )
    if sent_total is not None and sent_total != line.total:
        price = Money(listing.price, listing.currency)
        less = (
            f" less a discount of {Money(line.discount, listing.currency)}" if line.discount else ""
        )
        raise PriceMismatch(
            f"{line.quantity} x {price}{less} is {Money(line.total, listing.currency)}; the "
            f"order says {Money(sent_total, listing.currency)} (leave total out to take the "
            "listing's price, or grant a discount with its reason)",
            field="total",
            expected=line.total,
        )
    if sent_category is not None and sent_category != listed_category:
        raise ValidationFailed(
            f"listing {listing.id} sells a product of category {listed_category!r}",
            field="category",
        )
    return line.total, listing.currency, listed_category


def _check_line(
    session: Session,
    merchant: str,
    host: str | None,
    listing_id: int,
    batch_id: int | None,
    live_session_id: int | None,
) -> tuple[catalog.Listing, int, str]:
    """The listing, the batch the line sells and the product's category, after checking the
    listing, batch and session agree."""
    listing = catalog.get_listing(session, listing_id)
    if listing.status != "active":
        raise Conflict(f"listing {listing_id} is {listing.status}", field="listing_id")
    if listing.merchant != merchant:
        raise ValidationFailed(f"listing {listing_id} is not {merchant}'s", field="listing_id")
    if batch_id is None:
        if len(listing.batch_ids) != 1:
            raise ValidationFailed(
                f"listing {listing_id} sells several batches; say which one (batch_id)",
                field="batch_id",
            )
        batch_id = listing.batch_ids[0]
    elif batch_id not in listing.batch_ids:
        raise ValidationFailed(
            f"batch {batch_id} is not sold by listing {listing_id}", field="batch_id"
        )
    if live_session_id is not None:
        live = catalog.get_live_session(session, live_session_id)
        if listing_id not in live.listing_ids:
            raise ValidationFailed(
                f"listing {listing_id} was not shown in live session {live_session_id}",
                field="live_session_id",
            )
        if live.host != host:
            raise ValidationFailed(
                f"live session {live_session_id} was hosted by {live.host}; the order names "
                f"{host or 'no host'}",
                field="host",
            )
    category = catalog.get_product(session, listing.product_id).category
    return listing, batch_id, category
