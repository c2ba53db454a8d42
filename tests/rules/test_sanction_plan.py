"""What each sanction kind does, as `model.plan_sanction` plans it: without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xinren.rules import model
from xinren.rules.model import (
    HoldBalance,
    RemoveListings,
    Requested,
    SanctionFacts,
    SanctionKind,
    TakePenalty,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
SHOP = "merchant:shop"
K = SanctionKind


def facts(**kw):
    return SanctionFacts(7, SHOP, NOW, **kw)


def test_every_kind_has_a_plan():
    for kind in SanctionKind:
        target = "listing:1" if kind is K.LISTING_REMOVAL else None
        plan = model.plan_sanction(Requested(kind, 3, target=target), facts())
        assert plan.kind is kind and plan.starts_at == NOW


def test_a_warning_is_over_once_given():
    plan = model.plan_sanction(Requested(K.WARNING), facts())
    assert (plan.status, plan.ends_at, plan.effects, plan.amount) == ("ended", NOW, (), None)
    assert not plan.timed


def test_a_listing_removal_takes_its_listing_off_sale_and_lasts_its_days():
    plan = model.plan_sanction(Requested(K.LISTING_REMOVAL, 10, target="listing:12"), facts())
    assert plan.target == "listing:12"
    assert plan.effects == (RemoveListings((12,), "violation 7"),)
    assert plan.ends_at == NOW + timedelta(days=10) and plan.timed
    permanent = model.plan_sanction(Requested(K.LISTING_REMOVAL, target="listing:12"), facts())
    assert permanent.ends_at is None and not permanent.timed and permanent.status == "active"


@pytest.mark.parametrize(
    ("deposit", "taken"), [(1_000_000, 500_000), (200_000, 200_000), (0, 0), (-5, -5)]
)
def test_a_penalty_takes_the_rules_amount_but_never_more_than_the_deposit(deposit, taken):
    plan = model.plan_sanction(Requested(K.PENALTY_PAYMENT, amount=500_000), facts(deposit=deposit))
    assert plan.amount == taken
    assert plan.effects == ((TakePenalty(taken),) if taken > 0 else ())
    assert (plan.status, plan.ends_at) == ("ended", NOW)


@pytest.mark.parametrize(("available", "held"), [(30_000, 30_000), (0, 0), (-10, 0)])
def test_a_freeze_holds_the_whole_available_balance_until_it_ends(available, held):
    plan = model.plan_sanction(Requested(K.SETTLEMENT_FREEZE, 30), facts(available=available))
    assert plan.amount == held
    assert plan.effects == ((HoldBalance(held),) if held else ())
    assert plan.ends_at == NOW + timedelta(days=30) and plan.timed


def test_a_clearance_removes_every_active_listing_and_lasts_until_lifted():
    plan = model.plan_sanction(Requested(K.CLEARANCE, 30), facts(active_listings=(3, 4)))
    assert plan.effects == (RemoveListings((3, 4), "clearance (7)"),)
    assert plan.ends_at is None and plan.status == "active" and not plan.timed


@pytest.mark.parametrize("kind", [K.TRAFFIC_RESTRICTION, K.NEW_LISTING_BAN, K.SUSPENSION])
def test_a_restriction_only_restricts_the_party(kind):
    plan = model.plan_sanction(Requested(kind, 7), facts(deposit=9, available=9))
    assert plan.effects == () and plan.amount is None and plan.target == SHOP
    assert plan.ends_at == NOW + timedelta(days=7) and plan.timed
    assert kind in model.RESTRICTING


def test_ending_undoes_what_the_kind_still_holds():
    assert model.undoes(K.SETTLEMENT_FREEZE, "ended", held=True) == ("void_hold", "hand_over")
    assert model.undoes(K.SETTLEMENT_FREEZE, "ended", held=False) == ()
    assert model.undoes(K.LISTING_REMOVAL, "ended", held=False) == ("restore_listings",)
    # a clearance that ran its course leaves the shop cleared; a reversed one restores it
    assert model.undoes(K.CLEARANCE, "ended", held=False) == ()
    assert model.undoes(K.CLEARANCE, "reversed", held=False) == ("restore_listings",)
    for kind in (K.WARNING, K.PENALTY_PAYMENT, K.SUSPENSION, K.TRAFFIC_RESTRICTION):
        assert model.undoes(kind, "reversed", held=False) == ()


def test_restoring_listings_spares_those_another_sanction_still_removes():
    removal = (K.LISTING_REMOVAL.value, "listing:2")
    assert model.listings_to_restore("listing:1", [], [removal]) == [1]
    assert model.listings_to_restore("listing:2", [], [removal]) == []
    assert model.listings_to_restore(SHOP, [1, 2, 3], [removal]) == [1, 3]
    assert model.listings_to_restore(SHOP, [1, 2], [(K.CLEARANCE.value, SHOP)]) == []


def test_restrictions_keep_the_latest_end_and_a_permanent_one_wins():
    early, late = NOW + timedelta(days=1), NOW + timedelta(days=9)
    got = model.restrictions(
        [
            (K.SUSPENSION.value, early),
            (K.SUSPENSION.value, late),
            (K.TRAFFIC_RESTRICTION.value, None),
            (K.TRAFFIC_RESTRICTION.value, late),
            (K.WARNING.value, None),
            (K.LISTING_REMOVAL.value, late),
        ]
    )
    assert got == {K.SUSPENSION.value: late.isoformat(), K.TRAFFIC_RESTRICTION.value: None}
