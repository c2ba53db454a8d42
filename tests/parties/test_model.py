"""Trader verification rules and "may this trader act?", pure: no database."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xinren.errors import Conflict, ValidationFailed
from xinren.parties import model
from xinren.parties.model import Status, TraderInfo

INFO = TraderInfo(
    legal_name="Hangzhou Xiaoyang Trading Co., Ltd.",
    address="88 Wensan Road, Hangzhou",
    registration_number="91330100MA2H3XYZ1K",
    payment_account="CN-ALIPAY-2088000000000001",
    contact_email="legal@xiaoyang.example",
    self_certified=True,
)


@pytest.mark.parametrize("ref", ["merchant:acme", "host:li_jia-qi", "lab:sgs", "brand_owner:x1"])
def test_a_ref_is_kind_and_id(ref):
    assert model.check_ref(ref) == ref
    assert model.kind_of(ref) == ref.split(":")[0]


@pytest.mark.parametrize("ref", ["", "merchant", "buyer:bob", "merchant:Acme", "merchant:a b"])
def test_a_bad_ref_is_refused_naming_the_field(ref):
    with pytest.raises(ValidationFailed) as err:
        model.check_ref(ref, "subject")
    assert err.value.field == "subject"


def test_a_ref_of_another_kind_is_refused_when_a_kind_is_asked():
    assert model.check_ref("host:li", kind="host") == "host:li"
    with pytest.raises(ValidationFailed, match="'merchant:acme'"):
        model.check_ref("host:li", kind="merchant")


def test_complete_information_passes():
    INFO.check()
    replace(INFO, contact_email=None, contact_phone="+86 571 8888 0000").check()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legal_name": " "}, "legal_name"),
        ({"address": "x" * 501}, "address"),
        ({"payment_account": ""}, "payment_account"),
        ({"registration_number": "abc"}, "registration_number"),
        ({"contact_email": None, "contact_phone": None}, "contact_email"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_email": None, "contact_phone": "call me"}, "contact_phone"),
        ({"self_certified": False}, "self_certified"),
    ],
)
def test_incomplete_information_names_the_first_field_that_cannot_stand(change, field):
    with pytest.raises(ValidationFailed) as err:
        replace(INFO, **change).check()
    assert err.value.field == field


def test_submitting_information_puts_the_trader_in_line_for_review():
    for status in (Status.UNVERIFIED, Status.PENDING, Status.VERIFIED):
        assert model.after_submission(status) is Status.PENDING  # verified again after a change
    for status in (Status.REJECTED, Status.SUSPENDED):
        with pytest.raises(Conflict):
            model.after_submission(status)


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("to", list(Status))
def test_a_reviewer_takes_only_the_allowed_decisions(current, to):
    if to in model.DECISIONS[current]:
        assert model.decide(current, to, complete=True) is to
    else:
        with pytest.raises(Conflict, match="allowed"):
            model.decide(current, to, complete=True)


def test_no_trader_is_verified_without_complete_information():
    with pytest.raises(Conflict, match="complete information"):
        model.decide(Status.PENDING, Status.VERIFIED, complete=False)
    assert model.decide(Status.PENDING, Status.REJECTED, complete=False) is Status.REJECTED


def test_a_rejection_is_final():
    assert model.DECISIONS[Status.REJECTED] == frozenset()


def test_every_unverified_status_says_what_to_do_next():
    assert set(model.NEXT_STEP) == set(Status) - {Status.VERIFIED}


def test_suspension_and_clearance_stop_everything_a_listing_ban_only_listing():
    r = {"new_listing_ban": "2026-07-01T00:00:00+00:00", "traffic_restriction": None}
    assert model.blocking(r) == []
    assert model.blocking(r, listing=True) == ["new_listing_ban until 2026-07-01T00:00:00+00:00"]
    r = {"suspension": "2026-07-01T00:00:00+00:00", "clearance": None}
    assert model.blocking(r) == [
        "clearance (permanent)",
        "suspension until 2026-07-01T00:00:00+00:00",
    ]
    assert model.blocking({}) == model.blocking({}, listing=True) == []


def test_the_deposit_a_category_needs_comes_from_the_policy():
    from xinren import policies

    assert policies.required_deposit("food") == (500_000, "CNY")
    assert policies.required_deposit("electronics") == (1_000_000, "CNY")
    # a category the policy does not name needs the default deposit
    assert policies.required_deposit("garden") == policies.required_deposit("default")
