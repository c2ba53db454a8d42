"""What the money-path tests share: a market built through the services, and races.

`race` runs callables in threads released together by a barrier (no sleeps order a race), each
in its own unit of work, and returns what each returned or raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.test_stories import completed_order
from xinren.api.app import create_app
from xinren.catalog.service import Listing
from xinren.clock import Clock
from xinren.demo import samples
from xinren.orders import model
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.orders.service import OrderView
from xinren.parties import deposits
from xinren.timers import service as timers
from xinren.unit_of_work import run

MERCHANT = "merchant:tea"
DEPOSIT = 1_000_000


def market(session: Session, clock: Clock, merchant: str = MERCHANT) -> None:
    """A verified merchant with its deposit paid."""
    samples.verified(session, clock, merchant)
    deposits.pay_deposit(session, clock, f"dep-{merchant}", merchant, DEPOSIT, "CNY")


def listing(
    session: Session,
    clock: Clock,
    tag: str,
    *,
    price: int,
    category: str = "food",
    stock: int | None = None,
    merchant: str = MERCHANT,
) -> Listing:
    """A listing of `merchant`'s for a product of `category`, one batch, `stock` units."""
    return samples.listing(
        session, clock, tag, merchant, price=price, category=category, stock=stock
    )


def finish(session: Session, clock: Clock, order_id: int) -> OrderView:
    """Take a paid order on to completed (shipped, receipt confirmed) and release the
    merchant's share, from wherever it stands."""
    order = orders.get_order(session, order_id)
    for action, actor in ((Action.SHIP, order.merchant), (Action.CONFIRM, order.buyer)):
        if action in model.allowed(orders.get_order(session, order_id).state):
            orders.act(session, clock, order_id, action, f"finish-{order_id}-{action}", actor=actor)
    for t in timers.pending(session, orders.RELEASE_SETTLEMENT):
        if t.subject == str(order_id):
            orders._release_settlement(session, clock, t)
            timers.cancel(session, t.kind, t.subject)
    return orders.get_order(session, order_id)


def caller(
    factory: sessionmaker[Session], clock: Clock, keys: Mapping[str, str]
) -> Callable[..., Any]:
    """`call(who, method, path, idem=None, **kw)`: an HTTP request to the app, on the test's
    sessions, with the API key of `keys[who]` (and an Idempotency-Key when given)."""
    client = TestClient(create_app(clock=clock, sessions=factory))

    def call(who: str, method: str, path: str, idem: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {keys[who]}"}
        if idem:
            headers["Idempotency-Key"] = idem
        return client.request(method, path, headers=headers, **kw)

    return call


def settled_order(
    session: Session, clock: Clock, key: str, total: int, *, merchant: str = MERCHANT
) -> OrderView:
    """An order paid, shipped, confirmed, settled and released to the merchant's balance."""
    return completed_order(session, clock, merchant, key, total, "tea")


@dataclass(frozen=True, slots=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None


def race(factory: sessionmaker[Session], fns: Sequence[Callable[[Session], Any]]) -> list[Outcome]:
    """Run each `fn` in its own thread and unit of work, all released at once."""
    gate = threading.Barrier(len(fns))
    outcomes: list[Outcome] = [Outcome()] * len(fns)

    def worker(i: int) -> None:
        gate.wait()
        try:
            outcomes[i] = Outcome(value=run(factory, fns[i]))
        except BaseException as err:  # recorded, judged by the test
            outcomes[i] = Outcome(error=err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a racing worker hung"
    return outcomes


def while_in_flight(
    db: sessionmaker[Session], first: Callable[[Session], Any], second: Callable[[Session], Any]
) -> Any:
    """Run `second` (which may wait at most 2 s for a lock) while `first`'s transaction, done
    but not committed, holds its locks (PostgreSQL); what `second` returned."""
    from sqlalchemy import text

    from xinren.db import unit_of_work

    holding, release = threading.Event(), threading.Event()

    def in_flight() -> None:
        with unit_of_work(db) as s:
            first(s)
            holding.set()
            release.wait(30)

    worker = threading.Thread(target=in_flight)
    worker.start()
    try:
        assert holding.wait(30)
        with unit_of_work(db) as s:
            s.execute(text("SET LOCAL lock_timeout = '2s'"))
            return second(s)
    finally:
        release.set()
        worker.join(30)
