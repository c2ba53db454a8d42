"""Order steps in bulk: many create+pay, ship and confirm steps in one transaction, each with its
own idempotency key and its own result, as a platform sends them during a live sale.

Per-item results: each item runs in its own savepoint, so a refused item (a bad request, an
order in the wrong state, a reused key) is rolled back alone and the others commit with the
batch. A key sent twice in one batch is refused for the second item (like the ledger's
batches), never run twice.

Locks: the orders the batch names are locked first, in one statement in ascending id, and then
the ledger accounts their steps will move, in one `ledger.lock_accounts` (ascending id), both
before any item runs (`xinren.unit_of_work.LOCK_ORDER`: orders, then accounts). Two batches
touching the same orders or the same clearing accounts then wait for each other instead of
taking the same locks in opposite orders item by item. The rows read under the lock are passed
on to the items (`act(locked=...)`), never read again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren import ids
from xinren.clock import Clock
from xinren.errors import RequestTooLarge, ValidationFailed, XinrenError
from xinren.ledger import model as ledger_model
from xinren.ledger import service as ledger
from xinren.orders.actions import act
from xinren.orders.create import create_order
from xinren.orders.model import CLEARING_SHARDS, Action
from xinren.orders.tables import orders
from xinren.orders.views import (
    OrderView,
    available,
    commission,
    escrow,
    pending_settlement,
    shard,
)
from xinren.parties.deposits import psp

#: the most items one batch holds
MAX_BATCH = 500

Step = Literal["create_and_pay", "ship", "confirm"]
STEPS: tuple[Step, ...] = ("create_and_pay", "ship", "confirm")
Outcome = OrderView | XinrenError


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One step of one order: ``create_and_pay`` names the order (`create_order`'s keyword
    arguments); ``ship`` and ``confirm`` name its id."""

    step: Step
    key: str
    order_id: int | None = None
    order: Mapping[str, Any] | None = None


def run_batch(
    session: Session, clock: Clock, items: Sequence[BatchItem], *, actor: str
) -> list[Outcome]:
    """Run every item in order, each in its own savepoint; each item's order or its error."""
    if len(items) > MAX_BATCH:
        raise RequestTooLarge(f"an order batch holds at most {MAX_BATCH} items")
    outcomes: list[Outcome | None] = [_problem(i, item) for i, item in enumerate(items)]
    seen: set[str] = set()
    for i, item in enumerate(items):
        if outcomes[i] is None and item.key in seen:
            outcomes[i] = ValidationFailed(
                f"idempotency key {ids.unscoped(item.key)!r} appears twice in one batch",
                field=f"items[{i}].idempotency_key",
            )
        seen.add(item.key)
    todo = [i for i, o in enumerate(outcomes) if o is None]
    rows = _lock(session, [items[i] for i in todo])
    for i in todo:
        item = items[i]
        try:
            with session.begin_nested():
                outcomes[i] = _run(session, clock, item, actor, rows.pop(item.order_id, None))
        except XinrenError as err:
            outcomes[i] = err
    return [o for o in outcomes if o is not None]


def _problem(i: int, item: BatchItem) -> XinrenError | None:
    """Why the item cannot run as it is sent, if it cannot."""
    if item.step not in STEPS:
        return ValidationFailed(f"step is one of {', '.join(STEPS)}", field=f"items[{i}].step")
    if item.step == "create_and_pay" and (item.order is None or item.order_id is not None):
        return ValidationFailed(
            "create_and_pay names the order to create (order), not an order_id",
            field=f"items[{i}].order",
        )
    if item.step != "create_and_pay" and (item.order_id is None or item.order is not None):
        return ValidationFailed(
            f"{item.step} names the order_id it acts on", field=f"items[{i}].order_id"
        )
    try:
        ids.check_idempotency_key(item.key, field=f"items[{i}].idempotency_key")
    except XinrenError as err:
        return err
    return None


def _lock(session: Session, items: Sequence[BatchItem]) -> dict[int | None, Any]:
    """Lock the named orders, then the accounts the batch will move; the rows read."""
    order_ids = sorted({item.order_id for item in items if item.order_id is not None})
    found = session.execute(
        select(orders).where(orders.c.id.in_(order_ids)).order_by(orders.c.id).with_for_update()
    ).all()
    rows: dict[int | None, Any] = {row.id: row for row in found}
    codes: set[str] = set()
    for item in items:
        if item.step == "create_and_pay" and item.order and item.order.get("currency"):
            # the orders' ids, and so their shards, are not known yet: lock every shard
            clearing = psp(str(item.order["currency"]))
            codes.update(ledger_model.shard_code(clearing, k) for k in range(CLEARING_SHARDS))
        row = rows.get(item.order_id)
        if item.step == "confirm" and row is not None:
            codes.update(
                {escrow(row.id), shard(pending_settlement(row.merchant), row.id)}
                | {shard(commission(row.currency), row.id)}
                | ({shard(available(row.host), row.id)} if row.host else set())
            )
    ledger.lock_accounts(session, sorted(codes))
    return rows


def _run(session: Session, clock: Clock, item: BatchItem, actor: str, row: Any) -> OrderView:
    if item.step == "create_and_pay":
        created = create_order(session, clock, item.key, **dict(item.order or {}))
        # the payment's key is derived from the item's: the same item sent again replays both
        pay_key = ids.derived("orders.batch.pay", item.key)
        paid = act(session, clock, created.id, Action.PAY, pay_key, actor=actor, system=True)
        return replace(paid, replayed=created.replayed and paid.replayed)
    assert item.order_id is not None  # checked by _problem
    action = Action.SHIP if item.step == "ship" else Action.CONFIRM
    return act(session, clock, item.order_id, action, item.key, actor=actor, locked=row)
