"""Hole 6: idempotency keys belong to their caller; hole 11: keys Xinren derives from them have
a fixed length.

Before the fix buyer B's request under a key buyer A had used was refused with a 409 naming A's
case, and a second platform key got the first key's ledger result; a valid 124-character key
made PAY fail on a field the caller never sent (`operations[0].idempotency_key`).
"""

from __future__ import annotations

import pytest

from tests.integrity.world import MERCHANT, caller, market, settled_order
from xinren.access import service as access
from xinren.ids import derived, scoped, unscoped


@pytest.fixture
def world(factory, clock):
    with factory() as s:
        market(s, clock)
        a = settled_order(s, clock, "a", 12_800)
        b = settled_order(s, clock, "b", 9_900)
        keys = {
            "buyer_a": access.create_key(s, clock, "buyer", subject=a.buyer)[1],
            "buyer_b": access.create_key(s, clock, "buyer", subject=b.buyer)[1],
            "platform_1": access.create_key(s, clock, "platform", name="shop front")[1],
            "platform_2": access.create_key(s, clock, "platform", name="other integrator")[1],
        }
        s.commit()
    call = caller(factory, clock, keys)
    return a, b, call


def _complaint(order):
    return {"order_id": order.id, "kind": "counterfeit", "statement": "fake", "evidence": []}


def test_two_buyers_may_use_the_same_key(world):
    a, b, call = world
    first = call("buyer_a", "POST", "/v1/cases", "complaint-1", json=_complaint(a))
    second = call("buyer_b", "POST", "/v1/cases", "complaint-1", json=_complaint(b))
    assert first.status_code == 201 and second.status_code == 201, second.text
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["order_id"] == b.id
    # a's retry still replays a's own case
    again = call("buyer_a", "POST", "/v1/cases", "complaint-1", json=_complaint(a))
    assert again.json()["id"] == first.json()["id"]


def test_another_partys_key_neither_replays_nor_reveals_a_request(world):
    a, _, call = world
    first = call("buyer_a", "POST", "/v1/cases", "k", json=_complaint(a)).json()
    # b sends a's very request under a's key: before, that replayed a's case to b
    r = call("buyer_b", "POST", "/v1/cases", "k", json=_complaint(a))
    assert r.status_code == 403, r.text
    assert f"case {first['id']}" not in r.text and '"statement"' not in r.text


def _transfer(amount):
    return {
        "legs": [
            {"account": "pool:a", "side": "debit", "amount": amount},
            {"account": "pool:b", "side": "credit", "amount": amount},
        ]
    }


def test_two_platform_keys_do_not_share_ledger_results(world):
    _, _, call = world
    for code in ("pool:a", "pool:b"):
        r = call(
            "platform_1", "POST", "/v1/ledger/accounts", json={"code": code, "currency": "CNY"}
        )
        assert r.status_code == 201, r.text
    one = call("platform_1", "POST", "/v1/ledger/transfers", "t-1", json=_transfer(100))
    two = call("platform_2", "POST", "/v1/ledger/transfers", "t-1", json=_transfer(250))
    assert one.status_code == 201 and two.status_code == 201, two.text
    assert one.json()["id"] != two.json()["id"]
    assert one.json()["idempotency_key"] == two.json()["idempotency_key"] == "t-1"
    # the same caller's reuse with another payload is still refused, and its replay replays
    reused = call("platform_1", "POST", "/v1/ledger/transfers", "t-1", json=_transfer(7))
    assert reused.status_code == 409 and reused.json()["type"].endswith("idempotency-key-reused")
    replay = call("platform_1", "POST", "/v1/ledger/transfers", "t-1", json=_transfer(100))
    assert replay.status_code == 200 and replay.json()["id"] == one.json()["id"]
    # batches are scoped the same way
    batch = {
        "operations": [{"kind": "transfer", "idempotency_key": "t-1", **_transfer(100)}],
    }
    r = call("platform_2", "POST", "/v1/ledger/batches", json=batch)
    (result,) = r.json()["results"]
    assert not result["ok"], "platform 2 used t-1 for 250, not 100"
    r = call("platform_1", "POST", "/v1/ledger/batches", json=batch)
    (result,) = r.json()["results"]
    assert (
        result["ok"] and result["result"]["replayed"] and result["result"]["id"] == one.json()["id"]
    )


def test_a_key_may_not_pretend_to_be_scoped(world):
    _, _, call = world
    r = call("platform_1", "POST", "/v1/ledger/transfers", "key:1#t-1", json=_transfer(1))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


def test_the_longest_client_key_works_everywhere_a_key_is_derived_from_it(world, factory, clock):
    a, _, call = world
    longest = "k" * 128
    r = call(
        "platform_1",
        "POST",
        "/v1/orders",
        longest,
        json={
            "buyer": "buyer:long",
            "merchant": MERCHANT,
            "total": 5_000,
            "currency": "CNY",
            "category": "tea",
        },
    )
    assert r.status_code == 201, r.text
    order_id = r.json()["id"]
    for action in ("pay", "ship"):
        r = call(
            "platform_1",
            "POST",
            f"/v1/orders/{order_id}/{action}",
            longest[:-1] + action[0],
            json={},
        )
        assert r.status_code == 200, r.text
    r = call("buyer_a", "POST", "/v1/cases", longest, json=_complaint(a))
    assert r.status_code == 201, r.text


def test_derived_keys_have_a_fixed_length():
    short, long_ = derived("order", 1, "k", 0), derived("order", 1, "x" * 250, 0)
    assert len(short) == len(long_) == 68 and short != long_
    assert derived("a", "b:c") != derived("a:b", "c")
    assert unscoped(scoped("buyer:b", "k-1")) == "k-1"
