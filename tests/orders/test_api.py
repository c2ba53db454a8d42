"""/v1/orders over HTTP: the authorization matrix and the event feed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.demo import samples
from xinren.orders import model
from xinren.orders.model import Action


@pytest.fixture
def app(factory, clock):
    return create_app(clock=clock, sessions=factory)


@pytest.fixture
def keys(factory, clock):
    made = {}
    with factory() as s:
        for name, role, subject in [
            ("platform", "platform", None),
            ("buyer", "buyer", "buyer:7"),
            ("other_buyer", "buyer", "buyer:8"),
            ("merchant", "merchant", "merchant:42"),
            ("other_merchant", "merchant", "merchant:43"),
            ("reviewer", "reviewer", "reviewer:li"),
            ("auditor", "auditor", None),
            ("host", "host", "host:1"),
        ]:
            made[name] = access.create_key(s, clock, role, subject=subject)[1]
        for trader in ("merchant:42", "merchant:43", "host:1"):
            samples.verified(s, clock, trader)
        s.commit()
    return made


def call(app, key, method, path, idem=None, **kw):
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return TestClient(app).request(method, path, headers=headers, **kw)


@pytest.fixture
def order_id(app, keys):
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/merchants/merchant:42/deposit",
        "dep-42",
        json={"amount": 100_000, "currency": "CNY"},
    )
    assert r.status_code == 200 and r.json()["balance"] == 100_000
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/orders",
        "o-1",
        json={"buyer": "buyer:7", "merchant": "merchant:42", "total": 19_900, "currency": "CNY"},
    )
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    assert (
        call(app, keys["platform"], "POST", f"/v1/orders/{oid}/pay", "o-1-pay", json={}).status_code
        == 200
    )
    return oid


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("platform", 200),
        ("buyer", 200),
        ("merchant", 200),
        ("reviewer", 200),
        ("auditor", 200),
        ("other_buyer", 404),
        ("other_merchant", 404),
        ("host", 404),
    ],
)
def test_who_may_see_an_order(app, keys, order_id, who, status):
    assert call(app, keys[who], "GET", f"/v1/orders/{order_id}").status_code == status


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("merchant", "ship", 200),
        ("buyer", "ship", 403),
        ("other_merchant", "ship", 404),
        ("buyer", "request_refund", 200),
        ("other_buyer", "request_refund", 404),
        ("merchant", "request_refund", 403),
        ("reviewer", "ship", 403),
        ("host", "ship", 404),
        ("platform", "ship", 200),
    ],
)
def test_who_may_act(app, keys, order_id, who, action, status):
    r = call(
        app, keys[who], "POST", f"/v1/orders/{order_id}/{action}", f"k-{who}-{action}", json={}
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(
        "application/json" if status == 200 else "application/problem+json"
    )


def test_lists_show_only_own_orders(app, keys, order_id):
    assert [o["id"] for o in call(app, keys["buyer"], "GET", "/v1/orders").json()["items"]] == [
        order_id
    ]
    assert call(app, keys["other_buyer"], "GET", "/v1/orders").json()["items"] == []


def test_illegal_transition_names_state_and_allowed_actions(app, keys, order_id):
    r = call(app, keys["buyer"], "POST", f"/v1/orders/{order_id}/confirm", "c1", json={})
    assert r.status_code == 409
    body = r.json()
    assert body["status"] == 409 and "paid" in body["detail"]
    assert body["allowed"] == ["cancel", "ship", "request_refund", "open_dispute"]


def test_bad_order_input(app, keys):
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/orders",
        "bad-1",
        json={"buyer": "buyer:7", "merchant": "merchant:42", "total": 19.9, "currency": "CNY"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "total"
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/orders",
        "bad-2",
        json={"buyer": "someone", "merchant": "merchant:42", "total": 100, "currency": "CNY"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "buyer"
    r = call(
        app,
        keys["buyer"],
        "POST",
        "/v1/orders",
        "bad-3",
        json={"buyer": "buyer:7", "merchant": "merchant:42", "total": 100, "currency": "CNY"},
    )
    assert r.status_code == 403


@pytest.mark.alone  # the feed's horizon is cluster-wide: no other worker's transaction beside it
def test_event_feed_in_order(app, keys, order_id):
    call(app, keys["merchant"], "POST", f"/v1/orders/{order_id}/ship", "s1", json={})
    page = call(app, keys["platform"], "GET", "/v1/events", params={"after": 0}).json()
    topics = [e["topic"] for e in page["items"] if e["subject"] == f"order:{order_id}"]
    assert topics == ["order.created", "order.paid", "order.shipped"]
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids)
    rest = call(
        app, keys["platform"], "GET", "/v1/events", params={"after": page["next_cursor"]}
    ).json()
    assert rest["items"] == []
    assert call(app, keys["buyer"], "GET", "/v1/events").status_code == 403


def test_orders_refused_from_unverified_traders_and_without_a_deposit(app, keys, factory, clock):
    body = {"buyer": "buyer:7", "merchant": "merchant:99", "total": 100, "currency": "CNY"}
    r = call(app, keys["platform"], "POST", "/v1/orders", "nodep", json=body)
    assert r.status_code == 409 and r.json()["type"].endswith("trader-not-verified")
    assert "register it" in r.json()["detail"] and r.json()["errors"][0]["field"] == "merchant"
    with factory() as s:
        samples.verified(s, clock, "merchant:99")
        s.commit()
    r = call(
        app,
        keys["platform"],
        "POST",
        "/v1/orders",
        "nodep",
        json={"buyer": "buyer:7", "merchant": "merchant:99", "total": 100, "currency": "CNY"},
    )
    assert r.status_code == 409 and r.json()["type"].endswith("deposit-too-low")
    assert "POST /v1/merchants/merchant:99/deposit" in r.json()["detail"]
    assert (
        call(app, keys["merchant"], "GET", "/v1/merchants/merchant:99/deposit").status_code == 404
    )
    assert (
        call(app, keys["platform"], "GET", "/v1/merchants/merchant:99/deposit").json()["balance"]
        == 0
    )


ROLES = [
    "platform",
    "buyer",
    "other_buyer",
    "merchant",
    "other_merchant",
    "reviewer",
    "auditor",
    "host",
]


def expected(who: str, action: Action) -> set[int]:
    """What each caller may get for an action on buyer:7 / merchant:42's order."""
    if who in ("other_buyer", "other_merchant", "host"):
        return {404}  # not party to the order: it does not exist for them
    if who == "platform":
        return {200, 409, 422}  # allowed; the state may still refuse it
    role = "buyer" if who == "buyer" else "merchant" if who == "merchant" else who
    if action in model.ROLE_ACTIONS.get(role, frozenset()):
        return {200, 409, 422}
    return {403}


@pytest.mark.parametrize("who", ROLES)
def test_the_whole_authorization_matrix(app, keys, order_id, who):
    for action in Action:
        r = call(
            app,
            keys[who],
            "POST",
            f"/v1/orders/{order_id}/{action.value}",
            f"m-{who}-{action.value}",
            json={},
        )
        assert r.status_code in expected(who, action), (who, action, r.text)


def test_return_reason_reaches_the_policy_over_http(app, keys, order_id, clock):
    for action, who in (("ship", "merchant"), ("deliver", "platform")):
        assert (
            call(
                app, keys[who], "POST", f"/v1/orders/{order_id}/{action}", f"r-{action}", json={}
            ).status_code
            == 200
        )
    clock.advance(days=8)
    r = call(
        app,
        keys["buyer"],
        "POST",
        f"/v1/orders/{order_id}/request_refund",
        "r-late",
        json={"kind": "return_and_refund", "reason": "no_reason"},
    )
    assert r.status_code == 409 and r.json()["type"].endswith("return-not-allowed")
    r = call(
        app,
        keys["buyer"],
        "POST",
        f"/v1/orders/{order_id}/request_refund",
        "r-bad",
        json={"kind": "return_and_refund", "reason": "defective"},
    )
    assert r.status_code == 200 and r.json()["after_sales"] == "refund_requested"
