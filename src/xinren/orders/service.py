"""Order use cases: each action runs the state machine and carries out its effects (ledger
movements, countdown timers, events) in the caller's one transaction: all or nothing.

Money: the payment goes from the payment provider's clearing account into the order's escrow
account, which may never go below zero; refunds go back the same way; settlement is one
transfer from escrow to the merchant, the platform's commission and the host's commission.
The busy accounts are split into clearing shards, one per order id modulo
`model.CLEARING_SHARDS` (`xinren.ledger.shards`): the payment comes from a shard of the
provider's clearing account, the shares go to shards of the merchant's pending settlement (the
release timer empties it order by order), the platform's commission and the host's balance
(the ledger's sweep moves those into the accounts themselves every few seconds).
For every order at every moment: paid = released + refunded + held (the escrow balance).

The use cases live by module and are importable from here: reading and locking (`views`),
creating an order (`create`), acting on one (`actions`), many steps in one transaction
(`batch`); how a settlement is split is
`model.settle_shares`, when an order auto-confirms `model.plan_countdown`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.ledger import service as ledger
from xinren.orders.actions import (
    AUTO_CANCEL,
    AUTO_CONFIRM,
    REFUND_DEADLINE,
    RELEASE_SETTLEMENT,
    TOPICS,
    _release_settlement,
    act,
)
from xinren.orders.batch import MAX_BATCH, BatchItem, run_batch
from xinren.orders.create import create_order
from xinren.orders.tables import orders
from xinren.orders.views import (
    PENDING_SETTLEMENT,
    OrderView,
    _view,
    available,
    escrow,
    get_order,
    lock,
    lock_many,
    pending_settlement,
)
from xinren.parties import service as parties
from xinren.timers import service as timers

__all__ = [
    "AUTO_CANCEL",
    "AUTO_CONFIRM",
    "MAX_BATCH",
    "REFUND_DEADLINE",
    "RELEASE_SETTLEMENT",
    "TOPICS",
    "BatchItem",
    "OrderView",
    "_release_settlement",
    "_view",
    "act",
    "available",
    "create_order",
    "escrow",
    "get_order",
    "lock",
    "lock_many",
    "parties_of",
    "pending_settlement",
    "reconcile",
    "run_batch",
]


def reconcile(session: Session) -> list[str]:
    """The accounts orders own against what the orders say: each escrow holds exactly what its
    order paid and has neither refunded nor released, and each merchant's pending settlement
    (each of its clearing shards) holds exactly the settled shares still waiting there for
    their release timer."""
    problems = []
    held = {
        r.id: r.paid - r.refunded - r.released
        for r in session.execute(
            select(orders.c.id, orders.c.paid, orders.c.refunded, orders.c.released)
        )
    }
    merchant_of = dict(session.execute(select(orders.c.id, orders.c.merchant)).all())
    waiting: dict[str, int] = {}
    for t in timers.pending(session, RELEASE_SETTLEMENT):
        merchant = merchant_of.get(int(t.subject))
        if merchant is not None:
            payload = t.payload or {}
            code = str(payload.get("from") or pending_settlement(merchant))
            waiting[code] = waiting.get(code, 0) + int(payload["amount"])
    for account in ledger.owned_accounts(session, "orders"):
        code, net = account.code, account.balance.net
        if code.startswith("escrow:order:"):
            order_id = int(code.rsplit(":", 1)[1])
            says = held.pop(order_id, None)
            if says is None:
                problems.append(f"{code} holds {net} but order {order_id} does not exist")
            elif says != net:
                problems.append(f"{code} holds {net}; order {order_id} says it holds {says}")
        elif PENDING_SETTLEMENT.fullmatch(code):
            due = waiting.pop(code, 0)
            if net != due:
                problems.append(
                    f"{code} holds {net}; settled shares waiting for release add up to {due}"
                )
    for order_id, says in sorted(held.items()):
        if says:
            problems.append(f"order {order_id} says it holds {says} but has no escrow account")
    return problems


def parties_of(session: Session, order_id: int) -> dict[str, dict[str, Any] | None]:
    """The real identity of the order's seller and host (legal name, address, contact,
    registration number, payment account), as the platform must be able to produce them."""
    order = get_order(session, order_id)
    return parties.identities(session, {"seller": order.merchant, "host": order.host})
