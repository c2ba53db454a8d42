"""Hole 5: a duplicate sent while the first request is still running gets the first result
(or a 409 concurrent-request with Retry-After), never a refusal and never a 500 (PostgreSQL).

Before the fix 8 simultaneous `POST /v1/orders` under one key gave 70 x 500 in 80 tries (a
unique violation), and simultaneous duplicates of a hold post, an order's payment and a
complaint's filing got 409s that read like final refusals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integrity.world import MERCHANT, market, settled_order
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.db import make_engine, session_factory
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.unit_of_work import run

pytestmark = pytest.mark.postgres
ROUNDS = 6
RACERS = 8


@pytest.fixture
def server(fresh_url: str, clock: FakeClock) -> Iterator[tuple[Any, dict[str, str]]]:
    engine = make_engine(fresh_url)
    db = session_factory(engine)

    def setup(s: Any) -> dict[str, str]:
        market(s, clock)
        settled_order(s, clock, "seed", 1_000)
        return {
            "platform": access.create_key(s, clock, "platform")[1],
            **{
                f"buyer:b{r}": access.create_key(s, clock, "buyer", subject=f"buyer:b{r}")[1]
                for r in range(ROUNDS)
            },
        }

    keys = run(db, setup)
    yield (create_app(engine, clock=clock), db), keys
    engine.dispose()


def _storm(app: Any, key: str, method: str, path: str, idem: str, body: Any) -> list[Any]:
    """`RACERS` identical requests released together, each on its own client."""
    gate = threading.Barrier(RACERS)
    answers: list[Any] = [None] * RACERS
    clients = [TestClient(app) for _ in range(RACERS)]

    def send(i: int) -> None:
        gate.wait()
        answers[i] = clients[i].request(
            method,
            path,
            json=body,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem},
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return answers


def _one_result(answers: list[Any], same: Callable[[dict[str, Any]], Any]) -> Any:
    """Every answer is the first request's result, or a retryable 409; returns the result."""
    results = set()
    for r in answers:
        assert r is not None, "a request hung"
        assert r.status_code < 500, r.text
        if r.status_code == 409:
            assert r.json()["type"].endswith("/concurrent-request"), r.text
            assert r.headers.get("retry-after"), r.headers
            continue
        assert r.status_code in (200, 201), r.text
        results.add(same(r.json()))
    assert len(results) == 1, results
    return results.pop()


def _order(app: Any, keys: dict[str, str], n: int) -> dict[str, Any]:
    r = TestClient(app).post(
        "/v1/orders",
        json={
            "buyer": f"buyer:b{n}",
            "merchant": MERCHANT,
            "total": 12_800,
            "currency": "CNY",
            "category": "tea",
        },
        headers={"Authorization": f"Bearer {keys['platform']}", "Idempotency-Key": f"mk-{n}"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_simultaneous_order_creations_under_one_key_make_one_order(server):
    (app, db), keys = server
    for n in range(ROUNDS):
        body = {
            "buyer": f"buyer:b{n}",
            "merchant": MERCHANT,
            "total": 12_800,
            "currency": "CNY",
            "category": "tea",
        }
        answers = _storm(app, keys["platform"], "POST", "/v1/orders", f"create-{n}", body)
        order_id = _one_result(answers, lambda b: b["id"])
        assert sum(1 for r in answers if r.status_code == 201) <= 1
        made = run(
            db,
            lambda s, order_id=order_id: orders.get_order(s, order_id),
        )
        assert made.buyer == f"buyer:b{n}"


def test_simultaneous_payments_under_one_key_pay_once(server):
    (app, db), keys = server
    for n in range(ROUNDS):
        order = _order(app, keys, n)
        answers = _storm(
            app, keys["platform"], "POST", f"/v1/orders/{order['id']}/pay", f"pay-{n}", {}
        )
        _one_result(answers, lambda b: (b["status"], b["paid"]))
        escrow = run(db, lambda s, o=order: ledger.get_account(s, orders.escrow(o["id"])))
        assert escrow.balance.net == 12_800


def test_simultaneous_posts_of_one_hold_under_one_key_post_it_once(server):
    (app, db), keys = server
    platform = {"Authorization": f"Bearer {keys['platform']}"}
    client = TestClient(app)
    for code in ("dup:from", "dup:to"):
        r = client.post(
            "/v1/ledger/accounts", json={"code": code, "currency": "CNY"}, headers=platform
        )
        assert r.status_code in (200, 201), r.text
    for n in range(ROUNDS):
        r = client.post(
            "/v1/ledger/holds",
            json={"debit": "dup:from", "credit": "dup:to", "amount": 500},
            headers={**platform, "Idempotency-Key": f"hold-{n}"},
        )
        assert r.status_code == 201, r.text
        hold_id = r.json()["hold_id"]
        answers = _storm(
            app, keys["platform"], "POST", f"/v1/ledger/holds/{hold_id}/post", f"post-{n}", {}
        )
        _one_result(answers, lambda b: b["id"])
    to = run(db, lambda s: ledger.get_account(s, "dup:to"))
    assert to.balance.credits_posted == 500 * ROUNDS and to.balance.credits_pending == 0


def test_simultaneous_complaints_under_one_key_file_one_case(server, clock):
    (app, db), _ = server
    for n in range(ROUNDS):
        order = run(db, lambda s, n=n: settled_order(s, clock, f"case{n}", 9_900))
        buyer_key = run(
            db, lambda s, b=order.buyer: access.create_key(s, clock, "buyer", subject=b)[1]
        )
        body = {
            "order_id": order.id,
            "kind": "counterfeit",
            "statement": "the tea is fake",
            "evidence": [],
        }
        answers = _storm(app, buyer_key, "POST", "/v1/cases", f"complain-{n}", body)
        _one_result(answers, lambda b: b["id"])
