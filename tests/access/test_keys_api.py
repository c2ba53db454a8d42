"""/v1/keys: admins list, create, rotate and revoke keys; a revoked key and a rotated key's old
secret are refused on their very next request; nobody else may touch keys; the last admin key
stays; a retried create or rotation neither makes a second key nor shows a secret again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xinren.access import service as access
from xinren.access.tables import api_keys, idempotent_requests
from xinren.api.app import create_app
from xinren.demo import samples
from xinren.events import service as events

FIELDS = {"id", "name", "role", "subject", "prefix", "created_at", "rotated_at", "revoked_at"}


@pytest.fixture
def keys(factory, clock):
    with factory() as s:
        samples.verified(s, clock, "merchant:other")
        found = {
            name: access.create_key(s, clock, role, name=name, subject=subject)
            for name, role, subject in [
                ("admin", "admin", None),
                ("platform", "platform", None),
                ("auditor", "auditor", None),
                ("reviewer", "reviewer", "zhao"),
                ("shop", "merchant", "merchant:acme-tea"),
            ]
        }
        s.commit()
    return {name: secret for name, (_, secret) in found.items()} | {
        f"{name}_id": p.key_id for name, (p, _) in found.items()
    }


@pytest.fixture
def client(factory, clock):
    return TestClient(create_app(clock=clock, sessions=factory))


def call(client, secret, method, path, idem=None, **kw):
    headers = {"Authorization": f"Bearer {secret}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return client.request(method, path, headers=headers, **kw)


def whoami(client, secret) -> int:
    """401 for an unknown, revoked or replaced secret; 403 or 200 for a working one."""
    return call(client, secret, "GET", "/v1/keys").status_code


def test_an_admin_lists_keys_without_secrets(client, keys, session):
    r = call(client, keys["admin"], "GET", "/v1/keys")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {k["name"]: k["subject"] for k in items} == {
        "admin": None,
        "platform": None,
        "auditor": None,
        "reviewer": "reviewer:zhao",
        "shop": "merchant:acme-tea",
    }
    assert all(set(k) == FIELDS for k in items)
    for name in ("admin", "platform", "shop"):
        assert keys[name] not in r.text
    hashes = session.execute(select(api_keys.c.secret_hash)).scalars()
    assert not any(h in r.text for h in hashes)
    page = call(client, keys["admin"], "GET", "/v1/keys", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"] == str(page["items"][-1]["id"])
    rest = call(client, keys["admin"], "GET", "/v1/keys", params={"cursor": page["next_cursor"]})
    assert [k["name"] for k in rest.json()["items"]] == ["auditor", "reviewer", "shop"]
    one = call(client, keys["admin"], "GET", f"/v1/keys/{keys['shop_id']}").json()
    assert one["subject"] == "merchant:acme-tea"


def test_an_admin_creates_a_key_whose_secret_is_shown_once(client, keys, session):
    body = {"role": "merchant", "name": "acme's back end", "party": "acme-tea"}
    r = call(client, keys["admin"], "POST", "/v1/keys", "new-shop-key", json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["subject"] == "merchant:acme-tea" and made["secret"].startswith("xr_")
    assert made["prefix"] == made["secret"][:10]
    assert call(client, made["secret"], "GET", "/v1/orders/1").status_code != 401
    # the kept first answer, which a replay reads, holds no secret
    kept = session.execute(select(idempotent_requests.c.response)).scalars().all()
    assert kept and not any(made["secret"] in repr(k) for k in kept)
    created = events.read(session, subject=f"api_key:{made['id']}")
    assert [(e.topic, e.payload["by"]) for e in created] == [
        ("api_key.created", f"admin:{keys['admin_id']}")
    ]


def test_a_replayed_create_makes_no_second_key_and_shows_no_secret(client, keys, session):
    before = session.execute(select(func.count()).select_from(api_keys)).scalar_one()
    body = {"role": "buyer", "party": "buyer:1001"}
    first = call(client, keys["admin"], "POST", "/v1/keys", "buyer-1001", json=body)
    again = call(client, keys["admin"], "POST", "/v1/keys", "buyer-1001", json=body)
    assert first.status_code == 201 and again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["secret"] is None
    assert "shown once" in again.json()["secret_shown_once"]
    assert first.json()["secret"] not in again.text
    after = session.execute(select(func.count()).select_from(api_keys)).scalar_one()
    assert after == before + 1
    other = call(client, keys["admin"], "POST", "/v1/keys", "buyer-1001", json={"role": "admin"})
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"role": "merchant"}, "must name the merchant it acts for: pass party as"),
        ({"role": "reviewer", "party": None}, "pass party as 'reviewer:<id>'"),
        ({"role": "merchant", "party": "host:x"}, "is a host ref"),
        ({"role": "platform", "party": "acme"}, "leave party out"),
    ],
)
def test_a_create_without_the_right_party_names_the_field(client, keys, body, says):
    r = call(client, keys["admin"], "POST", "/v1/keys", "bad-party", json=body)
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"] and r.json()["errors"][0]["field"] == "party"


def test_a_rotation_refuses_the_old_secret_at_once_and_keeps_the_keys_identity(
    client, keys, session
):
    old = keys["shop"]
    filed = call(client, old, "POST", "/v1/notices", "n-1", json=_notice())
    assert filed.status_code == 201, filed.text
    r = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/rotate", "rot-1")
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("xr_") and new != old and r.json()["rotated_at"] is not None
    assert call(client, old, "GET", "/v1/orders/1").status_code == 401
    assert call(client, new, "GET", "/v1/orders/1").status_code != 401
    before, after = access.authenticate(session, new), r.json()
    assert (after["id"], after["role"], after["subject"]) == (
        keys["shop_id"],
        "merchant",
        "merchant:acme-tea",
    )
    assert (before.key_id, before.key_scope) == (keys["shop_id"], "merchant:acme-tea")
    # what the key did is still its own: its idempotency keys replay under the new secret
    again = call(client, new, "POST", "/v1/notices", "n-1", json=_notice())
    assert again.status_code == 200 and again.json()["id"] == filed.json()["id"]
    assert again.json()["reporter"] == "merchant:acme-tea"
    rotated = events.read(session, subject=f"api_key:{keys['shop_id']}")
    assert rotated[-1].topic == "api_key.rotated" and new not in repr(rotated[-1].payload)


def test_a_replayed_rotation_does_not_rotate_twice(client, keys):
    path = f"/v1/keys/{keys['platform_id']}/rotate"
    first = call(client, keys["admin"], "POST", path, "rot-p")
    again = call(client, keys["admin"], "POST", path, "rot-p")
    assert first.status_code == again.status_code == 200, again.text
    new = first.json()["secret"]
    assert again.json()["secret"] is None and "shown once" in again.json()["secret_shown_once"]
    assert again.json()["rotated_at"] == first.json()["rotated_at"]
    assert again.json()["prefix"] == first.json()["prefix"] == new[:10]
    assert whoami(client, new) == 403  # authenticated (a platform key may not list keys)
    other = call(client, keys["admin"], "POST", f"/v1/keys/{keys['auditor_id']}/rotate", "rot-p")
    assert other.status_code == 409


def test_a_revoked_key_is_refused_on_its_next_request(client, keys, session):
    shop = keys["shop"]
    assert call(client, shop, "GET", "/v1/orders/1").status_code != 401
    r = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/revoke", "rev-1")
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    assert call(client, shop, "GET", "/v1/orders/1").status_code == 401
    again = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/revoke", "rev-1")
    assert again.status_code == 200 and again.json()["revoked_at"] == r.json()["revoked_at"]
    twice = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/revoke", "rev-2")
    assert twice.status_code == 409 and "already revoked" in twice.json()["detail"]
    rotate = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/rotate", "rot-x")
    assert rotate.status_code == 409
    revoked = events.read(session, subject=f"api_key:{keys['shop_id']}")
    assert [e.topic for e in revoked][-1] == "api_key.revoked"
    assert revoked[-1].payload["by"] == f"admin:{keys['admin_id']}"
    missing = call(client, keys["admin"], "POST", "/v1/keys/999999/revoke", "rev-3")
    assert missing.status_code == 404


@pytest.mark.parametrize("who", ["platform", "reviewer", "auditor", "shop"])
def test_only_admins_touch_keys(client, keys, who):
    secret = keys[who]
    target = keys["shop_id"]
    for method, path, body in [
        ("GET", "/v1/keys", None),
        ("GET", f"/v1/keys/{target}", None),
        ("POST", "/v1/keys", {"role": "admin"}),
        ("POST", f"/v1/keys/{target}/rotate", None),
        ("POST", f"/v1/keys/{target}/revoke", None),
    ]:
        r = call(client, secret, method, path, f"{who}-try", json=body)
        assert r.status_code == 403, (who, method, path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert call(client, keys["shop"], "GET", "/v1/orders/1").status_code != 401  # untouched
    assert call(client, None, "GET", "/v1/keys").status_code == 401


def test_the_last_active_admin_key_cannot_be_revoked(client, keys):
    me = keys["admin_id"]
    r = call(client, keys["admin"], "POST", f"/v1/keys/{me}/revoke", "rev-me")
    assert r.status_code == 409, r.text
    assert "last active admin key" in r.json()["detail"]
    assert whoami(client, keys["admin"]) == 200
    second = call(client, keys["admin"], "POST", "/v1/keys", "admin-2", json={"role": "admin"})
    other = second.json()["secret"]
    # with a second admin, either may go; then the one left is the last again
    r = call(client, other, "POST", f"/v1/keys/{me}/revoke", "rev-first")
    assert r.status_code == 200, r.text
    assert whoami(client, keys["admin"]) == 401
    last = second.json()["id"]
    r = call(client, other, "POST", f"/v1/keys/{last}/revoke", "rev-last")
    assert r.status_code == 409 and whoami(client, other) == 200


def test_every_post_needs_an_idempotency_key(client, keys):
    r = call(client, keys["admin"], "POST", "/v1/keys", json={"role": "admin"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    r = call(client, keys["admin"], "POST", f"/v1/keys/{keys['shop_id']}/revoke")
    assert r.status_code == 422 and whoami(client, keys["shop"]) == 403


def _notice() -> dict[str, str]:
    return {"target": "merchant:other", "category": "misrepresentation", "text": "not as shown"}
