"""The report's pure parts: the period, rates and percentiles, sorting records into the report's
categories, showing figures, and labels complete in both languages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html import escape

import pytest

from xinren.cases.model import KINDS
from xinren.errors import ValidationFailed
from xinren.report import html, model
from xinren.report.model import (
    LABELS,
    Period,
    RatingChange,
    biggest_changes,
    flatten,
    gate_reason,
    label,
    party_class,
    payer_class,
    rate,
    show,
)
from xinren.rules.model import CATEGORIES, SanctionKind, Source
from xinren.stats import median, percentile

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_period_is_whole_utc_days_both_included():
    p = Period.parse("2026-01-01", "2026-12-31")
    assert p.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert p.end == datetime(2027, 1, 1, tzinfo=UTC)  # exclusive: all of 31 December counts
    assert p.as_dict() == {"from": "2026-01-01", "to": "2026-12-31", "timezone": "UTC"}
    assert Period.parse(date(2026, 5, 1), "2026-05-01").end == datetime(2026, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        ("2026-13-01", "2026-12-31", "from"),
        ("26-01-01", "2026-12-31", "from"),
        ("2026-01-01", "yesterday", "to"),
        ("2026-02-30", "2026-03-01", "from"),
        ("2026-12-31", "2026-01-01", "to"),  # to before from
        ("2026-01-01", "9999-12-31", "to"),
    ],
)
def test_a_bad_period_names_its_field(first, last, field):
    with pytest.raises(ValidationFailed) as err:
        Period.parse(first, last)
    assert err.value.field == field


def test_rates_over_nothing_are_none_not_zero():
    assert rate(0, 0) is None
    assert rate(0, 4) == 0.0
    assert rate(1, 4) == 0.25
    assert model.mean(0, 0) is None


def test_percentiles_interpolate_between_ranks():
    assert median([]) is None and percentile([], 90) is None
    assert median([7.0]) == percentile([7.0], 90) == 7.0
    assert median([1, 2, 3, 4]) == 2.5
    assert median([3, 1, 2]) == 2
    assert percentile([10, 30, 49], 90) == pytest.approx(45.2)
    assert percentile([10, 30, 49], 0) == 10 and percentile([10, 30, 49], 100) == 49
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_the_gates_reasons_are_sorted_into_kinds():
    reasons = {
        "offers Huamei goods (brand keywords) without a valid authorization chain for m:x": (
            "unauthorized_brand"
        ),
        "price is 5% of Huamei's reference minimum": "price_below_reference",
        "an image matches Huamei's official images (PDQ distance 12) from an unauthorized seller": (
            "image_match"
        ),
        "text is close to a listing intercepted before": "similar_text",
        "the merchant holds 24 serious points": "merchant_record",
        "something new": "other",
    }
    for text, kind in reasons.items():
        assert gate_reason(text) == kind
    assert set(reasons.values()) == set(model.GATE_REASONS)


def test_payers_are_sorted_by_who_they_are():
    assert payer_class("escrow", "merchant:a") == "escrow"
    assert payer_class("guarantee_fund", "platform") == "guarantee_fund"
    assert payer_class("deposit", "merchant:a") == "merchant"
    assert payer_class("available", "supplier:tongda") == "supplier"
    assert party_class("manufacturer:x") == party_class("brand_owner:y") == "supplier"
    assert party_class("host:top") == "host"
    assert party_class("platform") == "guarantee_fund"
    assert party_class("lab:x") == "other"
    assert set(model.ALWAYS_SHOWN_PAYERS) <= set(model.PAYERS)


def test_the_biggest_rating_changes_come_first_and_only_ten():
    rows = [RatingChange(f"merchant:m{i}", 10, i % 5, 40, 40 - 5 * (i % 5)) for i in range(20)]
    rows.append(RatingChange("merchant:allfake", 3, 3, 15, 0))
    top = biggest_changes(rows)
    assert len(top) == 10
    assert top[0].merchant == "merchant:allfake" and top[0].change is None
    changes = [abs(r.change) for r in top[1:] if r.change is not None]
    assert changes == sorted(changes, reverse=True)
    assert all(r.excluded for r in top)  # a merchant with nothing excluded did not change
    r = RatingChange("merchant:x", 4, 1, 17, 12)
    assert (r.raw, r.honest, r.change) == (4.25, 4.0, -0.25)


def test_flatten_names_every_leaf_by_its_path():
    assert flatten({"a": {"b": 1, "c": [{"d": None}, 2]}, "e": "x"}) == {
        "a.b": 1,
        "a.c.0.d": None,
        "a.c.1": 2,
        "e": "x",
    }


def test_figures_are_shown_the_same_way_in_both_languages_except_words():
    assert show(63_000, "count", "zh") == show(63_000, "count", "en") == "63,000"
    assert show(0.125, "rate", "en") == "12.5%"
    assert show(None, "rate", "en") == "n/a" and show(None, "rate", "zh") == "不适用"
    assert show(30.0, "hours", "en") == "30.0 h" and show(30.0, "hours", "zh") == "30.0 小时"
    assert show(3.0, "days", "zh") == "3.0 天"
    assert show(12_800, "money", "en", "CNY") == "¥128.00"
    assert show(25 / 6, "rating", "en") == "4.17"
    assert show(-1.5, "change", "en") == "-1.50" and show(1.0, "change", "zh") == "+1.00"
    with pytest.raises(ValueError):
        show(1, "bananas", "en")
    with pytest.raises(ValidationFailed):
        label("title", "fr")


def test_both_languages_are_complete():
    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key
        if not key.startswith("lang_"):
            assert CJK.search(zh), f"{key}: the Chinese label has no Chinese"
            assert zh != en, key
    assert set(model.CATEGORIES) == CATEGORIES
    enumerated = {
        "source": [s.value for s in Source],
        "category": sorted(CATEGORIES),
        "sanction": [k.value for k in SanctionKind],
        "reason": model.GATE_REASONS,
        "complaint": KINDS,
        "payer": model.PAYERS,
    }
    for prefix, keys in enumerated.items():
        for k in keys:
            assert f"{prefix}_{k}" in LABELS, f"{prefix}_{k}"


def _empty_report() -> model.Report:
    p = Period.parse("2026-01-01", "2026-12-31")
    return model.Report(
        period=p,
        generated_at=datetime(2027, 1, 1, tzinfo=UTC),
        enforcement=model.Enforcement(
            0, 0, 0, (), tuple(model.CategoryRow(c, 0, 0) for c in model.CATEGORIES), {}
        ),
        gate=model.Gate(0, 0, 0, dict.fromkeys(model.GATE_REASONS, 0)),
        violations=model.Violations(0, dict.fromkeys(model.SOURCES, 0), 0, 0),
        appeals=model.Appeals(0, 0, 0, 0, (), 0, 0),
        notices=model.Notices(0, 0, 0, 0, 0, 0, 0, 0),
        complaints=model.Complaints(0, dict.fromkeys(model.COMPLAINTS, 0), 0, 0, 0, 0, ()),
        compensation=model.Compensation(0, (model.PaidRow("CNY", "merchant", 0, 0),), ()),
        recalls=model.Recalls(0, 0, 0),
        reviews=model.Reviews(0, 0, 0, ()),
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_empty_period_renders_without_dividing_by_zero(lang):
    report = _empty_report()
    page = html.page(report, lang)
    assert f'<html lang="{html.HTML_LANG[lang]}"' in page
    assert escape(label("none_in_period", lang)) in page
    assert escape(label("n_a", lang)) in page
    other = "en" if lang == "zh" else "zh"
    assert escape(label("sec_complaints", other)) not in page  # one language on the page


def test_the_file_holds_both_languages_and_nothing_from_outside():
    doc = html.document(_empty_report(), "zh")
    for lang in ("zh", "en"):
        for key in ("sec_enforcement", "sec_gate", "sec_reviews", "footer"):
            assert escape(label(key, lang)) in doc
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", doc)
    assert "@import" not in doc and "url(" not in doc
    assert "@media print" in doc


def test_the_file_report_holds_both_languages_with_unique_ids():
    ids = re.findall(r' id="([^"]+)"', html.document(_empty_report(), "en"))
    assert ids and len(ids) == len(set(ids))


def test_a_period_in_a_time_zone_starts_and_ends_at_local_midnight():
    p = Period.parse("2026-01-01", "2026-12-31", "Asia/Shanghai")
    assert p.start == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert p.end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert p.as_dict()["timezone"] == "Asia/Shanghai"
    with pytest.raises(ValidationFailed) as e:
        Period.parse("2026-01-01", "2026-12-31", "Not/AZone")
    assert e.value.field == "tz"
