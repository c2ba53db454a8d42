"""POST /v1/orders/batch over HTTP: many create+pay, ship and confirm steps in one transaction,
each with its own key and its own result; a bad item or a key sent twice is refused alone."""

from __future__ import annotations

import pytest

from tests.orders.test_api import app, call, keys  # noqa: F401 (fixtures)

ORDER = {"buyer": "buyer:7", "merchant": "merchant:42", "total": 10_000, "currency": "CNY"}


@pytest.fixture
def funded(app, keys):  # noqa: F811
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/merchants/merchant:42/deposit",
        "dep-42",
        json={"amount": 100_000, "currency": "CNY"},
    )
    assert r.status_code == 200, r.text


def batch(app, key, items):  # noqa: F811
    return call(app, key, "POST", "/v1/orders/batch", json={"items": items})


def created(app, keys, n):  # noqa: F811
    items = [
        {"step": "create_and_pay", "idempotency_key": f"b-{i}", "order": ORDER} for i in range(n)
    ]
    r = batch(app, keys["platform"], items)
    assert r.status_code == 200, r.text
    return [res["order"]["id"] for res in r.json()["results"]]


def test_each_item_has_its_own_result(app, keys, funded):  # noqa: F811
    items = [
        {"step": "create_and_pay", "idempotency_key": "c-1", "order": ORDER},
        {"step": "create_and_pay", "idempotency_key": "c-1", "order": ORDER},  # sent twice
        {"step": "create_and_pay", "idempotency_key": "c-2", "order": ORDER | {"total": 0}},
        {"step": "create_and_pay", "idempotency_key": "c-3", "order": ORDER | {"buyer": "x"}},
        {"step": "ship", "idempotency_key": "c-4"},  # no order_id
        {"step": "create_and_pay", "idempotency_key": "a#c-5", "order": ORDER},  # forged scope
        {"step": "create_and_pay", "idempotency_key": "c-6", "order": ORDER},
    ]
    r = batch(app, keys["platform"], items)
    assert r.status_code == 422  # a body the schema refuses (total 0) refuses the request
    del items[2]
    r = batch(app, keys["platform"], items)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, False, False, False, True]
    assert results[1]["problem"]["errors"][0]["field"] == "items[1].idempotency_key"
    assert results[2]["problem"]["errors"][0]["field"] == "buyer"
    assert results[3]["problem"]["errors"][0]["field"] == "items[3].order_id"
    assert results[4]["problem"]["errors"][0]["field"] == "items[4].idempotency_key"
    first, last = results[0]["order"], results[5]["order"]
    assert first["status"] == last["status"] == "paid" and first["held"] == 10_000
    assert first["id"] != last["id"]
    listed = call(app, keys["platform"], "GET", "/v1/orders").json()["items"]
    assert [o["id"] for o in listed] == [first["id"], last["id"]]  # the bad items left nothing


def test_a_batch_sent_again_replays(app, keys, funded):  # noqa: F811
    ids = created(app, keys, 3)
    items = [
        {"step": "create_and_pay", "idempotency_key": f"b-{i}", "order": ORDER} for i in range(3)
    ]
    again = batch(app, keys["platform"], items).json()["results"]
    assert [x["order"]["id"] for x in again] == ids
    assert all(x["order"]["replayed"] for x in again)
    changed = [items[0] | {"order": ORDER | {"total": 20_000}}]
    r = batch(app, keys["platform"], changed).json()["results"][0]
    assert not r["ok"] and r["problem"]["errors"][0]["field"] == "idempotency_key"


def test_ship_and_confirm_in_bulk_settle_and_reconcile(app, keys, funded):  # noqa: F811
    ids = created(app, keys, 3)
    ship = [{"step": "ship", "idempotency_key": f"s-{i}", "order_id": i} for i in ids]
    ship.append({"step": "ship", "idempotency_key": "s-x", "order_id": 999_999})
    shipped = batch(app, keys["platform"], ship).json()["results"]
    assert [x["ok"] for x in shipped] == [True, True, True, False]
    assert shipped[3]["problem"]["errors"][0]["field"] == "order_id"
    confirm = [{"step": "confirm", "idempotency_key": f"k-{i}", "order_id": i} for i in ids]
    confirm.insert(1, {"step": "confirm", "idempotency_key": "k-again", "order_id": ids[0]})
    done = batch(app, keys["platform"], confirm).json()["results"]
    assert [x["ok"] for x in done] == [True, False, True, True]  # an order confirms once
    assert all(x["order"]["status"] == "completed" for x in done if x["ok"])
    assert all(x["order"]["held"] == 0 for x in done if x["ok"])
    verify = call(app, keys["auditor"], "GET", "/v1/ledger/verify").json()
    assert verify["ok"] and verify["problems"] == []


def test_only_the_platform_sends_batches(app, keys, funded):  # noqa: F811
    items = [{"step": "create_and_pay", "idempotency_key": "m-1", "order": ORDER}]
    assert batch(app, keys["merchant"], items).status_code == 403
    too_many = items * 501
    assert batch(app, keys["platform"], too_many).status_code == 422
