"""`access.service.create_key`: the one place keys are made, for the command line, the HTTP
API and code alike, refuses a party key without its party and a subject of the wrong form."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from xinren.access import service as access
from xinren.access.tables import api_keys
from xinren.errors import Unauthorized, ValidationFailed
from xinren.events import service as events

PARTY_ROLES = ("buyer", "merchant", "host", "supplier", "manufacturer", "brand_owner", "lab")


def _keys(session) -> int:
    return int(session.execute(select(func.count()).select_from(api_keys)).scalar_one())


@pytest.mark.parametrize("role", [*PARTY_ROLES, "reviewer"])
def test_a_party_key_without_its_party_is_refused_naming_the_field(session, clock, role):
    before = _keys(session)
    with pytest.raises(ValidationFailed) as err:
        access.create_key(session, clock, role)
    assert err.value.field == "subject" and f"pass subject as '{role}:<id>'" in err.value.detail
    with pytest.raises(ValidationFailed) as err:
        access.create_key(session, clock, role, subject=None, field="--party")
    assert err.value.field == "--party"
    assert _keys(session) == before


@pytest.mark.parametrize("role", ["platform", "auditor", "admin"])
def test_platform_auditor_and_admin_keys_have_no_party(session, clock, role):
    principal, _ = access.create_key(session, clock, role)
    assert principal.subject is None
    with pytest.raises(ValidationFailed, match="leave subject out"):
        access.create_key(session, clock, role, subject=f"{role}:x")


def test_the_subject_is_the_parties_ref_whichever_form_was_given(session, clock):
    for given in ("merchant:acme-tea", "acme-tea"):
        principal, secret = access.create_key(session, clock, "merchant", subject=given)
        assert principal.subject == "merchant:acme-tea"
        assert access.authenticate(session, secret).subject == "merchant:acme-tea"
    with pytest.raises(ValidationFailed, match="is a host ref"):
        access.create_key(session, clock, "merchant", subject="host:x")
    with pytest.raises(ValidationFailed, match="lower-case"):
        access.create_key(session, clock, "reviewer", subject="reviewer:Zhao Wei")


def test_each_change_is_an_event_naming_who_and_never_the_secret(session, clock):
    admin, _ = access.create_key(session, clock, "admin")
    other, _ = access.create_key(session, clock, "admin")
    principal, secret = access.create_key(session, clock, "buyer", subject="7", by="admin:1")
    _, new = access.rotate(session, clock, principal.key_id, by=admin.actor)
    access.revoke(session, clock, principal.key_id, by=other.actor)
    found = events.read(session, subject=f"api_key:{principal.key_id}")
    assert [(e.topic, e.payload["by"]) for e in found] == [
        ("api_key.created", "admin:1"),
        ("api_key.rotated", admin.actor),
        ("api_key.revoked", other.actor),
    ]
    for e in found:
        assert e.payload["subject"] == "buyer:7" and e.payload["role"] == "buyer"
        text = repr(e.payload)
        assert secret not in text and new not in text and secret[:10] not in text
    with pytest.raises(Unauthorized):
        access.authenticate(session, new)
