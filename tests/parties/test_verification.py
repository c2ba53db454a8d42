"""Trader verification: complete information, a reviewer's decision, and no trading before it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from xinren.demo import samples
from xinren.errors import AlreadyExists, Conflict, TraderNotVerified, ValidationFailed
from xinren.events import service as events
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status, TraderInfo

INFO = TraderInfo(
    legal_name="Hangzhou Xiaoyang Trading Co., Ltd.",
    address="88 Wensan Road, Hangzhou",
    registration_number="91330100MA2H3XYZ1K",
    payment_account="CN-ALIPAY-2088000000000001",
    contact_email="legal@xiaoyang.example",
    self_certified=True,
)


def order(session, clock, key="o1", merchant="merchant:shop", host=None):
    return orders.create_order(
        session,
        clock,
        key,
        buyer="buyer:1",
        merchant=merchant,
        total=9_900,
        currency="CNY",
        category="default",
        host=host,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"address": " "}, "address"),
        ({"registration_number": "abc"}, "registration_number"),
        ({"payment_account": ""}, "payment_account"),
        ({"contact_email": None, "contact_phone": None}, "contact_email"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"self_certified": False}, "self_certified"),
    ],
)
def test_incomplete_trader_information_names_the_field(session, clock, change, field):
    with pytest.raises(ValidationFailed) as info:
        parties.register(
            session, clock, "merchant:x", display_name="X", info=replace(INFO, **change)
        )
    assert info.value.field == field
    with pytest.raises(Exception, match="no party"):
        parties.get(session, "merchant:x")


def test_bad_references_are_refused(session, clock):
    for ref in ("merchant", "shop:1", "merchant:UPPER", "buyer:1", "merchant:" + "x" * 65):
        with pytest.raises(ValidationFailed, match="<kind>:<id>"):
            parties.register(session, clock, ref, display_name="X")


def test_unverified_trader_cannot_take_orders_until_a_reviewer_verifies(session, clock):
    parties.register(session, clock, "merchant:shop", display_name="Shop")
    deposits.pay_deposit(session, clock, "dep", "merchant:shop", 1_000_000, "CNY")
    with pytest.raises(TraderNotVerified, match=r"unverified .* submit its trader information"):
        order(session, clock)
    with pytest.raises(Conflict, match="unverified trader cannot become verified"):
        parties.decide(
            session, clock, "v0", "merchant:shop", Status.VERIFIED, reason="ok", decided_by="r:1"
        )
    party = parties.submit_info(
        session, clock, "info-1", "merchant:shop", INFO, actor="merchant:shop"
    )
    assert party.status is Status.PENDING
    with pytest.raises(TraderNotVerified, match=r"pending .* wait for a reviewer"):
        order(session, clock)
    parties.decide(
        session,
        clock,
        "v1",
        "merchant:shop",
        Status.VERIFIED,
        reason="licence checked",
        decided_by="reviewer:1",
    )
    assert order(session, clock).merchant == "merchant:shop"
    # a suspended trader stops taking orders; reinstating lets it trade again
    parties.decide(
        session,
        clock,
        "s1",
        "merchant:shop",
        Status.SUSPENDED,
        reason="licence expired",
        decided_by="reviewer:1",
    )
    with pytest.raises(TraderNotVerified, match="suspended"):
        order(session, clock, key="o2")
    feed = [e for e in events.read(session, limit=1000) if e.topic == "party.verification_changed"]
    assert [(e.payload["from"], e.payload["to"]) for e in feed] == [
        ("unverified", "pending"),
        ("pending", "verified"),
        ("verified", "suspended"),
    ]
    assert [h["to"] for h in parties.history(session, "merchant:shop")] == [
        "pending",
        "verified",
        "suspended",
    ]


def test_changing_information_requires_verification_again(session, clock):
    samples.verified(session, clock, "merchant:shop", info=INFO)
    moved = replace(INFO, address="1 New Street, Shanghai")
    party = parties.submit_info(
        session, clock, "info-2", "merchant:shop", moved, actor="merchant:shop"
    )
    assert party.status is Status.PENDING and party.info == moved
    # a retry with the same key changes nothing more
    again = parties.submit_info(
        session, clock, "info-2", "merchant:shop", moved, actor="merchant:shop"
    )
    assert again == party and len(parties.history(session, "merchant:shop")) == 3


def test_rejected_is_final_and_decisions_need_reasons(session, clock):
    parties.register(session, clock, "supplier:s", display_name="S", info=INFO)
    with pytest.raises(ValidationFailed, match="reason is required"):
        parties.decide(
            session, clock, "r0", "supplier:s", Status.REJECTED, reason=" ", decided_by="r"
        )
    parties.decide(
        session, clock, "r1", "supplier:s", Status.REJECTED, reason="forged licence", decided_by="r"
    )
    with pytest.raises(Conflict, match="rejected"):
        parties.submit_info(session, clock, "i", "supplier:s", INFO, actor="supplier:s")


def test_register_is_a_safe_retry_but_not_an_update(session, clock):
    first = parties.register(
        session, clock, "lab:cti", display_name="CTI", accreditation="CNAS L0001"
    )
    assert (
        parties.register(session, clock, "lab:cti", display_name="CTI", accreditation="CNAS L0001")
        == first
    )
    with pytest.raises(AlreadyExists, match="trader-info"):
        parties.register(session, clock, "lab:cti", display_name="Other")


def test_the_real_identity_of_seller_and_host_of_an_order(session, clock):
    samples.verified(session, clock, "merchant:shop", info=INFO)
    samples.verified(session, clock, "host:star")
    deposits.pay_deposit(session, clock, "dep", "merchant:shop", 1_000_000, "CNY")
    o = order(session, clock, host="host:star")
    who = orders.parties_of(session, o.id)
    assert who["seller"]["legal_name"] == INFO.legal_name
    assert who["seller"]["registration_number"] == INFO.registration_number
    assert who["seller"]["payment_account"] == INFO.payment_account
    assert who["host"]["legal_name"] == "Star Trading Co., Ltd."
