"""Points and the ladder, appeal windows, reporters' standing and the backtest of a draft,
pure: services pass dates and records in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from xinren.errors import Conflict
from xinren.rules.model.rulebook import Rulebook, SanctionKind, Severity, Threshold


@dataclass(frozen=True, slots=True)
class Scored:
    """A counted violation: when the conduct was, how severe, how many points."""

    id: int
    conduct_at: datetime
    severity: Severity
    points: int


def counting_since(book: Rulebook, day: date) -> date:
    """The first day whose violations still count on `day`."""
    if book.expiry == "calendar_year":
        return date(day.year, 1, 1)
    return day - timedelta(days=365)


def total(book: Rulebook, scored: Iterable[Scored], severity: Severity, day: date) -> int:
    since = counting_since(book, day)
    return sum(
        s.points for s in scored if s.severity is severity and since <= s.conduct_at.date() <= day
    )


def threshold_reached(
    book: Rulebook, before: int, after: int, severity: Severity
) -> Threshold | None:
    """The heaviest threshold crossed going from `before` to `after` points; only it applies."""
    crossed = [t for t in book.ladder[severity] if before < t.points <= after]
    return crossed[-1] if crossed else None


# --- appeals and reporters ---


def check_appeal_window(book: Rulebook, decided_at: datetime, now: datetime) -> datetime:
    """The appeal's decision deadline, if the appeal is in time."""
    if now > decided_at + book.appeal_window:
        raise Conflict(
            f"the appeal window of {book.appeal_window.days} days closed on "
            f"{(decided_at + book.appeal_window).date()}",
            field="violation_id",
        )
    return now + book.appeal_decision


class ReporterStanding(enum.StrEnum):
    GOOD = "good"
    WARNED = "warned"
    SUSPENDED = "suspended"


def reporter_standing(book: Rulebook, manifestly_unfounded: int) -> ReporterStanding:
    if manifestly_unfounded >= book.suspend_after:
        return ReporterStanding.SUSPENDED
    if manifestly_unfounded >= book.warn_after:
        return ReporterStanding.WARNED
    return ReporterStanding.GOOD


# --- backtest ---


@dataclass(frozen=True, slots=True)
class Change:
    subject: str
    sanction: str
    change: str  # appears | disappears
    why: str


@dataclass(frozen=True, slots=True)
class PastViolation:
    id: int
    subject: str
    rule_id: str
    conduct_at: datetime
    points: int
    sanctions: tuple[str, ...] = field(default=())


def ladder_outcome(book: Rulebook, past: Sequence[PastViolation]) -> dict[str, set[str]]:
    """Replay violations in conduct order under `book`: the ladder sanctions each subject
    reaches, as 'threshold <severity> <points>: <sanctions>' labels."""
    out: dict[str, set[str]] = {}
    scored: dict[str, list[Scored]] = {}
    for v in sorted(past, key=lambda p: (p.conduct_at, p.id)):
        rule = book.rules.get(v.rule_id)
        if rule is None:
            continue
        points = (
            rule.points.fixed
            if rule.points.fixed is not None
            else min(max(v.points, rule.points.low), rule.points.high)
        )
        mine = scored.setdefault(v.subject, [])
        day = v.conduct_at.date()
        before = total(book, mine, rule.severity, day)
        mine.append(Scored(v.id, v.conduct_at, rule.severity, points))
        step = threshold_reached(book, before, before + points, rule.severity)
        labels = out.setdefault(v.subject, set())
        for s in v.sanctions:
            if SanctionKind(s) in rule.sanctions:
                labels.add(f"{v.rule_id} #{v.id}: {s}")
        if step is not None:
            labels.add(
                f"{rule.severity.value} {step.points} points: "
                + ", ".join(k.value for k in step.sanctions)
            )
    return out


def backtest(current: Rulebook, draft: Rulebook, past: Sequence[PastViolation]) -> list[Change]:
    """What a draft would change over past violations: sanctions that appear or disappear."""
    now, then = ladder_outcome(current, past), ladder_outcome(draft, past)
    changes = []
    for subject in sorted(set(now) | set(then)):
        a, b = now.get(subject, set()), then.get(subject, set())
        changes += [Change(subject, s, "appears", f"under {draft.version}") for s in sorted(b - a)]
        changes += [
            Change(subject, s, "disappears", f"not under {draft.version}") for s in sorted(a - b)
        ]
    return changes
