"""Hole 4: bad input on every write endpoint gets a 4xx problem naming the field, writes
nothing, and never a 500.

Before the fix 19 inputs gave a 500 with a plain-text body and a closed connection on
PostgreSQL: NUL characters in account codes, reasons and refs, a balance overflowing 64 bits
after two 2**62 legs, deposits and order totals of 2**62 and more, hold ids of 2**63 in the
path. On SQLite two 2**62 credits silently turned a balance into a float.

The sweep walks the app's own routes and their request models, so a route added later is
swept too without anyone remembering to list it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.integrity.world import MERCHANT, listing, market, settled_order
from xinren.access import service as access
from xinren.api.app import create_app
from xinren.ledger import service as ledger
from xinren.schema import metadata

NUL, SURROGATE = "bad\x00value", "bad\ud800value"
BAD_TEXT = {"nul": NUL, "surrogate": SURROGATE, "huge": "x" * 70_000, "object": {"a": [1]}}
BAD_INT = {"2**63": 2**63, "2**64": 2**64, "-2**63-1": -(2**63) - 1, "text": "1", "float": 1.5}
#: values no request may hold anywhere: the answer is a 422 naming exactly that field
UNSTORABLE = {"nul", "surrogate", "2**63", "2**64", "-2**63-1"}


@pytest.fixture
def world(factory, clock):
    with factory() as s:
        market(s, clock)
        settled_order(s, clock, "o1", 12_800)
        listing(s, clock, "tea", price=12_800)
        admin = access.create_key(s, clock, "admin")[1]
        s.commit()
    app = create_app(clock=clock, sessions=factory)
    return app, TestClient(app), admin


def _fingerprint(session) -> int:
    """Every table's row count in one number: any write by a refused request changes it."""
    counts = " UNION ALL ".join(f'SELECT count(*) AS n FROM "{t}"' for t in metadata.tables)
    return int(session.execute(text(f"SELECT sum(n) FROM ({counts}) AS c")).scalar_one())


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, defs) for o in schema[key] if o.get("type") != "null"]
            if options:
                return options[0]
    return schema


def _plausible(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value of the right type, so the bad one next to it is what gets judged."""
    s = _resolve(schema, defs)
    if "default" in s:
        return s["default"]
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    kind = s.get("type")
    if kind == "string":
        if s.get("format") == "date-time":
            return "2026-03-01T00:00:00Z"
        if s.get("format") == "date":
            return "2026-03-01"
        if s.get("pattern") == "^[0-9a-f]{64}$":
            return "0" * 64
        return "x" * max(1, s.get("minLength", 1))
    if kind == "integer":
        return max(1, s.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return [] if not s.get("minItems") else [_plausible(s.get("items", {}), defs)]
    if kind == "object":
        return {
            name: _plausible(prop, defs)
            for name, prop in s.get("properties", {}).items()
            if name in s.get("required", [])
        }
    return "x"


WRITES = ("post", "put", "patch", "delete")


def _write_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every write operation the app documents."""
    paths = app.openapi()["paths"]
    return [
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/v1/")
        for method in ops
        if method in WRITES
    ]


def _cases(app) -> list[tuple[str, str, str, str, Any, Any]]:
    """(method, path, where, field, bad name, body or None) for every field of every route."""
    spec = app.openapi()
    defs = spec.get("components", {}).get("schemas", {})
    out = []
    for method, template in _write_routes(app):
        op = spec["paths"][template][method.lower()]
        params = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
        filled = {
            name: 1 if _resolve(p["schema"], defs).get("type") == "integer" else MERCHANT
            for name, p in params.items()
        }
        body_schema = (
            op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        )
        base = _plausible(body_schema, defs) if body_schema else None
        for name, p in params.items():
            bad_values = BAD_INT if _resolve(p["schema"], defs).get("type") == "integer" else {}
            for bad in ("2**63", "2**64"):
                if bad in bad_values:
                    path = template.format(**{**filled, name: bad_values[bad]})
                    out.append((method, path, "path", name, bad, base))
            path = template.format(**{**filled, name: "bad%00value"})
            out.append((method, path, "path", name, "nul", base))
        path = template.format(**filled)
        schema = _resolve(body_schema, defs) if body_schema else {}
        if schema.get("type") == "array":  # a list body: judge the fields of its first item
            item = _resolve(schema.get("items", {}), defs)
            for field, prop in item.get("properties", {}).items():
                for bad, value in _bad_for(prop, defs).items():
                    body = [{**_plausible(item, defs), field: value}]
                    out.append((method, path, "body", f"0.{field}", bad, body))
            continue
        for field, prop in schema.get("properties", {}).items():
            for bad, value in _bad_for(prop, defs).items():
                out.append((method, path, "body", field, bad, {**(base or {}), field: value}))
    return out


def _bad_for(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    s = _resolve(prop, defs)
    if s.get("type") == "integer":
        return BAD_INT
    if s.get("type") == "string":
        return BAD_TEXT
    if s.get("type") == "array":
        item = _resolve(s.get("items", {}), defs)
        if item.get("type") == "string":
            return {f"[{k}]": [v] for k, v in BAD_TEXT.items() if k != "object"}
        if item.get("type") == "integer":
            return {f"[{k}]": [v] for k, v in BAD_INT.items()}
    if s.get("type") == "object" and s.get("additionalProperties"):
        return {"{nul}": {"k": NUL}, "{nul key}": {NUL: "v"}}
    return {"text": "not this"}


def test_the_sweep_covers_every_write_route(world):
    app, _, _ = world
    routes = set(_write_routes(app))
    swept = {
        (m, re.sub(r"/(\d+|merchant:tea|bad%00value|\d{19,})(?=/|$)", "/{}", p))
        for m, p, *_ in _cases(app)
    }
    assert len(routes) >= 40 and len(swept) >= len(routes) * 0.9, (len(routes), len(swept))


@pytest.mark.slow
def test_bad_values_on_every_write_endpoint(world, session):
    app, client, admin = world
    failures: list[str] = []
    for n, (method, path, where, field, bad, body) in enumerate(_cases(app)):
        before = _fingerprint(session)
        headers = {"Authorization": f"Bearer {admin}", "Idempotency-Key": f"sweep-{n}"}
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["content"] = json.dumps(body)  # escapes lone surrogates as JSON allows
            headers["Content-Type"] = "application/json"
        r = client.request(method, path, **kwargs)
        what = f"{method} {path} {where}:{field}={bad}"
        if r.status_code >= 500 or r.status_code < 400:
            failures.append(f"{what}: {r.status_code} {r.text[:200]}")
            continue
        if r.headers.get("content-type") != "application/problem+json":
            failures.append(f"{what}: not problem+json: {r.headers.get('content-type')}")
            continue
        named = {e.get("field", "") for e in r.json().get("errors", [])}
        if bad.strip("[]{}") in UNSTORABLE and (r.status_code != 422 or not _names(named, field)):
            failures.append(f"{what}: {r.status_code}, fields {named}: {r.text[:200]}")
        if _fingerprint(session) != before:
            failures.append(f"{what}: wrote rows although refused with {r.status_code}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


def _names(named: set[str], field: str) -> bool:
    return any(n == field or n.startswith(f"{field}.") for n in named)


def test_two_huge_credits_are_refused_before_a_balance_overflows(world, session, clock):
    """Legs are bounded, and a sum past 64 bits is refused by the ledger itself."""
    _, client, admin = world
    for code in ("big:a", "big:b"):
        client.post(
            "/v1/ledger/accounts",
            json={"code": code, "currency": "CNY"},
            headers={"Authorization": f"Bearer {admin}"},
        )
    legs = [
        {"account": "big:a", "side": "debit", "amount": 2**62},
        {"account": "big:b", "side": "credit", "amount": 2**62},
    ]
    r = client.post(
        "/v1/ledger/transfers",
        json={"legs": legs},
        headers={"Authorization": f"Bearer {admin}", "Idempotency-Key": "big-1"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("legs.0.amount")
    assert ledger.get_account(session, "big:b").balance.credits_posted == 0


def test_the_ledger_refuses_a_total_past_64_bits():
    """Whatever the bounds of one request, a running total never passes its column's range."""
    from xinren.errors import LimitExceeded
    from xinren.ledger import model

    full = model.Account(
        1, "big:b", "CNY", balance=model.Balance(credits_posted=model.MAX_TOTAL - 5)
    )
    other = model.Account(2, "big:a", "CNY")
    op = model.TransferOp(
        model.Meta("k"),
        (model.Leg("big:a", model.Side.DEBIT, 10), model.Leg("big:b", model.Side.CREDIT, 10)),
    )
    plan = model.plan_batch(
        [op], {"big:b": full, "big:a": other}, {}, datetime.now(UTC), atomic=True
    )
    (outcome,) = plan.outcomes
    assert isinstance(outcome, LimitExceeded) and outcome.extra["account"] == "big:b"


MONEY_FIELDS = re.compile(
    r"^(amount|total|price|refund|compensation|extra_compensation|discount|ref_price_min|"
    r"ref_price_max)$"
)


def test_every_money_field_documents_its_upper_bound(world):
    """Each money field of each request says, in the OpenAPI document, how large it may be."""
    from xinren.money import MAX_AMOUNT

    app, _, _ = world
    spec = app.openapi()
    defs = spec["components"]["schemas"]
    found: dict[str, int | None] = {}

    def walk(schema: dict[str, Any], where: str) -> None:
        s = _resolve(schema, defs)
        for name, prop in s.get("properties", {}).items():
            p = _resolve(prop, defs)
            if MONEY_FIELDS.match(name):
                found[f"{where}.{name}"] = p.get("maximum")
            walk(prop, f"{where}.{name}")
        if s.get("type") == "array":
            walk(s.get("items", {}), f"{where}[]")

    for path, method in ((p, m) for p, ops in spec["paths"].items() for m in ops):
        op = spec["paths"][path][method]
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" in body:
            walk(body["schema"], f"{method.upper()} {path}")
    assert len(found) >= 10, found
    unbounded = {k: v for k, v in found.items() if v is None or v > MAX_AMOUNT}
    assert unbounded == {}
