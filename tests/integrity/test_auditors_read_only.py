"""Hole 12: auditors only read. Every write endpoint, called by an auditor with a well-formed
body, is refused and writes nothing (before the fix an auditor could file notices)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.integrity.test_bad_input import _fingerprint, _plausible, _resolve, _write_routes
from tests.integrity.world import MERCHANT, market, settled_order
from xinren.access import service as access
from xinren.api.app import create_app


def test_an_auditor_writes_nothing_anywhere(factory, clock, session):
    with factory() as s:
        market(s, clock)
        settled_order(s, clock, "a1", 12_800)
        auditor = access.create_key(s, clock, "auditor")[1]
        s.commit()
    app = create_app(clock=clock, sessions=factory)
    client = TestClient(app)
    spec = app.openapi()
    defs = spec["components"]["schemas"]
    wrote, allowed = [], []
    for n, (method, template) in enumerate(_write_routes(app)):
        op = spec["paths"][template][method.lower()]
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
        path = template.format(
            **{
                name: 1 if _resolve(p["schema"], defs).get("type") == "integer" else MERCHANT
                for name, p in params.items()
            }
        )
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        body = _plausible(schema["schema"], defs) if "schema" in schema else None
        before = _fingerprint(session)
        r = client.request(
            method,
            path,
            content=json.dumps(body) if body is not None else None,
            headers={
                "Authorization": f"Bearer {auditor}",
                "Idempotency-Key": f"audit-{n}",
                "Content-Type": "application/json",
            },
        )
        if r.status_code < 400:
            allowed.append(f"{method} {path}: {r.status_code}")
        if _fingerprint(session) != before:
            wrote.append(f"{method} {path}: {r.status_code}")
    assert allowed == [] and wrote == [], (allowed, wrote)
