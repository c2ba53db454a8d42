"""Key policy without a database: which roles name a party, in which forms, and which
revocations are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xinren.access import model
from xinren.access.model import ApiKey
from xinren.errors import Conflict, ValidationFailed

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "party", "subject"),
    [
        ("merchant", "merchant:acme-tea", "merchant:acme-tea"),
        ("merchant", "acme-tea", "merchant:acme-tea"),
        ("buyer", "1001", "buyer:1001"),
        ("host", "host:li_jiaqi", "host:li_jiaqi"),
        ("reviewer", "zhao", "reviewer:zhao"),
        ("reviewer", "reviewer:zhao", "reviewer:zhao"),
        ("brand_owner", "huamei", "brand_owner:huamei"),
        ("lab", "lab:cti", "lab:cti"),
        ("supplier", "s1", "supplier:s1"),
        ("manufacturer", "manufacturer:m1", "manufacturer:m1"),
        ("platform", None, None),
        ("auditor", None, None),
        ("admin", None, None),
    ],
)
def test_a_party_is_a_full_ref_or_a_bare_id_of_the_roles_kind(role, party, subject):
    assert model.subject_for(role, party, "--party") == subject


@pytest.mark.parametrize(
    ("role", "party", "says"),
    [
        ("merchant", "host:x", "is a host ref; a merchant key acts for a merchant"),
        ("merchant", "merchant:merchant:x", "is not a ref"),
        ("reviewer", "merchant:zhao", "is a merchant ref"),
        ("buyer", "platform:1", "is not a ref"),
        ("merchant", "Acme", "lower-case"),
        ("merchant", "acme tea", "lower-case"),
        ("merchant", "merchant:", "lower-case"),
        ("merchant", "x" * 65, "1-64"),
        ("platform", "acme", "leave --party out"),
        ("auditor", "auditor:ann", "leave --party out"),
        ("admin", "root", "leave --party out"),
    ],
)
def test_a_party_of_another_kind_or_form_is_refused_naming_the_field(role, party, says):
    with pytest.raises(ValidationFailed) as err:
        model.subject_for(role, party, "--party")
    assert err.value.field == "--party"
    assert says in err.value.detail


@pytest.mark.parametrize("role", sorted(model.PARTY_KIND))
@pytest.mark.parametrize("party", [None, ""])
def test_every_party_role_needs_a_party(role, party):
    with pytest.raises(ValidationFailed) as err:
        model.subject_for(role, party, "party")
    assert err.value.field == "party"
    kind = model.PARTY_KIND[role]
    assert f"must name the {kind} it acts for: pass party as '{kind}:<id>'" in err.value.detail


def test_platform_auditor_and_admin_act_for_nobody():
    assert set(model.NO_PARTY) == {"platform", "auditor", "admin"}
    assert set(model.PARTY_KIND) | set(model.NO_PARTY) == set(model.ROLES)


def test_an_unknown_role_is_refused():
    with pytest.raises(ValidationFailed, match="role must be one of") as err:
        model.subject_for("emperor", None, "--party")
    assert err.value.field == "role"


def _key(key_id: int, role: str = "admin", revoked: bool = False) -> ApiKey:
    return ApiKey(key_id, role, role, None, "xr_abcdefg", NOW, None, NOW if revoked else None)


def test_the_last_active_admin_key_is_not_revoked():
    with pytest.raises(Conflict, match="last active admin key"):
        model.check_revocable(_key(1), [1])
    model.check_revocable(_key(1), [1, 2])
    model.check_revocable(_key(3, "platform"), [])
    with pytest.raises(Conflict, match="already revoked"):
        model.check_revocable(_key(2, revoked=True), [1])
    with pytest.raises(Conflict, match="revoked"):
        model.check_rotatable(_key(2, revoked=True))


def test_the_event_and_listing_hold_no_secret():
    key = _key(1)
    assert "prefix" not in key.event("admin:1") and key.event("admin:1")["by"] == "admin:1"
    assert set(key.as_dict()) == {
        "id",
        "name",
        "role",
        "subject",
        "prefix",
        "created_at",
        "rotated_at",
        "revoked_at",
    }
