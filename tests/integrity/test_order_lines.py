"""Hole 3: an order is checked against its listing, and a listing's stock is never oversold.

Before the fix 3 x a ¥128 listing was accepted with ``total: 5`` (¥0.05), and a food listing
ordered without a category got the default deposit and commission.
"""

from __future__ import annotations

import pytest

from tests.integrity.world import MERCHANT, caller, listing, market, race
from xinren import policies
from xinren.access import service as access
from xinren.catalog import service as catalog
from xinren.errors import OutOfStock
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.unit_of_work import run


@pytest.fixture
def world(factory, clock):
    with factory() as s:
        market(s, clock)
        tea = listing(s, clock, "tea", price=12_800, category="food", stock=5)
        platform = access.create_key(s, clock, "platform")[1]
        s.commit()
    call = caller(factory, clock, {"platform": platform})

    def order(idem, **body):
        body = {"buyer": "buyer:b1", "merchant": MERCHANT, "listing_id": tea.id, **body}
        return call("platform", "POST", "/v1/orders", idem, json=body)

    return tea, order


def test_the_total_must_be_what_the_listing_makes_it(world, session):
    tea, order = world
    r = order("cheap", quantity=3, total=5, currency="CNY")
    assert r.status_code == 422 and r.json()["type"].endswith("/price-mismatch")
    assert r.json()["errors"][0]["field"] == "total"
    assert "3 x ¥128.00 is ¥384.00" in r.json()["detail"]
    assert catalog.get_listing(session, tea.id).stock == 5  # nothing taken
    ok = order("right", quantity=3, total=38_400)
    assert ok.status_code == 201 and ok.json()["total"] == 38_400


def test_the_listing_sets_price_currency_and_category(world, session):
    _, order = world
    r = order("o1", quantity=2)
    assert r.status_code == 201, r.text
    made = orders.get_order(session, r.json()["id"])
    assert made.category == "food" and made.currency == "CNY" and made.state.total == 25_600
    assert order("o2", category="default").json()["errors"][0]["field"] == "category"
    assert order("o3", currency="USD").json()["errors"][0]["field"] == "currency"


def test_a_food_order_settles_at_the_food_commission(world, session, clock):
    _, order = world
    oid = order("food", quantity=1).json()["id"]
    for action, actor in (
        (Action.PAY, "platform"),
        (Action.SHIP, MERCHANT),
        (Action.CONFIRM, "buyer:b1"),
    ):
        orders.act(session, clock, oid, action, f"food-{action}", actor=actor)
    from xinren.ledger import service as ledger

    commission = ledger.family_balance(session, "platform:commission:cny").net
    assert commission == 12_800 * policies.platform_rate_bp("food") // 10_000


def test_a_discount_is_explicit_and_recorded(world, session):
    _, order = world
    r = order("d0", quantity=1, discount=1_000)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "discount_reason"
    r = order("d1", quantity=1, discount=12_800, discount_reason="free")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "discount"
    r = order("d2", quantity=2, discount=1_000, discount_reason="live-stream coupon")
    assert r.status_code == 201 and r.json()["total"] == 24_600
    row = session.execute(orders.orders.select().where(orders.orders.c.id == r.json()["id"])).one()
    assert (row.unit_price, row.discount, row.discount_reason) == (
        12_800,
        1_000,
        "live-stream coupon",
    )


def test_stock_runs_out_and_comes_back_on_cancellation(world, session, clock):
    tea, order = world
    first = order("s1", quantity=4)
    assert first.status_code == 201
    r = order("s2", quantity=2)
    assert r.status_code == 409 and r.json()["type"].endswith("/out-of-stock")
    assert r.json()["errors"][0]["field"] == "quantity" and r.json()["stock"] == 1
    orders.act(session, clock, first.json()["id"], Action.CANCEL, "s1-cancel", actor="buyer:b1")
    assert catalog.get_listing(session, tea.id).stock == 5
    assert order("s2-again", quantity=5).status_code == 201
    # a retry of a created order takes nothing more
    assert order("s2-again", quantity=5).status_code == 200
    assert catalog.get_listing(session, tea.id).stock == 0


@pytest.mark.postgres
def test_concurrent_orders_never_oversell(db, clock):
    run(db, lambda s: market(s, clock))
    for r in range(6):
        tea = run(db, lambda s, r=r: listing(s, clock, f"race{r}", price=9_900, stock=3))
        outcomes = race(
            db,
            [
                lambda s, i=i, tea=tea, r=r: orders.create_order(
                    s,
                    clock,
                    f"race-{r}-{i}",
                    buyer=f"buyer:r{i}",
                    merchant=MERCHANT,
                    listing_id=tea.id,
                    quantity=1,
                )
                for i in range(8)
            ],
        )
        made = [o for o in outcomes if o.error is None]
        assert len(made) == 3, outcomes
        assert all(isinstance(o.error, OutOfStock) for o in outcomes if o.error is not None)
        assert run(db, lambda s, tea=tea: catalog.get_listing(s, tea.id).stock) == 0
