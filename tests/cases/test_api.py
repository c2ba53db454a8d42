"""Complaints and the fund over HTTP: buyers file their own, merchants answer their own,
reviewers decide; staff read the fund and the metrics."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tests.cases.test_stories import completed_order
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.demo import samples
from xinren.parties import deposits


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def setup(factory, clock, tmp_path):
    with factory() as s:
        samples.verified(s, clock, "merchant:tea")
        deposits.pay_deposit(s, clock, "dep", "merchant:tea", 100_000, "CNY")
        order = completed_order(s, clock, "merchant:tea", "tea1", 12_800, "tea")
        keys = {
            name: access.create_key(s, clock, role, subject=subject)[1]
            for name, role, subject in [
                ("buyer", "buyer", order.buyer),
                ("stranger", "buyer", "buyer:nobody"),
                ("shop", "merchant", "merchant:tea"),
                ("other_shop", "merchant", "merchant:other"),
                ("reviewer", "reviewer", "reviewer:li"),
                ("platform", "platform", None),
                ("auditor", "auditor", None),
            ]
        }
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory))

    def call(who, method, path, idem=None, **kw):
        headers = {"Authorization": f"Bearer {keys[who]}"}
        if idem:
            headers["Idempotency-Key"] = idem
        return client.request(method, path, headers=headers, **kw)

    return order, call


def test_complaint_flow_and_roles(setup):
    order, call = setup
    body = {
        "order_id": order.id,
        "kind": "counterfeit",
        "statement": "the tea is fake",
        "evidence": [{"ref": f"order:{order.id}", "note": "the order"}],
    }
    assert call("shop", "POST", "/v1/cases", "c1", json=body).status_code == 403
    assert call("stranger", "POST", "/v1/cases", "c1", json=body).status_code == 403
    r = call("buyer", "POST", "/v1/cases", "c1", json=body)
    assert r.status_code == 201, r.text
    case = r.json()
    assert call("stranger", "GET", f"/v1/cases/{case['id']}").status_code == 404
    assert (
        call(
            "other_shop", "POST", f"/v1/cases/{case['id']}/response", json={"statement": "x"}
        ).status_code
        == 404
    )
    r = call(
        "shop", "POST", f"/v1/cases/{case['id']}/response", json={"statement": "genuine Longjing"}
    )
    assert r.json()["state"] == "in_mediation"
    assert (
        call("reviewer", "POST", f"/v1/cases/{case['id']}/decision", "d0", json={}).status_code
        == 422
    )
    decision = {
        "outcome": "for_buyer",
        "finding": "counterfeit",
        "reasons": "lab comparison",
        "relied_on": [f"order:{order.id}"],
    }
    assert (
        call("shop", "POST", f"/v1/cases/{case['id']}/decision", "d", json=decision).status_code
        == 403
    )
    r = call("reviewer", "POST", f"/v1/cases/{case['id']}/decision", "d", json=decision)
    assert r.status_code == 200 and r.json()["compensation"] == 50_000
    again = call("reviewer", "POST", f"/v1/cases/{case['id']}/decision", "d", json=decision)
    assert again.json() == r.json()
    assert [c["id"] for c in call("buyer", "GET", "/v1/cases").json()] == [case["id"]]
    assert call("other_shop", "GET", "/v1/cases").json() == []
    m = call("auditor", "GET", "/v1/cases/metrics").json()
    assert m["decided"] == 1 and m["compensation_paid"] == 50_000
    assert call("buyer", "GET", "/v1/cases/metrics").status_code == 403
    fund = call("auditor", "GET", "/v1/remedies/fund").json()
    assert fund["paid_first"] == 0
    r = call("platform", "POST", "/v1/remedies/fund/top-ups", "t1", json={"amount": 1_000_000})
    assert r.json()["balance"] == 1_000_000
    assert (
        call("buyer", "POST", "/v1/remedies/fund/top-ups", "t2", json={"amount": 1}).status_code
        == 403
    )
