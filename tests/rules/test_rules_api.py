"""Rules, violations and appeals over HTTP: public rules, reviewers decide, merchants see and
appeal their own, statements of reasons in DSA format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents.store import FileStore
from xinren.parties import deposits


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def setup(factory, clock, tmp_path):
    store = FileStore(tmp_path / "docs")
    with factory() as s:
        case = stories.phone_case(s, clock, store, "r")
        keys = {
            name: access.create_key(s, clock, role, subject=subject)[1]
            for name, role, subject in [
                ("reviewer", "reviewer", "reviewer:a"),
                ("reviewer_b", "reviewer", "reviewer:b"),
                ("platform", "platform", None),
                ("shop", "merchant", case.refs["shop"]),
                ("other", "merchant", "merchant:other"),
            ]
        }
        s.commit()
    client = TestClient(create_app(clock=clock, sessions=factory, store=store))

    def call(who, method, path, idem=None, **kw):
        headers = ({"Authorization": f"Bearer {keys[who]}"} if who else {}) | kw.pop("headers", {})
        if idem:
            headers["Idempotency-Key"] = idem
        return client.request(method, path, headers=headers, **kw)

    return case, call


def body(case, clock, **kw):
    return {
        "subject": case.refs["shop"],
        "rule_id": "CF-1",
        "conduct_at": (clock.now() - timedelta(hours=2)).isoformat(),
        "facts": "independent sampling found counterfeit goods in lot P50",
        "evidence": [f"document:{case.docs['report']}"],
        "source": "inspection",
        "sanctions": [{"kind": "penalty_payment"}],
    } | kw


def test_published_rules_are_public(setup):
    _, call = setup
    books = call(None, "GET", "/v1/rules").json()
    assert [b["version"] for b in books] == ["2026.1", "2025.1"]
    cf = next(r for r in books[0]["rules"] if r["id"] == "CF-1")
    assert cf["title"]["zh"] == "出售假冒商品" and cf["penalty"] == 500_000
    assert call(None, "GET", "/v1/rules/2026.2").status_code == 404  # a draft is not published


def test_violation_statement_and_appeal_over_http(setup, clock, factory):
    case, call = setup
    shop = case.refs["shop"]
    with factory() as s:
        before = deposits.deposit_balance(s, shop)
    assert call("shop", "POST", "/v1/violations", "v1", json=body(case, clock)).status_code == 403
    r = call("platform", "POST", "/v1/violations", "v1", json=body(case, clock))
    assert r.status_code == 403  # the back end records automated decisions only
    r = call("reviewer", "POST", "/v1/violations", "v1", json=body(case, clock))
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["rule_version"] == "2026.1" and v["points"] == 12
    assert {s["kind"] for s in v["sanctions"]} >= {"penalty_payment", "traffic_restriction"}
    # the merchant sees its own; another merchant sees nothing
    assert call("shop", "GET", f"/v1/violations/{v['id']}").status_code == 200
    assert call("other", "GET", f"/v1/violations/{v['id']}").status_code == 404
    assert call("other", "GET", "/v1/violations", params={"subject": shop}).status_code == 403
    listed = call("shop", "GET", "/v1/violations").json()["items"]
    assert [x["id"] for x in listed] == [v["id"]]
    sor = call("shop", "GET", f"/v1/violations/{v['id']}/statement", params={"lang": "zh"}).json()
    assert sor["dsa"]["decision_monetary"] == "DECISION_MONETARY_OTHER"
    assert sor["dsa"]["category"] == "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS"
    assert "CF-1" in sor["text"] and "180" in sor["text"]
    # a fine the rule does not permit is refused and writes nothing
    bad = body(case, clock, rule_id="LF-1", evidence=[f"order:{case.order_id}"])
    r = call("reviewer", "POST", "/v1/violations", "v2", json=bad)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "sanctions"
    # the appeal
    r = call(
        "shop", "POST", f"/v1/violations/{v['id']}/appeals", "ap", json={"grounds": "wrong lot"}
    )
    assert r.status_code == 201
    appeal = r.json()
    r = call(
        "reviewer",
        "POST",
        f"/v1/appeals/{appeal['id']}/decision",
        json={"outcome": "overturned", "reasons": "x"},
    )
    assert r.status_code == 403  # reviewer:a took the decision
    r = call(
        "reviewer_b",
        "POST",
        f"/v1/appeals/{appeal['id']}/decision",
        json={"outcome": "overturned", "reasons": "the sample came from another lot"},
    )
    assert r.status_code == 200 and r.json()["status"] == "overturned"
    with factory() as s:
        assert deposits.deposit_balance(s, shop) == before
    after = call("shop", "GET", f"/v1/violations/{v['id']}").json()
    assert after["status"] == "overturned" and after["points_now"]["serious"] == 0


def test_backtest_over_http_changes_nothing(setup, clock):
    case, call = setup
    assert (
        call(
            "reviewer", "POST", "/v1/violations", "v1", json=body(case, clock, sanctions=[])
        ).status_code
        == 201
    )
    from importlib.resources import files

    draft = (files("xinren.policies") / "rulebook" / "drafts" / "2026.2.yaml").read_text("utf-8")
    r = call(
        "reviewer",
        "POST",
        "/v1/rules/backtest",
        content=draft,
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 200, r.text
    assert any(c["change"] == "appears" for c in r.json()["changes"])
    r = call(
        "reviewer",
        "POST",
        "/v1/rules/backtest",
        content="version: x",
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 422
    assert call("shop", "POST", "/v1/rules/backtest", content=draft).status_code == 403
