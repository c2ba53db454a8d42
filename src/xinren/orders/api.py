"""HTTP routes under /v1/orders: parse, check who is asking, call the service, serialise.

Object-level access: a buyer or merchant key (``xinren keys create --role buyer --party 7``)
sees and acts only on its own orders; any other order answers 404, so a caller cannot learn
that it exists.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from xinren.access.service import Principal
from xinren.api.deps import (
    AfterDep,
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
    next_cursor,
)
from xinren.api.types import Amount, AmountOrZero, Quantity
from xinren.errors import Forbidden, NotFound
from xinren.orders import model, service
from xinren.orders.model import Action
from xinren.orders.tables import orders
from xinren.parties import deposits

router = APIRouter(prefix="/v1/orders", tags=["orders"])
PARTY_ROLES = ("buyer", "merchant")


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    buyer: Annotated[str, Field(max_length=100)]
    merchant: Annotated[str, Field(max_length=100)]
    # with a listing_id, total, currency and category come from the listing (if sent, they
    # must agree); without one they are required (category defaults to "default")
    total: Amount | None = None
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    category: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    delivery_method: Annotated[str, Field(max_length=20)] = "express"
    host: str | None = None
    host_rate_bp: Annotated[StrictInt, Field(ge=0, le=5_000)] = 0
    listing_id: StrictInt | None = None
    batch_id: StrictInt | None = None
    live_session_id: StrictInt | None = None
    quantity: Quantity = 1
    discount: AmountOrZero = 0
    discount_reason: Annotated[str, Field(max_length=200)] | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: AmountOrZero | None = None
    kind: Literal["refund_only", "return_and_refund"] | None = None
    reason: Literal["no_reason", "not_as_described", "defective"] | None = None
    opened: bool = False


class OrderOut(BaseModel):
    id: int
    buyer: str
    merchant: str
    host: str | None
    currency: str
    total: int
    status: str
    after_sales: str
    paid: int
    refunded: int
    released: int
    held: int
    countdown_due_at: AwareDatetime | None
    allowed: list[str]
    replayed: bool
    listing_id: int | None = None
    batch_id: int | None = None
    live_session_id: int | None = None
    quantity: int = 1

    @classmethod
    def of(cls, v: service.OrderView) -> OrderOut:
        s = v.state
        return cls(
            id=v.id,
            buyer=v.buyer,
            merchant=v.merchant,
            host=v.host,
            currency=v.currency,
            total=s.total,
            status=s.status.value,
            after_sales=s.after_sales.value,
            paid=s.paid,
            refunded=s.refunded,
            released=s.released,
            held=s.held,
            countdown_due_at=v.countdown_due_at,
            allowed=v.allowed,
            replayed=v.replayed,
            listing_id=v.listing_id,
            batch_id=v.batch_id,
            live_session_id=v.live_session_id,
            quantity=v.quantity,
        )


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


def _visible(principal: Principal, order: service.OrderView) -> bool:
    if principal.role in PARTY_ROLES:
        return principal.subject in (order.buyer, order.merchant)
    return True


def _load(session: SessionDep, principal: Principal, order_id: int) -> service.OrderView:
    order = service.get_order(session, order_id)
    if principal.role not in ("admin", "platform", "reviewer", "auditor") and not (
        principal.role in PARTY_ROLES and _visible(principal, order)
    ):
        raise NotFound(f"no order {order_id}", field="order_id")
    return order


@router.post("", status_code=status.HTTP_201_CREATED)
def create_order(
    body: OrderIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> OrderOut:
    if principal.role not in ("admin", "platform"):
        raise Forbidden("orders are created by the platform back end (role platform)")
    view = service.create_order(session, clock, key, **body.model_dump())
    if view.replayed:
        response.status_code = status.HTTP_200_OK
    return OrderOut.of(view)


@router.get("")
def list_orders(
    session: SessionDep,
    principal: PrincipalDep,
    after: AfterDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrderPage:
    q = select(orders.c.id).where(orders.c.id > after).order_by(orders.c.id)
    if principal.role in PARTY_ROLES:
        column = orders.c.buyer if principal.role == "buyer" else orders.c.merchant
        q = q.where(column == principal.subject)
    elif principal.role not in ("admin", "platform", "reviewer", "auditor"):
        raise Forbidden(f"role {principal.role!r} has no orders")
    ids = session.execute(q.limit(limit)).scalars().all()
    items = [OrderOut.of(service.get_order(session, i)) for i in ids]
    return OrderPage(items=items, next_cursor=next_cursor(list(ids), limit))


@router.get("/{order_id}")
def get_order(order_id: int, session: SessionDep, principal: PrincipalDep) -> OrderOut:
    return OrderOut.of(_load(session, principal, order_id))


@router.post("/{order_id}/{action}")
def act(
    order_id: int,
    action: Action,
    body: ActionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> OrderOut:
    _load(session, principal, order_id)  # 404 unless the caller may see the order
    if not model.may_act(principal.role, action):
        raise Forbidden(f"a {principal.role} may not {action.value} an order")
    actor = principal.subject or principal.role
    view = service.act(
        session,
        clock,
        order_id,
        action,
        key,
        actor=actor,
        amount=body.amount,
        kind=body.kind,
        reason=body.reason,
        opened=body.opened,
    )
    return OrderOut.of(view)


merchants = APIRouter(prefix="/v1/merchants", tags=["merchants"])


class DepositIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: Amount
    currency: Annotated[str, Field(min_length=3, max_length=3)]


class DepositOut(BaseModel):
    merchant: str
    balance: int
    required_by_category: dict[str, int]


def _deposit_out(session: SessionDep, merchant: str) -> DepositOut:
    from xinren import policies

    table = policies.load("deposits").get("required")
    return DepositOut(
        merchant=merchant,
        balance=deposits.deposit_balance(session, merchant),
        required_by_category={k: int(v) for k, v in table.items()},
    )


@merchants.post("/{merchant}/deposit")
def pay_deposit(
    merchant: str,
    body: DepositIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> DepositOut:
    if principal.role not in ("admin", "platform"):
        raise Forbidden("deposits are recorded by the platform back end (role platform)")
    deposits.pay_deposit(session, clock, key, merchant, body.amount, body.currency)
    return _deposit_out(session, merchant)


@merchants.get("/{merchant}/deposit")
def get_deposit(merchant: str, session: SessionDep, principal: PrincipalDep) -> DepositOut:
    own = principal.role == "merchant" and principal.subject == merchant
    if principal.role not in ("admin", "platform", "auditor", "reviewer") and not own:
        raise NotFound(f"no merchant {merchant}", field="merchant")
    return _deposit_out(session, merchant)
