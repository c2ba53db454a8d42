"""Reading orders: the order as callers see it, the accounts an order owns, and the row lock
every money-moving use case takes first."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.errors import NotFound, ValidationFailed
from xinren.ledger import model as ledger_model
from xinren.ledger import service as ledger
from xinren.orders import model
from xinren.orders.model import AfterSales, Order, Status
from xinren.orders.tables import orders

_PARTY = re.compile(r"^(buyer|merchant|host):[a-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class OrderView:
    id: int
    buyer: str
    merchant: str
    host: str | None
    currency: str
    category: str
    delivery_method: str
    state: Order
    countdown_due_at: datetime | None
    created_at: datetime
    replayed: bool = False
    listing_id: int | None = None
    batch_id: int | None = None
    live_session_id: int | None = None
    quantity: int = 1

    @property
    def allowed(self) -> list[str]:
        return [a.value for a in model.allowed(self.state)]


def escrow(order_id: int) -> str:
    return f"escrow:order:{order_id}"


ledger.reserve("orders", r"escrow:order:\d+", "orders' escrow")
#: a merchant's pending settlement or one of its clearing shards
PENDING_SETTLEMENT = re.compile(r".+:pending_settlement(:s\d{2})?")
ledger.reserve(
    "orders", PENDING_SETTLEMENT.pattern, "merchants' pending settlements and their shards"
)


def check_party(value: str, field: str, role: str) -> str:
    if not _PARTY.match(value) or not value.startswith(role + ":"):
        raise ValidationFailed(f"{field} is '{role}:<id>', e.g. '{role}:42'", field=field)
    return value


def _view(row: Any, replayed: bool = False) -> OrderView:
    state = Order(
        total=row.total,
        status=Status(row.status),
        after_sales=AfterSales(row.after_sales),
        paid=row.paid,
        refunded=row.refunded,
        released=row.released,
        requested=row.requested,
        request_kind=row.request_kind,
        extended=row.extended,
    )
    return OrderView(
        row.id,
        row.buyer,
        row.merchant,
        row.host,
        row.currency,
        row.category,
        row.delivery_method,
        state,
        row.countdown_due_at,
        row.created_at,
        replayed,
        listing_id=row.listing_id,
        batch_id=row.batch_id,
        live_session_id=row.live_session_id,
        quantity=row.quantity,
    )


def pending_settlement(merchant: str) -> str:
    """Where a merchant's share waits after settlement until it is paid out to `available`."""
    return f"{merchant}:pending_settlement"


def available(merchant: str) -> str:
    return f"{merchant}:available"


def commission(currency: str) -> str:
    """The platform's commission income in `currency`."""
    return f"platform:commission:{currency.lower()}"


def shard(parent: str, order_id: int) -> str:
    """The clearing shard of `parent` that the order's money moves through."""
    return ledger_model.shard_code(parent, model.clearing_shard(order_id))


def get_order(session: Session, order_id: int) -> OrderView:
    row = session.execute(select(orders).where(orders.c.id == order_id)).first()
    if row is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return _view(row)


def lock(session: Session, order_id: int) -> OrderView:
    """Lock the order's row until the transaction ends, and read it as it is now.

    Every use case that moves money for an order (its own actions, a remedy, a recall, a
    complaint's filing) takes this lock first, before any ledger lock (the global order is in
    `xinren.unit_of_work.LOCK_ORDER`), and only then reads the key it replays and the amounts
    it may pay: two requests on one order are then serialised, and the second one sees the
    first one's effects (a refund already paid, a key already used) instead of stale figures.
    """
    return _view(_locked_row(session, order_id))


def lock_many(session: Session, order_ids: Iterable[int]) -> None:
    """Lock several orders, in ascending id (the global lock order within a kind)."""
    for order_id in sorted(set(order_ids)):
        _locked_row(session, order_id)


def _locked_row(session: Session, order_id: int) -> Any:
    row = session.execute(select(orders).where(orders.c.id == order_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return row
