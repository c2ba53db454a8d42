"""`xinren keys create|list|rotate|revoke`: --party takes a ref or a bare id of the role's kind,
a new secret is the only thing on stdout (`KEY=$(xinren keys create ...)`), and a rotated or
revoked key is refused by the HTTP API on its next request."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from xinren.access import service as access
from xinren.api.app import create_app
from xinren.cli.main import app as cli_app
from xinren.db import make_engine, session_factory

SECRET = re.compile(r"^xr_[A-Za-z0-9_-]{43}\n$")


@pytest.fixture
def db(fresh_url):
    engine = make_engine(fresh_url)
    yield engine
    engine.dispose()


def _principal(db, secret):
    with session_factory(db)() as s:
        return access.authenticate(s, secret.strip())


def _key(cli, *args: str) -> str:
    out = cli("keys", "create", *args)
    assert SECRET.match(out.stdout), out.stdout  # the secret and nothing else
    return out.stdout.strip()


@pytest.mark.parametrize(
    ("args", "subject"),
    [
        (("--role", "merchant", "--party", "merchant:acme-tea"), "merchant:acme-tea"),
        (("--role", "merchant", "--party", "acme-tea"), "merchant:acme-tea"),
        (("--role", "reviewer", "--party", "reviewer:zhao"), "reviewer:zhao"),
        (("--role", "reviewer", "--party", "zhao"), "reviewer:zhao"),
        (("--role", "buyer", "--party", "1001"), "buyer:1001"),
        (("--role", "platform"), None),
    ],
)
def test_party_is_a_ref_or_a_bare_id(cli, db, args, subject):
    secret = _key(cli, *args)
    assert _principal(db, secret).subject == subject


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--role", "merchant", "--party", "host:x"), "is a host ref; a merchant key acts for a"),
        (("--role", "merchant"), "must name the merchant it acts for: pass --party as"),
        (("--role", "host"), "pass --party as 'host:<id>'"),
        (("--role", "reviewer"), "pass --party as 'reviewer:<id>'"),
        (("--role", "merchant", "--party", "Acme Tea"), "lower-case"),
        (("--role", "auditor", "--party", "ann"), "leave --party out"),
    ],
)
def test_a_wrong_party_is_refused_naming_party(cli, count, args, says):
    out = cli("keys", "create", *args, code=2)
    assert out.stdout == ""
    assert "error (--party):" in out.stderr and says in out.stderr, out.stderr
    assert count("api_keys") == 0


def test_list_rotate_and_revoke(cli, db, count):
    admin = _key(cli, "--role", "admin", "--name", "ops")
    shop = _key(cli, "--role", "merchant", "--party", "acme-tea", "--name", "acme")
    shop_id = _principal(db, shop).key_id
    listed = cli("keys", "list").stdout
    assert "acme" in listed and "merchant:acme-tea" in listed and shop[:10] in listed
    assert shop not in listed and admin not in listed
    client = TestClient(create_app(db))

    def status(secret: str) -> int:
        return client.get("/v1/keys", headers={"Authorization": f"Bearer {secret}"}).status_code

    assert status(admin) == 200 and status(shop) == 403
    rotated = cli("keys", "rotate", str(shop_id))
    assert SECRET.match(rotated.stdout) and "rotated" in rotated.stderr
    new = rotated.stdout.strip()
    assert status(shop) == 401 and status(new) == 403
    same = _principal(db, new)
    assert (same.key_id, same.subject) == (shop_id, "merchant:acme-tea")
    revoked = cli("keys", "revoke", str(shop_id))
    assert revoked.stdout == "" and "revoked" in revoked.stderr
    assert status(new) == 401
    assert "acme" not in cli("keys", "list", "--active").stdout
    again = cli("keys", "revoke", str(shop_id), code=2)
    assert "already revoked" in again.stderr
    last = cli("keys", "revoke", str(_principal(db, admin).key_id), code=2)
    assert "last active admin key" in last.stderr and status(admin) == 200
    assert "no API key 999" in cli("keys", "rotate", "999", code=2).stderr
    assert count("api_keys") == 2


def test_key_create_on_an_empty_database_prints_only_the_key(databases, monkeypatch):
    monkeypatch.setenv("XINREN_DATABASE_URL", databases.new())
    out = CliRunner().invoke(cli_app, ["keys", "create", "--role", "admin"])
    assert out.exit_code == 0, out.stderr
    assert SECRET.match(out.stdout), out.stdout
    assert "migrations applied" in out.stderr
