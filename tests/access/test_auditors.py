"""Auditors read everything and write nothing: they may not file notices (they could before),
and they still read notices and reporters' records."""

from __future__ import annotations

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
        found = {
            role: access.create_key(s, clock, role, subject=subject)[1]
            for role, subject in [("auditor", None), ("buyer", "buyer:ann"), ("admin", None)]
        }
        s.commit()
    return found


@pytest.fixture
def client(factory, clock):
    return TestClient(create_app(clock=clock, sessions=factory))


def _headers(secret: str, idem: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {secret}"}
    return h | ({"Idempotency-Key": idem} if idem else {})


def test_an_auditor_may_not_file_a_notice_but_reads_them(client, keys):
    body = {"target": SHOP, "category": "misrepresentation", "text": "not as described"}
    r = client.post("/v1/notices", json=body, headers=_headers(keys["auditor"], "a-1"))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "auditors only read" in r.json()["detail"]
    filed = client.post("/v1/notices", json=body, headers=_headers(keys["buyer"], "b-1"))
    assert filed.status_code == 201, filed.text
    notice = filed.json()["id"]
    seen = client.get(f"/v1/notices/{notice}", headers=_headers(keys["auditor"]))
    assert seen.status_code == 200 and seen.json()["reporter"] == "buyer:ann"
    record = client.get("/v1/reporters/buyer:ann", headers=_headers(keys["auditor"]))
    assert record.status_code == 200, record.text
    events = client.get("/v1/events", headers=_headers(keys["auditor"]))
    assert events.status_code == 200
    # admins still file, as before
    r = client.post("/v1/notices", json=body, headers=_headers(keys["admin"], "ad-1"))
    assert r.status_code == 201, r.text
