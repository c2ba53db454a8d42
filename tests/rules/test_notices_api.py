"""Notices over HTTP, with the role matrix: anyone reports in its own name, reviewers decide
and award trusted-flagger status, a reporter sees its own notices and record, staff see all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.demo import samples

SHOP = "merchant:honest"


@pytest.fixture
def keys(factory, clock):
    with factory() as s:
        samples.verified(s, clock, SHOP)
        found = {}
        for name, role, subject in [
            ("reviewer", "reviewer", "reviewer:ann"),
            ("admin", "admin", None),
            ("auditor", "auditor", None),
            ("platform", "platform", None),
            ("shop", "merchant", SHOP),
            ("troll", "buyer", "buyer:troll"),
            ("buyer", "buyer", "buyer:other"),
            ("lab", "lab", "lab:cti"),
        ]:
            found[name] = access.create_key(s, clock, role, subject=subject)[1]
        s.commit()
    return found


@pytest.fixture
def client(factory, clock):
    return TestClient(create_app(clock=clock, sessions=factory))


def call(client, key, method, path, idem=None, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if idem:
        headers["Idempotency-Key"] = idem
    return client.request(method, path, headers=headers, **kw)


def report(client, key, idem, target=SHOP, category="misrepresentation", text="not as described"):
    body = {"target": target, "category": category, "text": text}
    return call(client, key, "POST", "/v1/notices", idem, json=body)


def decision(client, key, notice_id, idem, outcome="manifestly_unfounded", **body):
    body = {"outcome": outcome, "reason": "the order shows the goods matched"} | body
    return call(client, key, "POST", f"/v1/notices/{notice_id}/decision", idem, json=body)


def test_filing_is_in_the_callers_own_name(client, keys):
    r = report(client, keys["troll"], "n1")
    assert r.status_code == 201, r.text
    assert r.json()["reporter"] == "buyer:troll" and r.json()["status"] == "open"
    again = report(client, keys["troll"], "n1")
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert report(client, keys["troll"], "n1", text="other").status_code == 409
    # a key without a party reports as itself
    assert report(client, keys["platform"], "n2").json()["reporter"].startswith("platform:")
    # the reporter cannot be chosen in the body
    body = {"target": SHOP, "category": "other", "text": "x", "reporter": "buyer:other"}
    assert call(client, keys["troll"], "POST", "/v1/notices", "n3", json=body).status_code == 422
    assert report(client, None, "n4").status_code == 401
    r = call(client, keys["troll"], "POST", "/v1/notices", json={"target": SHOP})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "rudeness"}, "category"),
        ({"target": "shop:1"}, "target"),
        ({"target": "merchant:nobody"}, "target"),
        ({"text": ""}, "text"),
        ({"target": "buyer:x", "category": "malicious_orders"}, "target"),
    ],
)
def test_bad_notices_name_the_field(client, keys, body, field):
    r = report(client, keys["troll"], "bad", **body)
    assert r.status_code in (404, 422), r.text
    assert r.json()["errors"][0]["field"] == field
    queue = call(client, keys["reviewer"], "GET", "/v1/notices/queue").json()["items"]
    assert queue == []


def test_only_a_merchant_complains_about_a_buyer(client, keys):
    r = report(client, keys["shop"], "m1", target="buyer:troll", category="malicious_orders")
    assert r.status_code == 201, r.text
    assert decision(client, keys["reviewer"], r.json()["id"], "m1-d", "founded").status_code == 200
    record = call(client, keys["reviewer"], "GET", "/v1/reporters/buyer:troll").json()
    assert [n["id"] for n in record["founded_against"]] == [r.json()["id"]]


def test_role_matrix(client, keys):
    notice = report(client, keys["troll"], "r1").json()
    nid = notice["id"]
    # the queue and decisions are for reviewers (and admins)
    for name, code in [
        ("troll", 403),
        ("shop", 403),
        ("auditor", 403),
        ("platform", 403),
        ("reviewer", 200),
        ("admin", 200),
    ]:
        assert call(client, keys[name], "GET", "/v1/notices/queue").status_code == code, name
    for name in ("troll", "shop", "auditor", "platform"):
        assert decision(client, keys[name], nid, f"x-{name}").status_code == 403, name
    # a notice is for its reporter and staff, not for its target or other buyers
    for name, code in [
        ("troll", 200),
        ("reviewer", 200),
        ("auditor", 200),
        ("platform", 200),
        ("shop", 403),
        ("buyer", 403),
    ]:
        assert call(client, keys[name], "GET", f"/v1/notices/{nid}").status_code == code, name
    assert call(client, keys["reviewer"], "GET", "/v1/notices/999999").status_code == 404
    # a reporter's record is for staff and the party itself
    for name, code in [("troll", 200), ("auditor", 200), ("reviewer", 200), ("buyer", 403)]:
        r = call(client, keys[name], "GET", "/v1/reporters/buyer:troll")
        assert r.status_code == code, name
    # trusted-flagger status is for reviewers to award
    for name, code in [("lab", 403), ("auditor", 403), ("platform", 403), ("reviewer", 200)]:
        r = call(client, keys[name], "PUT", "/v1/reporters/lab:cti/trusted", json={"trusted": True})
        assert r.status_code == code, name
    assert r.json()["trusted"] is True


def test_decisions_queue_and_abusive_reporter_over_http(client, keys, clock):
    call(client, keys["reviewer"], "PUT", "/v1/reporters/lab:cti/trusted", json={"trusted": True})
    plain = report(client, keys["buyer"], "q1").json()
    flagged = report(client, keys["lab"], "q2", category="counterfeit").json()
    assert flagged["trusted"] is True
    queue = call(client, keys["reviewer"], "GET", "/v1/notices/queue").json()["items"]
    assert [n["id"] for n in queue] == [flagged["id"], plain["id"]]

    r = decision(client, keys["reviewer"], plain["id"], "q1-d", "unfounded", reason="")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = decision(client, keys["reviewer"], plain["id"], "q1-d", "maybe")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "outcome"
    r = decision(client, keys["reviewer"], plain["id"], "q1-d", "unfounded")
    assert r.status_code == 200 and r.json()["decided_by"] == "reviewer:ann"
    assert decision(client, keys["reviewer"], plain["id"], "q1-d", "unfounded").json() == r.json()
    # the same key for another notice, or deciding the same notice again, is refused
    assert decision(client, keys["reviewer"], flagged["id"], "q1-d", "founded").status_code == 409
    r = decision(client, keys["reviewer"], plain["id"], "q1-e", "founded")
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "notice_id"

    for i in range(5):
        nid = report(client, keys["troll"], f"t{i}").json()["id"]
        assert decision(client, keys["reviewer"], nid, f"t{i}-d").status_code == 200
    record = call(client, keys["troll"], "GET", "/v1/reporters/buyer:troll").json()
    assert record["standing"] == "suspended" and record["warned_at"]
    sixth = report(client, keys["troll"], "t5").json()
    assert sixth["status"] == "not_processed" and record["suspended_until"] in sixth["reason"]
    clock.advance(timedelta(days=30))
    assert report(client, keys["troll"], "t6").json()["status"] == "open"


def test_identifiers_recorded_by_the_platform_lower_a_reporters_weight(client, keys):
    for i in range(3):  # the troll is warned for three manifestly unfounded notices
        n = report(client, keys["troll"], f"t{i}").json()
        decision(client, keys["reviewer"], n["id"], f"d{i}")
    path = "/v1/reporters/buyer:other/identifiers"
    body = {"kind": "device", "value": "iPhone 15 / IMEI 35-209900-176148-1"}
    assert call(client, keys["buyer"], "POST", path, json=body).status_code == 403
    bad = call(client, keys["platform"], "POST", path, json={"kind": "email", "value": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    before = report(client, keys["buyer"], "b1").json()["weight"]
    shared = call(
        client, keys["platform"], "POST", "/v1/reporters/buyer:troll/identifiers", json=body
    )
    assert shared.status_code == 200 and shared.json()["added"] is True
    mine = call(client, keys["platform"], "POST", path, json=body).json()
    assert mine["abuse"]["record"]["shared_with_flagged"] == 1
    after = report(client, keys["buyer"], "b2").json()["weight"]
    assert after < before
    record = call(client, keys["buyer"], "GET", "/v1/reporters/buyer:other").json()
    assert "identifiers shared with flagged accounts" in record["abuse"]["reasons"]
