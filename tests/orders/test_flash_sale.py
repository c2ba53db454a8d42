"""A flash sale does not queue on one row (PostgreSQL): two orders of one listing, one merchant
and one host, paid or confirmed at the same time, lock disjoint rows, so the second goes
through while the first is still in flight. Before the clearing shards it waited for the
first's commit on the payment provider's clearing account (payments) and on the merchant's
pending settlement, the platform's commission and the host's balance (settlements)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.integrity.world import MERCHANT, listing, market, while_in_flight
from xinren.clock import SystemClock
from xinren.db import make_engine, session_factory, unit_of_work
from xinren.demo import samples
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.orders.model import Action, Status

pytestmark = pytest.mark.postgres
HOST = "host:star"
CLOCK = SystemClock()


@pytest.fixture
def db(fresh_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_url)
    yield session_factory(engine)
    engine.dispose()


def _orders(db: sessionmaker[Session], n: int, *, up_to: Action | None) -> list[int]:
    """`n` orders of one listing with one host, each taken up to `up_to` (None: created)."""
    with unit_of_work(db) as s:
        market(s, CLOCK)
        samples.verified(s, CLOCK, HOST)
        sale = listing(s, CLOCK, "flash", price=9_900, stock=100)
        ids = []
        for i in range(n):
            o = orders.create_order(
                s,
                CLOCK,
                f"o{i}",
                buyer=f"buyer:{i}",
                merchant=MERCHANT,
                host=HOST,
                host_rate_bp=1_000,
                listing_id=sale.id,
            )
            for action in (Action.PAY, Action.SHIP):
                if up_to is None or action > up_to:
                    break
                orders.act(s, CLOCK, o.id, action, f"{action}-{i}", actor="test", system=True)
            ids.append(o.id)
    return ids


def _act(order_id: int, action: Action) -> Callable[[Session], Any]:
    return lambda s: orders.act(s, CLOCK, order_id, action, f"{action}-x-{order_id}", actor="t")


def test_two_payments_of_one_flash_sale_do_not_wait_for_each_other(db):
    # the first payment in a currency opens the provider's clearing shards (all at once); two
    # first payments would wait on each other's insert of them, once
    first, a, b = _orders(db, 3, up_to=None)
    with unit_of_work(db) as s:
        _act(first, Action.PAY)(s)
    paid = while_in_flight(db, _act(a, Action.PAY), _act(b, Action.PAY))
    assert paid.state.status is Status.PAID


def test_two_settlements_of_one_flash_sale_do_not_wait_for_each_other(db):
    # the sale's first settlement opens the host's and merchant's accounts and their shards;
    # two first settlements would wait on each other's insert of them, once
    first, a, b = _orders(db, 3, up_to=Action.SHIP)
    with unit_of_work(db) as s:
        _act(first, Action.CONFIRM)(s)
    done = while_in_flight(db, _act(a, Action.CONFIRM), _act(b, Action.CONFIRM))
    assert done.state.status is Status.COMPLETED
    with unit_of_work(db) as s:
        ledger.sweep(s, CLOCK)
        # 3 x 9,900: 3% food commission and 10% to the host, each rounded down
        assert ledger.get_account(s, "platform:commission:cny").balance.net == 3 * 297
        assert ledger.get_account(s, f"{HOST}:available").balance.net == 3 * 990
        pending = ledger.family_balance(s, f"{MERCHANT}:pending_settlement").net
        assert pending == 3 * (9_900 - 297 - 990)
        assert orders.reconcile(s) == []
