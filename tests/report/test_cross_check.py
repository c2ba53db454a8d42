"""Every figure of the report against a known year (tests/report/history.py), recorded through
the services: if a query counts the wrong rows, a figure here is off."""

from __future__ import annotations

from datetime import date

import pytest

from xinren.clock import FakeClock
from xinren.documents.store import FileStore
from xinren.report import figures
from xinren.report.export import statements_for
from xinren.report.model import Period, flatten

from . import history

YEAR = Period(date(2026, 1, 1), date(2026, 12, 31))
NEXT = Period(date(2027, 1, 1), date(2027, 12, 31))

ZERO_CATEGORY = {"merchants_sanctioned": 0, "merchants_cleared": 0}


def by_category(**found: tuple[int, int]) -> dict[str, dict[str, int]]:
    out = {
        c: dict(ZERO_CATEGORY)
        for c in (
            "counterfeit",
            "prohibited_goods",
            "misrepresentation",
            "rating_manipulation",
            "after_sales_refusal",
            "late_fulfilment",
            "missing_trader_information",
            "abusive_reporting",
        )
    }
    for c, (s, x) in found.items():
        out[c] = {"merchants_sanctioned": s, "merchants_cleared": x}
    return out


def rule(category: str, zh: str, en: str, sanctioned: int, cleared: int = 0) -> dict:
    return {
        "category": category,
        "title": {"zh": zh, "en": en},
        "merchants_sanctioned": sanctioned,
        "merchants_cleared": cleared,
    }


def expected_2026(refs: history.Refs) -> dict:
    return {
        "period": {"from": "2026-01-01", "to": "2026-12-31", "timezone": "UTC"},
        "generated_at": "2027-01-01T00:00:00+00:00",
        "enforcement": {
            # A (CF-1), B (LF-1; its RM-1 sanctions were reversed), C (MR-1, AS-1), tea (AS-1)
            "merchants_sanctioned": 4,
            "merchants_cleared": 1,  # A, by the ladder at 48 serious points
            # A's four, B's LF-1, C's MR-1 and AS-1, tea's AS-1; B's overturned RM-1 has none
            "statements_of_reasons": 8,
            "by_rule": {
                "AS-1": rule("after_sales_refusal", "拒绝售后", "Refusing after-sales service", 2),
                "CF-1": rule("counterfeit", "出售假冒商品", "Selling counterfeit goods", 1, 1),
                "LF-1": rule("late_fulfilment", "延迟发货", "Late fulfilment", 1),
                "MR-1": rule("misrepresentation", "商品描述不符", "Misrepresenting goods", 1),
            },
            "by_category": by_category(
                counterfeit=(1, 1),
                misrepresentation=(1, 0),
                after_sales_refusal=(2, 0),
                late_fulfilment=(1, 0),
            ),
            "by_sanction": {
                "warning": 3,  # B, C (twice), tea
                "listing_removal": 1,  # C
                "traffic_restriction": 1,  # A's ladder; B's was reversed
                "new_listing_ban": 1,
                "settlement_freeze": 1,
                "penalty_payment": 1,
                "suspension": 0,
                "clearance": 1,
            },
        },
        "gate": {
            "listings_intercepted": 2,
            "listings_held_for_review": 1,
            "merchants_intercepted": 2,
            "by_reason": {
                "unauthorized_brand": 2,  # counted once per listing (grey1 names 3 brands)
                "price_below_reference": 1,
                "image_match": 0,
                "similar_text": 0,
                "merchant_record": 0,  # the merchant with 12 points was held, not blocked
                "other": 0,
            },
        },
        "violations": {
            "decided": 9,
            "by_source": {
                "automated_detection": 1,
                "notice": 1,
                "trusted_flagger": 1,
                "complaint": 1,
                "inspection": 4,
                "own_initiative": 1,
            },
            "fully_automated": 1,
            "partly_automated": 1,
            "share_automated": 2 / 9,
        },
        "appeals": {
            "filed": 2,
            "decided": 2,
            "upheld": 1,
            "reduced": 0,
            "overturned": 1,
            "overturn_rate": 0.5,
            "median_days_to_decide": 3.0,  # 2 and 4 days
            "automated_decisions": 2,
            "automated_overturned": 1,
            "automated_error_rate": 0.5,
        },
        "notices": {
            "received": 9,  # flagger, yan, xu, the troll's six
            "from_trusted_flaggers": 1,
            "decided": 8,
            "founded": 2,
            "unfounded": 1,
            "manifestly_unfounded": 5,
            "not_processed": 1,  # the troll's sixth, while suspended
            "open": 0,
            "founded_share": 0.25,
            "reporters_warned": 1,
            "reporters_suspended": 1,
        },
        "complaints": {
            "filed": 3,
            "by_kind": {
                "not_as_described": 1,
                "counterfeit": 1,
                "quality_defect": 0,
                "safety_hazard": 0,
                "non_delivery": 0,
                "after_sales_refusal": 0,
                "scam": 1,
            },
            "decided": 3,
            "for_buyer": 2,
            "partly_for_buyer": 0,
            "for_merchant": 1,
            "decided_by_default": 0,
            "share_for_buyer": 2 / 3,
            "median_hours_to_decision": 30.0,  # 10, 30, 49 hours
            "p90_hours_to_decision": 45.2,  # 30 + 0.8 x (49 - 30)
        },
        "compensation": {
            "buyers_paid": 5,  # tea, course, three bird's-nest buyers
            "paid": {
                "CNY": {
                    # the recall's refunds: 258 + 516 + 258 yuan still held in escrow
                    "escrow": {"refund": 103_200, "compensation": 0},
                    # tea: 128 back + 500 minimum; recall: 3 x (258, 516, 258) from the seller
                    "merchant": {"refund": 12_800, "compensation": 50_000 + 309_600},
                    "supplier": {"refund": 0, "compensation": 0},
                    # the vanished course: 299 back + 3 x 299, all paid first by the fund
                    "guarantee_fund": {"refund": 29_900, "compensation": 89_700},
                }
            },
            "recovery": {
                "CNY": {
                    "merchant": {  # the nest seller from the manufacturer, which has nothing
                        "supplier": {
                            "claims": 3,
                            "amount": 309_600,
                            "recovered": 0,
                            "written_off": 0,
                            "outstanding": 309_600,
                        }
                    },
                    "guarantee_fund": {  # the fund from the course seller's deposit
                        "merchant": {
                            "claims": 1,
                            "amount": 119_600,
                            "recovered": 100_000,
                            "written_off": 0,
                            "outstanding": 19_600,
                        }
                    },
                }
            },
        },
        "recalls": {
            "recalls": 2,
            "affected_buyers": 5,  # 3 + 2, counted per recall (the buyers' refs overlap)
            "remedied_buyers": 3,
            "share_remedied": 0.6,
        },
        "reviews": {
            "received": 13,  # 2 + 6 + 3 + 2; not the one of 2025 nor the one of 2027
            "excluded": 7,
            "share_excluded": 7 / 13,
            "merchants_affected": 3,
            "rating_changes": [
                {  # nothing genuine left: first
                    "merchant": refs.a,
                    "reviews": 2,
                    "excluded": 2,
                    "raw_rating": 5.0,
                    "rating_without_excluded": None,
                    "change": None,
                },
                {
                    "merchant": refs.c,
                    "reviews": 6,
                    "excluded": 4,
                    "raw_rating": 25 / 6,
                    "rating_without_excluded": 2.5,
                    "change": 2.5 - 25 / 6,
                },
                {
                    "merchant": refs.b,
                    "reviews": 3,
                    "excluded": 1,
                    "raw_rating": 3.0,
                    "rating_without_excluded": 4.0,
                    "change": 1.0,
                },
            ],
        },
    }


def assert_figures(got: dict, want: dict) -> None:
    """Every leaf equal (floats to 1e-9), and no figure left unchecked either way."""
    got_flat, want_flat = flatten(got), flatten(want)
    assert sorted(got_flat) == sorted(want_flat)
    for path, value in want_flat.items():
        if isinstance(value, float):
            assert got_flat[path] == pytest.approx(value, abs=1e-9), path
        else:
            assert got_flat[path] == value, path


@pytest.fixture
def clock():
    return FakeClock(history.START)


@pytest.fixture
def refs(session, clock, tmp_path):
    return history.build(session, clock, FileStore(tmp_path / "documents"))


def test_every_figure_of_the_year_matches_the_history(session, clock, refs):
    report = figures.report(session, clock, YEAR)
    assert_figures(report.as_dict(), expected_2026(refs))


def test_the_first_moment_of_the_next_year_belongs_to_the_next_year(session, clock, refs):
    got = figures.report(session, clock, NEXT).as_dict()
    assert got["enforcement"]["merchants_sanctioned"] == 1
    assert got["enforcement"]["by_rule"].keys() == {"LF-1"}
    assert got["enforcement"]["statements_of_reasons"] == 1
    assert got["violations"]["decided"] == got["violations"]["by_source"]["own_initiative"] == 1
    assert got["violations"]["share_automated"] == 0.0
    assert got["gate"]["listings_intercepted"] == 1
    assert got["notices"]["received"] == got["notices"]["open"] == 1
    assert got["reviews"]["received"] == 1 and got["reviews"]["excluded"] == 0
    # rates over nothing are None, never 0 and never a division by zero
    for path in (
        "appeals.overturn_rate",
        "appeals.median_days_to_decide",
        "appeals.automated_error_rate",
        "notices.founded_share",
        "complaints.share_for_buyer",
        "complaints.median_hours_to_decision",
        "complaints.p90_hours_to_decision",
        "recalls.share_remedied",
    ):
        assert flatten(got)[path] is None, path


def test_a_day_period_and_the_statements_agree_with_the_figures(session, clock, refs):
    one_day = figures.report(session, clock, Period(history.START.date(), history.START.date()))
    # on the first day: A's first counterfeiting decision only (penalty and the first step)
    assert one_day.enforcement.statements == 1
    assert one_day.violations.decided == 1
    ids = list(figures.statement_ids(session, YEAR))
    assert len(ids) == 8
    statements = statements_for(session, ids)
    assert [s["puid"] for s in statements] == [f"xinren-violation-{i}" for i in ids]
    assert {s["automated_decision"] for s in statements} == {
        "AUTOMATED_DECISION_NOT_AUTOMATED",
        "AUTOMATED_DECISION_PARTIALLY",
    }
    sources = sorted(s["source_type"] for s in statements)
    assert sources.count("SOURCE_TRUSTED_FLAGGER") == 1
    assert sources.count("SOURCE_ARTICLE_16") == 1
