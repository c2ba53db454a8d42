"""The /v1/ledger HTTP API: roles, idempotency, and bad input answered with problem+json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.ledger.tables import entries, transfers


@pytest.fixture
def app(factory, clock):
    return create_app(clock=clock, sessions=factory)


def key_for(factory, clock, role: str, subject: str | None = None) -> str:
    with factory() as s:
        _, secret = access.create_key(s, clock, role, subject=subject)
        s.commit()
    return secret


@pytest.fixture
def client(app, factory, clock):
    c = TestClient(app)
    c.headers["Authorization"] = f"Bearer {key_for(factory, clock, 'platform')}"
    for body in (
        {"code": "psp", "currency": "CNY"},
        {"code": "escrow", "currency": "CNY", "debits_must_not_exceed_credits": True},
        {"code": "merchant", "currency": "CNY", "debits_must_not_exceed_credits": True},
        {"code": "usd", "currency": "USD"},
    ):
        assert c.post("/v1/ledger/accounts", json=body).status_code == 201
    r = post_transfer(c, "fund", [("psp", "debit", 10_000), ("escrow", "credit", 10_000)])
    assert r.status_code == 201, r.text
    return c


def post_transfer(c, key, legs, **extra):
    body = {"legs": [{"account": a, "side": s, "amount": n} for a, s, n in legs], **extra}
    return c.post("/v1/ledger/transfers", json=body, headers={"Idempotency-Key": key})


def writes(factory) -> tuple[int, int]:
    with factory() as s:
        return (
            s.execute(select(func.count()).select_from(transfers)).scalar_one(),
            s.execute(select(func.count()).select_from(entries)).scalar_one(),
        )


def test_requires_an_api_key(app):
    r = TestClient(app).get("/v1/ledger/accounts")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert "xinren keys create" in r.json()["detail"]
    r = TestClient(app).get("/v1/ledger/accounts", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_roles_are_enforced(app, factory, clock, client):
    buyer = key_for(factory, clock, "buyer", "buyer:7")
    r = TestClient(app).get("/v1/ledger/accounts", headers={"X-API-Key": buyer})
    assert r.status_code == 403 and "buyer" in r.json()["detail"]
    auditor = {"Authorization": f"Bearer {key_for(factory, clock, 'auditor')}"}
    assert TestClient(app).get("/v1/ledger/accounts/escrow", headers=auditor).status_code == 200
    r = TestClient(app).post(
        "/v1/ledger/accounts", json={"code": "x", "currency": "CNY"}, headers=auditor
    )
    assert r.status_code == 403


def test_transfer_replay_and_conflict(client):
    legs = [("escrow", "debit", 2_500), ("merchant", "credit", 2_500)]
    first = post_transfer(client, "settle-1", legs)
    assert first.status_code == 201 and first.json()["replayed"] is False
    again = post_transfer(client, "settle-1", legs)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = post_transfer(client, "settle-1", [("escrow", "debit", 1), ("merchant", "credit", 1)])
    assert other.status_code == 409
    assert other.json()["type"].endswith("idempotency-key-reused")
    acct = client.get("/v1/ledger/accounts/merchant").json()
    assert acct["balance"]["net"] == 2_500 and acct["net_formatted"] == "¥25.00"
    detail = client.get(f"/v1/ledger/transfers/{first.json()['id']}").json()
    assert {e["account"] for e in detail["entries"]} == {"escrow", "merchant"}


BAD_TRANSFERS = [
    (
        "float amount",
        [("escrow", "debit", 10.5), ("merchant", "credit", 10.5)],
        422,
        "legs.0.amount",
    ),
    (
        "string amount",
        [("escrow", "debit", "100"), ("merchant", "credit", "100")],
        422,
        "legs.0.amount",
    ),
    ("zero amount", [("escrow", "debit", 0), ("merchant", "credit", 0)], 422, "legs.0.amount"),
    (
        "negative amount",
        [("escrow", "debit", -5), ("merchant", "credit", -5)],
        422,
        "legs.0.amount",
    ),
    ("unbalanced", [("escrow", "debit", 100), ("merchant", "credit", 99)], 422, "legs"),
    ("wrong currency", [("escrow", "debit", 100), ("usd", "credit", 100)], 422, "legs"),
    (
        "unknown account",
        [("escrow", "debit", 100), ("ghost", "credit", 100)],
        404,
        "legs[1].account",
    ),
    ("bad side", [("escrow", "sideways", 100), ("merchant", "credit", 100)], 422, "legs.0.side"),
    ("one leg", [("escrow", "debit", 100)], 422, "legs"),
    ("over the limit", [("escrow", "debit", 10_001), ("merchant", "credit", 10_001)], 409, "legs"),
]


@pytest.mark.parametrize(
    ("name", "legs", "status", "field"), BAD_TRANSFERS, ids=[b[0] for b in BAD_TRANSFERS]
)
def test_bad_transfers_get_a_specific_problem_and_write_nothing(
    client, factory, name, legs, status, field
):
    before = writes(factory)
    r = post_transfer(client, f"bad-{name.replace(' ', '-')}", legs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["detail"]
    assert field in [e["field"] for e in body.get("errors", [])], body
    assert writes(factory) == before


def test_missing_or_bad_idempotency_key(client, factory):
    before = writes(factory)
    legs = {
        "legs": [
            {"account": "escrow", "side": "debit", "amount": 1},
            {"account": "merchant", "side": "credit", "amount": 1},
        ]
    }
    r = client.post("/v1/ledger/transfers", json=legs)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = client.post("/v1/ledger/transfers", json=legs, headers={"Idempotency-Key": "has space"})
    assert r.status_code == 422
    assert writes(factory) == before


def test_unknown_fields_and_malformed_json_are_refused(client, factory):
    before = writes(factory)
    r = client.post(
        "/v1/ledger/transfers",
        content=b"{not json",
        headers={"Idempotency-Key": "k1", "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    r = client.post("/v1/ledger/accounts", json={"code": "x", "currency": "CNY", "colour": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"
    r = client.post("/v1/ledger/accounts", json={"code": "y", "currency": "XYZ"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "currency"
    assert writes(factory) == before


def test_oversized_requests_are_refused(client, factory):
    before = writes(factory)
    big = {
        "operations": [
            {
                "kind": "transfer",
                "idempotency_key": f"k{i}",
                "legs": [
                    {"account": "psp", "side": "debit", "amount": 1},
                    {"account": "escrow", "side": "credit", "amount": 1},
                ],
            }
            for i in range(8191)
        ]
    }
    r = client.post("/v1/ledger/batches", json=big)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "operations"
    r = client.post(
        "/v1/ledger/transfers",
        content=b"x" * (9 * 1024 * 1024),
        headers={"Idempotency-Key": "huge", "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["type"].endswith("request-too-large")
    assert writes(factory) == before


def test_hold_lifecycle_over_http(client):
    r = client.post(
        "/v1/ledger/holds",
        headers={"Idempotency-Key": "h1"},
        json={
            "debit": "escrow",
            "credit": "merchant",
            "amount": 4_000,
            "expires_at": "2026-02-01T00:00:00Z",
            "expiry_action": "post",
        },
    )
    assert r.status_code == 201, r.text
    hold_id = r.json()["hold_id"]
    assert (
        client.post(
            f"/v1/ledger/holds/{hold_id}/pause", headers={"Idempotency-Key": "h1-pause"}
        ).status_code
        == 201
    )
    assert client.get(f"/v1/ledger/holds/{hold_id}").json()["paused"] is True
    assert (
        client.post(
            f"/v1/ledger/holds/{hold_id}/resume", headers={"Idempotency-Key": "h1-resume"}
        ).status_code
        == 201
    )
    r = client.post(
        f"/v1/ledger/holds/{hold_id}/extend",
        headers={"Idempotency-Key": "h1-ext"},
        json={"expires_at": "2026-03-01T00:00:00Z"},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        f"/v1/ledger/holds/{hold_id}/post",
        headers={"Idempotency-Key": "h1-post"},
        json={"amount": 3_000},
    )
    assert r.status_code == 201
    r = client.post(
        f"/v1/ledger/holds/{hold_id}/void", headers={"Idempotency-Key": "h1-void"}, json={}
    )
    assert r.status_code == 409 and r.json()["hold_status"] == "posted"
    hold = client.get(f"/v1/ledger/holds/{hold_id}").json()
    assert hold["status"] == "posted" and hold["posted_amount"] == 3_000
    assert client.get("/v1/ledger/holds/999999").status_code == 404


def test_batch_over_http(client):
    ops = [
        {
            "kind": "transfer",
            "idempotency_key": "b1",
            "legs": [
                {"account": "escrow", "side": "debit", "amount": 6_000},
                {"account": "merchant", "side": "credit", "amount": 6_000},
            ],
        },
        {
            "kind": "transfer",
            "idempotency_key": "b2",
            "legs": [
                {"account": "escrow", "side": "debit", "amount": 6_000},
                {"account": "merchant", "side": "credit", "amount": 6_000},
            ],
        },
        {
            "kind": "hold",
            "idempotency_key": "b3",
            "debit": "escrow",
            "credit": "merchant",
            "amount": 1_000,
        },
    ]
    r = client.post("/v1/ledger/batches", json={"operations": ops})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["ok"] for x in results] == [True, False, True]
    assert results[1]["problem"]["type"].endswith("limit-exceeded")
    r = client.post(
        "/v1/ledger/batches",
        json={
            "atomic": True,
            "operations": [
                {**ops[1], "idempotency_key": "c1"},
                {**ops[2], "idempotency_key": "c2", "amount": 1},
            ],
        },
    )
    assert [x["ok"] for x in r.json()["results"]] == [False, False]
    assert client.get("/v1/ledger/accounts/escrow").json()["balance"]["available"] == 3_000


def test_lists_are_cursor_paginated(client):
    for i in range(5):
        post_transfer(client, f"p{i}", [("escrow", "debit", 1), ("merchant", "credit", 1)])
    page = client.get("/v1/ledger/accounts/merchant/history", params={"limit": 2}).json()
    seen = [x["entry_id"] for x in page["items"]]
    while page["next_cursor"]:
        page = client.get(
            "/v1/ledger/accounts/merchant/history",
            params={"limit": 2, "cursor": page["next_cursor"]},
        ).json()
        seen += [x["entry_id"] for x in page["items"]]
    assert len(seen) == 5 and seen == sorted(seen)
    accounts = client.get("/v1/ledger/accounts", params={"limit": 3}).json()
    assert len(accounts["items"]) == 3 and accounts["next_cursor"]
    r = client.get("/v1/ledger/accounts", params={"cursor": "abc"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


def test_verify_endpoint(client):
    r = client.get("/v1/ledger/verify")
    assert r.status_code == 200 and r.json()["ok"] is True
