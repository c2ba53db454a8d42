"""The rulebook, pure: its rules, what each permits, its ladder and windows, which version was
in force on a day. Parsed and checked from the YAML files under `xinren/policies/rulebook`.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
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
