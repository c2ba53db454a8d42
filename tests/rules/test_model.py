"""The rulebook's arithmetic, without a database."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files

import pytest
import yaml

from xinren.errors import Conflict, ValidationFailed
from xinren.rules import model
from xinren.rules.model import Requested, SanctionKind, Scored, Severity

RAW = yaml.safe_load((files("xinren.policies") / "rulebook" / "2026.1.yaml").read_text("utf-8"))
BOOK = model.parse_rulebook(RAW)


def at(y, m, d):
    return datetime(y, m, d, tzinfo=UTC)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0, 11, None),
        (0, 12, 12),
        (11, 24, 24),
        (0, 36, 36),
        (0, 60, 48),
        (12, 23, None),
        (47, 48, 48),
    ],
)
def test_threshold_arithmetic_heaviest_only(before, after, expected):
    step = model.threshold_reached(BOOK, before, after, Severity.SERIOUS)
    assert (step.points if step else None) == expected


def test_general_and_serious_are_counted_separately_and_expire():
    scored = [
        Scored(1, at(2026, 1, 10), Severity.SERIOUS, 12),
        Scored(2, at(2026, 2, 10), Severity.GENERAL, 4),
        Scored(3, at(2026, 12, 30), Severity.SERIOUS, 6),
    ]
    assert model.total(BOOK, scored, Severity.SERIOUS, date(2026, 12, 31)) == 18
    assert model.total(BOOK, scored, Severity.GENERAL, date(2026, 12, 31)) == 4
    # rolling 12 months: January's 12 points expire in January 2027
    assert model.total(BOOK, scored, Severity.SERIOUS, date(2027, 1, 11)) == 6
    # the calendar-year policy resets everything on 1 January instead
    yearly = replace(BOOK, expiry="calendar_year")
    assert model.total(yearly, scored, Severity.SERIOUS, date(2027, 1, 1)) == 0
    assert model.total(yearly, scored, Severity.SERIOUS, date(2026, 12, 31)) == 18


def test_only_permitted_sanctions_and_the_rules_own_penalty():
    cf, asr = BOOK.rule("CF-1"), BOOK.rule("AS-1")
    [penalty] = model.check_sanctions(cf, [Requested(SanctionKind.PENALTY_PAYMENT)])
    assert penalty.amount == 500_000
    with pytest.raises(Conflict, match="does not permit penalty_payment"):
        model.check_sanctions(asr, [Requested(SanctionKind.PENALTY_PAYMENT, amount=1)])
    with pytest.raises(Conflict, match="states a penalty"):
        model.check_sanctions(cf, [Requested(SanctionKind.PENALTY_PAYMENT, amount=1)])
    with pytest.raises(ValidationFailed, match="names its target"):
        model.check_sanctions(cf, [Requested(SanctionKind.LISTING_REMOVAL)])
    assert model.missing_evidence(cf, ["order"]) == ["inspection_report or sampling_report"]
    assert model.missing_evidence(cf, ["sampling_report"]) == []


def test_points_ranges_follow_the_published_guidelines():
    mr = BOOK.rule("MR-1")
    assert mr.points.check(4, "MR-1") == 4
    with pytest.raises(ValidationFailed, match="aggravating"):
        mr.points.check(None, "MR-1")
    with pytest.raises(ValidationFailed, match="fixed 12"):
        BOOK.rule("CF-1").points.check(6, "CF-1")


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("rules", 0, "category"), "jaywalking", "unknown category"),
        (("rules", 0, "sanctions"), ["warning", "penalty_payment"], "exactly when"),
        (("rules", 1, "points"), {"min": 2, "max": 6}, "sentencing guidelines"),
        (("rules", 0, "evidence"), ["telepathy"], "unknown evidence"),
        (("points", "expiry"), "never", "expiry"),
    ],
)
def test_a_bad_rulebook_is_refused_naming_the_problem(path, value, message):
    raw = copy.deepcopy(RAW)
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    if path == ("rules", 0, "sanctions"):
        raw["rules"][0].pop("penalty")
    with pytest.raises(ValueError, match=message):
        model.parse_rulebook(raw)


def test_version_in_force_and_overlaps():
    old = replace(
        BOOK, version="2025.1", effective_from=date(2025, 1, 1), effective_to=date(2025, 12, 31)
    )
    assert model.in_force([old, BOOK], date(2025, 5, 1)).version == "2025.1"
    assert model.in_force([old, BOOK], date(2026, 5, 1)).version == "2026.1"
    with pytest.raises(Conflict, match="did not exist"):
        model.in_force([old, BOOK], date(2024, 5, 1))
    with pytest.raises(ValueError, match="overlap"):
        model.check_overlaps([replace(old, effective_to=None), BOOK])


def test_appeal_window_and_reporter_standing():
    decided = at(2026, 3, 1)
    due = model.check_appeal_window(BOOK, decided, decided + timedelta(days=10))
    assert due == decided + timedelta(days=25)
    with pytest.raises(Conflict):
        model.check_appeal_window(BOOK, decided, decided + timedelta(days=181))
    assert [model.reporter_standing(BOOK, n).value for n in (0, 2, 3, 4, 5, 9)] == [
        "good",
        "good",
        "warned",
        "warned",
        "suspended",
        "suspended",
    ]
