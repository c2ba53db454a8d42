"""Enforcement with due process: the ladder, permitted sanctions only, the rule in force at the
conduct, evidence required, reviewer independence, appeals that reverse everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import stories
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore
from xinren.errors import Conflict, Forbidden, NotFound, TraderNotVerified, ValidationFailed
from xinren.events import service as events
from xinren.ledger import service as ledger
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.rules import rulebooks
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind
from xinren.timers import service as timers


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 3, 1, tzinfo=UTC))


@pytest.fixture
def world(session, clock, tmp_path):
    case = stories.phone_case(session, clock, FileStore(tmp_path / "docs"), "e")
    listing = catalog.list_listings(session, merchant=case.refs["shop"])[0]
    return case, case.refs["shop"], listing.id, f"document:{case.docs['report']}"


def counterfeit(session, clock, shop, report, key, *, sanctions=(), ago=timedelta(hours=1)):
    return rules.decide(
        session,
        clock,
        key,
        subject=shop,
        rule_id="CF-1",
        conduct_at=clock.now() - ago,
        facts="independent sampling found the goods counterfeit",
        evidence=[report],
        source="inspection",
        decided_by="reviewer:a",
        requested=sanctions,
    )


def test_repeated_counterfeiting_climbs_the_ladder_to_clearance(session, clock, world):
    _case, shop, listing, report = world
    expected = [
        ("serious 12", {"traffic_restriction", "new_listing_ban"}, 7),
        ("serious 24", {"traffic_restriction", "new_listing_ban"}, 14),
        ("serious 36", {"traffic_restriction", "new_listing_ban", "settlement_freeze"}, 21),
        ("serious 48", {"clearance"}, None),
    ]
    for n, (ladder, kinds, days) in enumerate(expected):
        v = counterfeit(session, clock, shop, report, f"cf-{n}")
        steps = [s for s in v.sanctions if s.cause == "ladder"]
        assert {s.ladder for s in steps} == {ladder}
        assert {s.kind.value for s in steps} == kinds
        for s in steps:
            assert (s.ends_at - s.starts_at).days == days if days else s.ends_at is None
        assert rules.points(session, shop, clock.now())["serious"] == 12 * (n + 1)
        clock.advance(days=1)
    party = parties.get(session, shop)
    assert "clearance" in party.restrictions and party.restrictions["clearance"] is None
    with pytest.raises(TraderNotVerified, match="clearance"):
        orders.create_order(
            session,
            clock,
            "after",
            buyer="buyer:1",
            merchant=shop,
            total=100,
            currency="CNY",
            category="electronics",
        )
    assert catalog.get_listing(session, listing).status == "removed"


def test_only_the_heaviest_threshold_reached_applies(session, clock, world, tmp_path):
    _, shop, _, _ = world
    shot = documents.add(
        session,
        clock,
        FileStore(tmp_path / "more"),
        b"drugs",
        DocumentMeta(DocType.SCREENSHOT, "image/png", "reviewer:a", shop),
    ).sha256
    v = rules.decide(
        session,
        clock,
        "pg",
        subject=shop,
        rule_id="PG-1",
        conduct_at=clock.now(),
        facts="listed unlicensed medicine",
        evidence=[f"document:{shot}"],
        source="own_initiative",
        decided_by="reviewer:a",
        points_given=36,
    )
    ladder = {s.ladder for s in v.sanctions if s.cause == "ladder"}
    assert ladder == {"serious 36"}  # not 12 and 24 as well


def test_a_fine_no_rule_permits_is_refused_and_changes_nothing(session, clock, world):
    """The article's honest shop: fined for 'refusing after-sales' after malicious orders."""
    _, shop, _, _ = world
    deposit_before = deposits.deposit_balance(session, shop)
    first_order = f"order:{world[0].order_id}"
    with pytest.raises(Conflict, match="does not permit penalty_payment") as err:
        rules.decide(
            session,
            clock,
            "as-fine",
            subject=shop,
            rule_id="AS-1",
            conduct_at=clock.now(),
            facts="buyer says the shop refused a refund",
            evidence=[first_order],
            source="complaint",
            decided_by="reviewer:a",
            points_given=2,
            requested=[Requested(SanctionKind.PENALTY_PAYMENT, amount=300_000)],
        )
    assert err.value.field == "sanctions"
    assert deposits.deposit_balance(session, shop) == deposit_before
    assert rules.list_violations(session, subject=shop) == []
    # a penalty other than the rule's own amount is refused too
    _, _, _, report = world
    with pytest.raises(Conflict, match="states a penalty of 500000"):
        counterfeit(
            session,
            clock,
            shop,
            report,
            "cf-x",
            sanctions=[Requested(SanctionKind.PENALTY_PAYMENT, amount=900_000)],
        )


def test_evidence_the_rule_requires_is_mandatory(session, clock, world):
    case, shop, _, _ = world
    with pytest.raises(
        Conflict, match="requires evidence of type inspection_report or sampling_report"
    ):
        counterfeit(session, clock, shop, f"order:{case.order_id}", "cf-e")
    with pytest.raises(NotFound):
        counterfeit(session, clock, shop, "document:" + "0" * 64, "cf-e2")
    with pytest.raises(ValidationFailed):
        counterfeit(session, clock, shop, "photo-of-a-fake", "cf-e3")


def test_conduct_is_judged_under_the_rules_in_force_then(session, clock, world):
    _, shop, _, report = world
    # in 2025 counterfeiting carried 6 points and no penalty
    old = counterfeit(session, clock, shop, report, "cf-2025", ago=timedelta(days=90))
    assert (old.rule_version, old.points) == ("2025.1", 6)
    with pytest.raises(Conflict, match="does not permit penalty_payment"):
        counterfeit(
            session,
            clock,
            shop,
            report,
            "cf-2025b",
            ago=timedelta(days=90),
            sanctions=[Requested(SanctionKind.PENALTY_PAYMENT)],
        )
    # rating manipulation became a rule only in 2026: no retroactive rules
    with pytest.raises(ValidationFailed, match="never under later ones"):
        rules.decide(
            session,
            clock,
            "rm-2025",
            subject=shop,
            rule_id="RM-1",
            conduct_at=clock.now() - timedelta(days=90),
            facts="fake reviews",
            evidence=[report],
            source="automated_detection",
            decided_by="system",
        )
    assert rulebooks.in_force_on(clock.now().date()).version == "2026.1"


def test_points_expire_after_twelve_months(session, clock, world):
    _, shop, _, report = world
    counterfeit(session, clock, shop, report, "cf-1")
    assert rules.points(session, shop, clock.now())["serious"] == 12
    assert rules.points(session, shop, clock.now() + timedelta(days=366))["serious"] == 0


def test_sanctions_end_by_timer_and_restrictions_follow(session, clock, world, factory):
    _, shop, _, report = world
    counterfeit(session, clock, shop, report, "cf-t")
    assert set(parties.get(session, shop).restrictions) == {
        "traffic_restriction",
        "new_listing_ban",
    }
    due = [t for t in timers.pending(session) if t.kind == rules.SANCTION_END]
    assert len(due) == 2 and all(t.due_at == clock.now() + timedelta(days=7) for t in due)
    clock.advance(days=8)
    for t in due:
        rules._sanction_end(session, clock, t)
    assert parties.get(session, shop).restrictions == {}
    topics = [e.topic for e in events.read(session, limit=2000)]
    assert topics.count("sanction.ended") == 2


def test_appeal_overturns_everything_and_refunds_the_penalty(session, clock, world):
    _, shop, listing, report = world
    deposit = deposits.deposit_balance(session, shop)
    v = counterfeit(
        session,
        clock,
        shop,
        report,
        "cf-a",
        sanctions=[
            Requested(SanctionKind.PENALTY_PAYMENT),
            Requested(SanctionKind.LISTING_REMOVAL, target=f"listing:{listing}"),
        ],
    )
    assert deposits.deposit_balance(session, shop) == deposit - 500_000
    assert ledger.get_account(session, rules.PENALTIES).balance.net == 500_000
    assert catalog.get_listing(session, listing).status == "removed"
    with pytest.raises(Forbidden):
        rules.file_appeal(session, clock, "ap-x", v.id, appellant="merchant:other", grounds="x")
    appeal = rules.file_appeal(
        session, clock, "ap", v.id, appellant=shop, grounds="the lab tested another shop's goods"
    )
    with pytest.raises(Forbidden, match="took no part"):
        rules.decide_appeal(
            session, clock, appeal["id"], outcome="overturned", reasons="r", reviewer="reviewer:a"
        )
    with pytest.raises(Forbidden, match="never by automation"):
        rules.decide_appeal(
            session,
            clock,
            appeal["id"],
            outcome="overturned",
            reasons="r",
            reviewer="system",
            automated=True,
        )
    done = rules.decide_appeal(
        session,
        clock,
        appeal["id"],
        outcome="overturned",
        reasons="the sample was not from this shop's batch",
        reviewer="reviewer:b",
    )
    assert done["status"] == "overturned"
    assert deposits.deposit_balance(session, shop) == deposit
    assert ledger.get_account(session, rules.PENALTIES).balance.net == 0
    assert catalog.get_listing(session, listing).status == "active"
    assert parties.get(session, shop).restrictions == {}
    assert rules.points(session, shop, clock.now())["serious"] == 0
    after = rules.get_violation(session, v.id)
    assert after.status == "overturned" and all(s.status == "reversed" for s in after.sanctions)
    assert [t for t in timers.pending(session) if t.kind == rules.SANCTION_END] == []


def test_appeal_window_and_reduction(session, clock, world):
    case, shop, _, _ = world
    v = rules.decide(
        session,
        clock,
        "mr",
        subject=shop,
        rule_id="MR-1",
        conduct_at=clock.now(),
        facts="host claimed 5G",
        evidence=[
            f"listing:{catalog.list_listings(session, merchant=shop)[0].id}",
            f"order:{case.order_id}",
        ],
        source="complaint",
        decided_by="reviewer:a",
        points_given=6,
        requested=[Requested(SanctionKind.TRAFFIC_RESTRICTION, days=7)],
    )
    with pytest.raises(ValidationFailed, match="2 to 6"):
        rules.decide(
            session,
            clock,
            "mr2",
            subject=shop,
            rule_id="MR-1",
            conduct_at=clock.now(),
            facts="x",
            evidence=[
                f"order:{case.order_id}",
                f"listing:{catalog.list_listings(session, merchant=shop)[0].id}",
            ],
            source="complaint",
            decided_by="reviewer:a",
            points_given=9,
        )
    appeal = rules.file_appeal(
        session, clock, "ap", v.id, appellant=shop, grounds="corrected at once"
    )
    restriction = next(s for s in v.sanctions if s.kind is SanctionKind.TRAFFIC_RESTRICTION)
    reduced = rules.decide_appeal(
        session,
        clock,
        appeal["id"],
        outcome="reduced",
        reasons="corrected before any complaint",
        reviewer="reviewer:b",
        new_points=2,
        lift=[restriction.id],
    )
    assert reduced["new_points"] == 2
    assert rules.points(session, shop, clock.now())["general"] == 2
    assert parties.get(session, shop).restrictions == {}
    clock.advance(days=181)
    with pytest.raises(Conflict, match="appeal window of 180 days closed"):
        rules.file_appeal(session, clock, "late", v.id, appellant=shop, grounds="late")


def test_backtest_reports_what_a_draft_would_change_without_writing(session, clock, world):
    _, shop, _, report = world
    counterfeit(session, clock, shop, report, "cf-b")
    before = len(events.read(session, limit=5000))
    changes = rules.backtest(session, rulebooks.version("2026.2"))
    assert any(
        c.subject == shop and c.change == "appears" and "serious 24" in c.sanction for c in changes
    )
    assert any(
        c.subject == shop and c.change == "disappears" and "serious 12" in c.sanction
        for c in changes
    )
    assert len(events.read(session, limit=5000)) == before
