"""HTTP routes under /v1/orders: parse, check who is asking, call the service, serialise.

Object-level access: a buyer or merchant key (``xinren keys create --role buyer --party 7``)
sees and acts only on its own orders; any other order answers 404, so a caller cannot learn
that it exists.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy import select

from xinren.access.service import Principal
from xinren.api.deps import (
    AfterDep,
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    is_staff,
    next_cursor,
)
from xinren.api.idempotency import once
from xinren.api.threads import Router
from xinren.api.types import Amount, AmountOrZero, Quantity
from xinren.errors import Forbidden, NotFound, XinrenError
from xinren.ids import scoped
from xinren.liability import service as liability
from xinren.liability.model import Finding
from xinren.orders import model, service
from xinren.orders.model import Action
from xinren.orders.tables import orders
from xinren.parties import service as parties
from xinren.provenance import chain as chains

router = Router(prefix="/v1/orders", tags=["orders"])
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


def _may_see(principal: Principal, order: service.OrderView) -> bool:
    return principal.role in ("admin", "platform", "reviewer", "auditor") or (
        principal.role in PARTY_ROLES and _visible(principal, order)
    )


def _load(session: SessionDep, principal: Principal, order_id: int) -> service.OrderView:
    order = service.get_order(session, order_id)
    if not _may_see(principal, order):
        raise NotFound(f"no order {order_id}", field="order_id")
    return order


# Routes below /{order_id}/ that name their own path come first: POST /{order_id}/{action}
# would match them.


def _order_for_staff_or_seller(session: SessionDep, principal: PrincipalDep, order_id: int) -> None:
    order = service.get_order(session, order_id)
    if not is_staff(principal) and principal.subject != order.merchant:
        raise NotFound(f"no order {order_id}", field="order_id")


@router.get("/{order_id}/chain")
def chain_of_order(order_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The chain of custody of the order line, with every gap; for staff and the seller."""
    _order_for_staff_or_seller(session, principal, order_id)
    line, chain = chains.chain_of(session, order_id)
    return chains.as_dict(line, chain)


class FindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    finding: Finding


@router.post("/{order_id}/liability")
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


@router.get("/{order_id}/liability")
def liability_history(
    order_id: int,
    session: SessionDep,
    principal: PrincipalDep,
) -> list[dict[str, Any]]:
    _order_for_staff_or_seller(session, principal, order_id)
    return liability.history(session, order_id)


@router.get("/{order_id}/parties")
def parties_of_order(order_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    """The real identity of the seller and host. Staff get everything; the order's buyer gets
    who they are and how to reach them (legal name, address, contact, registration number),
    not where they are paid."""
    order = service.get_order(session, order_id)
    if is_staff(principal):
        return {"order": order_id, **service.parties_of(session, order_id)}
    if principal.subject != order.buyer:
        raise Forbidden("the identities behind an order are for staff and the order's buyer")
    shown: dict[str, Any] = {"order": order_id}
    for role, ref in (("seller", order.merchant), ("host", order.host)):
        party = parties.get(session, ref) if ref else None
        shown[role] = party.public() if party is not None and party.identifiable else None
    return shown


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


class BatchItemIn(BaseModel):
    """One step of one order: create_and_pay names the order to create, ship and confirm the
    order_id they act on."""

    model_config = ConfigDict(extra="forbid")
    step: Literal["create_and_pay", "ship", "confirm"]
    idempotency_key: Annotated[str, Field(min_length=1, max_length=128)]
    order_id: StrictInt | None = None
    order: OrderIn | None = None


class OrderBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: Annotated[list[BatchItemIn], Field(min_length=1, max_length=service.MAX_BATCH)]


class OrderBatchResult(BaseModel):
    index: int
    ok: bool
    order: OrderOut | None = None
    problem: dict[str, object] | None = None


class OrderBatchOut(BaseModel):
    results: list[OrderBatchResult]


@router.post("/batch")
def run_batch(
    body: OrderBatchIn, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> OrderBatchOut:
    """Many create+pay, ship and confirm steps in one call and one transaction; each item has
    its own idempotency key (scoped to the caller) and its own result: a refused item is rolled
    back alone (its savepoint) and does not spoil the others."""
    if principal.role not in ("admin", "platform"):
        raise Forbidden("order batches are sent by the platform back end (role platform)")
    items = [
        service.BatchItem(
            i.step,
            # a key holding the scope separator leaves an invalid scope: refused for its item
            scoped(principal.key_scope, i.idempotency_key),
            i.order_id,
            i.order.model_dump() if i.order is not None else None,
        )
        for i in body.items
    ]
    outcomes = service.run_batch(session, clock, items, actor=principal.subject or principal.role)
    return OrderBatchOut(
        results=[
            OrderBatchResult(index=n, ok=False, problem=o.problem())
            if isinstance(o, XinrenError)
            else OrderBatchResult(index=n, ok=True, order=OrderOut.of(o))
            for n, o in enumerate(outcomes)
        ]
    )


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

    def admit(order: service.OrderView) -> None:  # checked on the row read under the lock
        if not _may_see(principal, order):
            raise NotFound(f"no order {order_id}", field="order_id")
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
        admit=admit,
    )
    return OrderOut.of(view)
