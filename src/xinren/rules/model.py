"""The rulebook and its arithmetic, pure: which rule was in force, what it permits, how points
add up to the ladder's thresholds, when an appeal may be filed, when a reporter is abusive.

Nothing here reads the clock or the database; services pass dates and records in.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from xinren.errors import Conflict, ValidationFailed

CATEGORIES = frozenset(
    {
        "counterfeit",
        "misrepresentation",
        "rating_manipulation",
        "late_fulfilment",
        "after_sales_refusal",
        "prohibited_goods",
        "missing_trader_information",
        "abusive_reporting",
    }
)
EVIDENCE_TYPES = frozenset(
    {
        "inspection_report",
        "sampling_report",
        "brand_authorization",
        "invoice",
        "screenshot",
        "stream_recording",
        "business_license",
        "other",
        "order",
        "listing",
        "live_claim",
        "event",
    }
)


class Severity(enum.StrEnum):
    GENERAL = "general"
    SERIOUS = "serious"


class SanctionKind(enum.StrEnum):
    WARNING = "warning"
    LISTING_REMOVAL = "listing_removal"
    TRAFFIC_RESTRICTION = "traffic_restriction"
    NEW_LISTING_BAN = "new_listing_ban"
    SETTLEMENT_FREEZE = "settlement_freeze"
    PENALTY_PAYMENT = "penalty_payment"
    SUSPENSION = "suspension"
    CLEARANCE = "clearance"


class Source(enum.StrEnum):
    AUTOMATED_DETECTION = "automated_detection"
    NOTICE = "notice"
    TRUSTED_FLAGGER = "trusted_flagger"
    COMPLAINT = "complaint"
    INSPECTION = "inspection"
    OWN_INITIATIVE = "own_initiative"


class Automation(enum.StrEnum):
    FULLY = "fully"
    PARTIALLY = "partially"
    NOT_AUTOMATED = "not_automated"


@dataclass(frozen=True, slots=True)
class Points:
    fixed: int | None
    low: int
    high: int
    aggravating: tuple[str, ...] = ()
    mitigating: tuple[str, ...] = ()

    def check(self, points: int | None, rule_id: str) -> int:
        """The points to record: the fixed figure, or one inside the published range."""
        if self.fixed is not None:
            if points not in (None, self.fixed):
                raise ValidationFailed(
                    f"rule {rule_id} carries a fixed {self.fixed} points; {points} is not allowed",
                    field="points",
                )
            return self.fixed
        if points is None or not self.low <= points <= self.high:
            raise ValidationFailed(
                f"rule {rule_id} carries {self.low} to {self.high} points; choose within the "
                "range by its sentencing guidelines (aggravating: "
                f"{'; '.join(self.aggravating) or 'none'}; mitigating: "
                f"{'; '.join(self.mitigating) or 'none'})",
                field="points",
            )
        return points


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title_zh: str
    title_en: str
    description: str
    category: str
    severity: Severity
    points: Points
    evidence: tuple[frozenset[str], ...]  # each group: one of these types is required
    sanctions: frozenset[SanctionKind]
    penalty: int | None  # a fixed penalty in minor units, where the rule states one
    dsa: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Threshold:
    points: int
    sanctions: tuple[SanctionKind, ...]
    days: int | None  # None: permanent (clearance)


@dataclass(frozen=True, slots=True)
class Rulebook:
    version: str
    status: str  # published | draft
    effective_from: date
    effective_to: date | None
    currency: str
    expiry: str  # rolling_12_months | calendar_year
    ladder: Mapping[Severity, tuple[Threshold, ...]]
    appeal_window: timedelta
    appeal_decision: timedelta
    notice_window: timedelta
    warn_after: int
    suspend_after: int
    reporter_suspension: timedelta
    territorial_scope: tuple[str, ...]
    redress: str
    rules: Mapping[str, Rule]

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def rule(self, rule_id: str) -> Rule:
        if rule_id not in self.rules:
            raise ValidationFailed(
                f"rulebook {self.version} has no rule {rule_id!r}; its rules: "
                f"{', '.join(sorted(self.rules))}",
                field="rule_id",
            )
        return self.rules[rule_id]


def _points(raw: Mapping[str, Any], where: str) -> Points:
    guidelines = raw.get("guidelines") or {}
    if "fixed" in raw:
        fixed = int(raw["fixed"])
        if fixed <= 0:
            raise ValueError(f"{where}: fixed points are positive")
        return Points(fixed, fixed, fixed)
    low, high = int(raw["min"]), int(raw["max"])
    if not 0 < low <= high:
        raise ValueError(f"{where}: points need 0 < min <= max")
    if not guidelines.get("aggravating") and not guidelines.get("mitigating"):
        raise ValueError(f"{where}: a points range needs sentencing guidelines")
    return Points(
        None,
        low,
        high,
        tuple(guidelines.get("aggravating") or ()),
        tuple(guidelines.get("mitigating") or ()),
    )


def parse_rulebook(raw: Mapping[str, Any]) -> Rulebook:
    """Check a rulebook file; raise ValueError naming the first problem."""
    for key in ("version", "status", "effective_from", "ladder", "rules", "points", "appeals"):
        if key not in raw:
            raise ValueError(f"the rulebook lacks {key!r}")
    if raw["status"] not in ("published", "draft"):
        raise ValueError("status is published or draft")
    ladder: dict[Severity, tuple[Threshold, ...]] = {}
    for severity in Severity:
        steps = []
        for item in raw["ladder"].get(severity.value, []):
            kinds = tuple(SanctionKind(k) for k in item["sanctions"])
            days = item.get("days")
            if days is None and SanctionKind.CLEARANCE not in kinds:
                raise ValueError(f"ladder {severity}: a threshold needs days unless it clears")
            steps.append(Threshold(int(item["points"]), kinds, int(days) if days else None))
        if [s.points for s in steps] != sorted({s.points for s in steps}):
            raise ValueError(f"ladder {severity}: thresholds must rise")
        ladder[severity] = tuple(steps)
    rules: dict[str, Rule] = {}
    for item in raw["rules"]:
        rid = str(item["id"])
        where = f"rule {rid}"
        if rid in rules:
            raise ValueError(f"{where} appears twice")
        if item["category"] not in CATEGORIES:
            raise ValueError(f"{where}: unknown category {item['category']!r}")
        groups = tuple(frozenset(str(g).split("|")) for g in item.get("evidence") or ())
        unknown = set().union(*groups) - EVIDENCE_TYPES if groups else set()
        if unknown:
            raise ValueError(f"{where}: unknown evidence type(s) {sorted(unknown)}")
        if not groups:
            raise ValueError(f"{where}: a rule names the evidence it requires")
        sanctions = frozenset(SanctionKind(s) for s in item["sanctions"])
        penalty = item.get("penalty")
        if (SanctionKind.PENALTY_PAYMENT in sanctions) != (penalty is not None):
            raise ValueError(
                f"{where}: a penalty payment is permitted exactly when the rule states its amount"
            )
        dsa = dict(item.get("dsa") or {})
        if dsa.get("ground") not in ("illegal", "incompatible"):
            raise ValueError(f"{where}: dsa.ground is illegal or incompatible")
        rules[rid] = Rule(
            rid,
            str(item["title"]["zh"]),
            str(item["title"]["en"]),
            " ".join(str(item.get("description", "")).split()),
            str(item["category"]),
            Severity(item["severity"]),
            _points(item["points"], where),
            groups,
            sanctions,
            int(penalty["fixed"]) if penalty is not None else None,
            dsa,
        )
    expiry = raw["points"]["expiry"]
    if expiry not in ("rolling_12_months", "calendar_year"):
        raise ValueError("points.expiry is rolling_12_months or calendar_year")
    notices = raw.get("notices") or {}
    end = raw.get("effective_to")
    statement = raw.get("statement") or {}
    return Rulebook(
        str(raw["version"]),
        str(raw["status"]),
        date.fromisoformat(str(raw["effective_from"])),
        date.fromisoformat(str(end)) if end else None,
        str(raw.get("currency", "CNY")),
        expiry,
        ladder,
        timedelta(days=int(raw["appeals"]["window_days"])),
        timedelta(days=int(raw["appeals"]["decision_days"])),
        timedelta(days=int(notices.get("window_days", 180))),
        int(notices.get("warn_after_unfounded", 3)),
        int(notices.get("suspend_after_unfounded", 5)),
        timedelta(days=int(notices.get("suspension_days", 30))),
        tuple(statement.get("territorial_scope") or ()),
        str(statement.get("redress", "")),
        rules,
    )


def in_force(books: Iterable[Rulebook], day: date) -> Rulebook:
    """The published version in force on `day` (the day of the conduct, not of the decision)."""
    found = [b for b in books if b.status == "published" and b.in_force_on(day)]
    if not found:
        raise Conflict(
            f"no published rulebook was in force on {day}: conduct cannot be sanctioned under "
            "a rule that did not exist when it happened",
            field="conduct_at",
        )
    return max(found, key=lambda b: b.effective_from)


def check_overlaps(books: Sequence[Rulebook]) -> None:
    published = sorted(
        (b for b in books if b.status == "published"), key=lambda b: b.effective_from
    )
    for a, b in itertools.pairwise(published):
        if a.effective_to is None or a.effective_to >= b.effective_from:
            raise ValueError(f"rulebooks {a.version} and {b.version} overlap")


# --- a decision's requested sanctions and evidence ---


@dataclass(frozen=True, slots=True)
class Requested:
    kind: SanctionKind
    days: int | None = None
    amount: int | None = None
    target: str | None = None  # e.g. "listing:12" for a listing removal


#: Sanctions that last a while: the decision says how long, and a timer lifts them.
TIMED = frozenset(
    {
        SanctionKind.TRAFFIC_RESTRICTION,
        SanctionKind.NEW_LISTING_BAN,
        SanctionKind.SETTLEMENT_FREEZE,
        SanctionKind.SUSPENSION,
    }
)
_LISTING = re.compile(r"^listing:[0-9]{1,18}$")


def check_sanctions(rule: Rule, requested: Sequence[Requested]) -> list[Requested]:
    """Refuse any sanction the rule does not permit, any penalty not the rule's amount, a
    sanction asked twice, a timed sanction without its days, and a target other than a listing
    (a sanction falls on the party the decision is about, never on someone else)."""
    out: list[Requested] = []
    seen: set[tuple[SanctionKind, str | None]] = set()
    for r in requested:
        if r.kind not in rule.sanctions:
            raise Conflict(
                f"rule {rule.id} ({rule.title_en}) does not permit {r.kind.value}; it permits "
                f"only {', '.join(sorted(s.value for s in rule.sanctions))}",
                field="sanctions",
            )
        if (r.kind, r.target) in seen:
            raise ValidationFailed(f"{r.kind.value} is asked twice", field="sanctions")
        seen.add((r.kind, r.target))
        if r.kind is SanctionKind.PENALTY_PAYMENT:
            if r.amount not in (None, rule.penalty):
                raise Conflict(
                    f"rule {rule.id} states a penalty of {rule.penalty}; {r.amount} is refused",
                    field="sanctions",
                )
            r = Requested(r.kind, None, rule.penalty, r.target)
        elif r.amount is not None:
            raise ValidationFailed(f"{r.kind.value} takes no amount", field="sanctions")
        if r.kind is SanctionKind.LISTING_REMOVAL:
            if not _LISTING.match(r.target or ""):
                raise ValidationFailed(
                    "a listing removal names its target, e.g. 'listing:12'", field="sanctions"
                )
        elif r.target is not None:
            raise ValidationFailed(
                f"{r.kind.value} falls on the decision's subject; only a listing removal names "
                "a target",
                field="sanctions",
            )
        if r.kind in TIMED and r.days is None:
            raise ValidationFailed(
                f"{r.kind.value} needs its length in days (1 to 365)", field="sanctions"
            )
        if r.days is not None and not 0 < r.days <= 365:
            raise ValidationFailed("days is between 1 and 365", field="sanctions")
        out.append(r)
    return out


def missing_evidence(rule: Rule, supplied: Iterable[str]) -> list[str]:
    """The rule's evidence groups that none of the supplied evidence types satisfies."""
    have = set(supplied)
    return [" or ".join(sorted(g)) for g in rule.evidence if not g & have]


# --- points and the ladder ---


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


# --- records as the statement of reasons and the services see them ---


@dataclass(frozen=True, slots=True)
class SanctionRecord:
    id: int
    kind: SanctionKind
    target: str  # the merchant ref, or "listing:<id>"
    cause: str  # rule | ladder
    ladder: str | None  # e.g. "serious 24"
    amount: int | None  # penalty payment, minor units
    starts_at: datetime
    ends_at: datetime | None  # None: permanent
    status: str  # active | ended | reversed


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    id: int
    subject: str  # "merchant:acme"
    rule_id: str
    rule_version: str
    category: str
    severity: Severity
    points: int
    conduct_at: datetime
    decided_at: datetime
    facts: str
    evidence: tuple[str, ...]  # "document:<sha256>", "order:<id>", "listing:<id>", ...
    source: Source
    source_identity: str | None
    automated_detection: bool
    automated_decision: Automation
    decided_by: str
    status: str  # active | reduced | overturned
    sanctions: tuple[SanctionRecord, ...] = ()
