"""The figures of a report, one value per section (enforcement, the gate, violations, appeals,
notices, complaints, compensation, recalls, reviews), each with the JSON it is published as."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xinren.report.model.classify import TOP_RATING_CHANGES, mean, rate
from xinren.report.model.period import Period
from xinren.stats import median, percentile


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: str
    category: str
    title_zh: str
    title_en: str
    sanctioned: int  # merchants with a sanction under the rule in the period
    cleared: int  # merchants cleared (清退) by a decision under the rule


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    sanctioned: int
    cleared: int


@dataclass(frozen=True, slots=True)
class Enforcement:
    merchants_sanctioned: int
    merchants_cleared: int
    statements: int  # statements of reasons for the period's decisions
    by_rule: tuple[RuleRow, ...]
    by_category: tuple[CategoryRow, ...]
    by_sanction: Mapping[str, int]  # sanction kind -> merchants

    def as_dict(self) -> dict[str, Any]:
        return {
            "merchants_sanctioned": self.merchants_sanctioned,
            "merchants_cleared": self.merchants_cleared,
            "statements_of_reasons": self.statements,
            "by_rule": {
                r.rule: {
                    "category": r.category,
                    "title": {"zh": r.title_zh, "en": r.title_en},
                    "merchants_sanctioned": r.sanctioned,
                    "merchants_cleared": r.cleared,
                }
                for r in self.by_rule
            },
            "by_category": {
                c.category: {"merchants_sanctioned": c.sanctioned, "merchants_cleared": c.cleared}
                for c in self.by_category
            },
            "by_sanction": dict(self.by_sanction),
        }


@dataclass(frozen=True, slots=True)
class Gate:
    intercepted: int  # listings blocked
    held_for_review: int
    merchants: int  # merchants with a listing blocked
    by_reason: Mapping[str, int]  # over blocked listings; one listing may have several reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "listings_intercepted": self.intercepted,
            "listings_held_for_review": self.held_for_review,
            "merchants_intercepted": self.merchants,
            "by_reason": dict(self.by_reason),
        }


@dataclass(frozen=True, slots=True)
class Violations:
    decided: int
    by_source: Mapping[str, int]
    fully_automated: int
    partly_automated: int

    @property
    def share_automated(self) -> float | None:
        return rate(self.fully_automated + self.partly_automated, self.decided)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decided": self.decided,
            "by_source": dict(self.by_source),
            "fully_automated": self.fully_automated,
            "partly_automated": self.partly_automated,
            "share_automated": self.share_automated,
        }


@dataclass(frozen=True, slots=True)
class Appeals:
    filed: int
    upheld: int
    reduced: int
    overturned: int
    days_to_decide: tuple[float, ...]  # of each appeal decided in the period
    automated_decisions: int  # the period's decisions taken fully or partly by automation
    automated_overturned: int  # ... of them overturned on appeal

    @property
    def decided(self) -> int:
        return self.upheld + self.reduced + self.overturned

    def as_dict(self) -> dict[str, Any]:
        return {
            "filed": self.filed,
            "decided": self.decided,
            "upheld": self.upheld,
            "reduced": self.reduced,
            "overturned": self.overturned,
            "overturn_rate": rate(self.overturned, self.decided),
            "median_days_to_decide": median(self.days_to_decide),
            "automated_decisions": self.automated_decisions,
            "automated_overturned": self.automated_overturned,
            "automated_error_rate": rate(self.automated_overturned, self.automated_decisions),
        }


@dataclass(frozen=True, slots=True)
class Notices:
    received: int
    from_trusted_flaggers: int
    founded: int
    unfounded: int
    manifestly_unfounded: int
    not_processed: int  # filed while the reporter was suspended
    reporters_warned: int
    reporters_suspended: int

    @property
    def decided(self) -> int:
        return self.founded + self.unfounded + self.manifestly_unfounded

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "from_trusted_flaggers": self.from_trusted_flaggers,
            "decided": self.decided,
            "founded": self.founded,
            "unfounded": self.unfounded,
            "manifestly_unfounded": self.manifestly_unfounded,
            "not_processed": self.not_processed,
            "open": self.received - self.decided - self.not_processed,
            "founded_share": rate(self.founded, self.decided),
            "reporters_warned": self.reporters_warned,
            "reporters_suspended": self.reporters_suspended,
        }


@dataclass(frozen=True, slots=True)
class Complaints:
    filed: int
    by_kind: Mapping[str, int]  # complaints filed in the period, by type
    for_buyer: int  # decisions in the period, fully for the buyer
    partly_for_buyer: int
    for_merchant: int
    by_default: int  # ... of them by the default rule (the merchant missed its deadline)
    hours_to_decision: tuple[float, ...]

    @property
    def decided(self) -> int:
        return self.for_buyer + self.partly_for_buyer + self.for_merchant

    def as_dict(self) -> dict[str, Any]:
        return {
            "filed": self.filed,
            "by_kind": dict(self.by_kind),
            "decided": self.decided,
            "for_buyer": self.for_buyer,
            "partly_for_buyer": self.partly_for_buyer,
            "for_merchant": self.for_merchant,
            "decided_by_default": self.by_default,
            "share_for_buyer": rate(self.for_buyer + self.partly_for_buyer, self.decided),
            "median_hours_to_decision": median(self.hours_to_decision),
            "p90_hours_to_decision": percentile(self.hours_to_decision, 90),
        }


@dataclass(frozen=True, slots=True)
class PaidRow:
    currency: str
    payer: str  # one of PAYERS
    refund: int
    compensation: int


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    currency: str
    creditor: str  # party class of who paid first and recovers: guarantee_fund, merchant, ...
    debtor: str  # party class of who owes it
    claims: int
    amount: int
    recovered: int
    written_off: int

    @property
    def outstanding(self) -> int:
        return self.amount - self.recovered - self.written_off


@dataclass(frozen=True, slots=True)
class Compensation:
    buyers_paid: int  # buyers who received a remedy in the period
    paid: tuple[PaidRow, ...]
    recovery: tuple[RecoveryRow, ...]  # claims opened in the period, as they stand now

    def as_dict(self) -> dict[str, Any]:
        paid: dict[str, dict[str, dict[str, int]]] = {}
        for p in self.paid:
            paid.setdefault(p.currency, {})[p.payer] = {
                "refund": p.refund,
                "compensation": p.compensation,
            }
        recovery: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
        for r in self.recovery:
            recovery.setdefault(r.currency, {}).setdefault(r.creditor, {})[r.debtor] = {
                "claims": r.claims,
                "amount": r.amount,
                "recovered": r.recovered,
                "written_off": r.written_off,
                "outstanding": r.outstanding,
            }
        return {"buyers_paid": self.buyers_paid, "paid": paid, "recovery": recovery}


@dataclass(frozen=True, slots=True)
class Recalls:
    recalls: int
    affected_buyers: int
    remedied_buyers: int  # every remedy task of theirs paid

    def as_dict(self) -> dict[str, Any]:
        return {
            "recalls": self.recalls,
            "affected_buyers": self.affected_buyers,
            "remedied_buyers": self.remedied_buyers,
            "share_remedied": rate(self.remedied_buyers, self.affected_buyers),
        }


@dataclass(frozen=True, slots=True)
class RatingChange:
    merchant: str
    reviews: int
    excluded: int
    rating_sum: int
    kept_sum: int  # ratings of the reviews not excluded

    @property
    def raw(self) -> float | None:
        return mean(self.rating_sum, self.reviews)

    @property
    def honest(self) -> float | None:
        return mean(self.kept_sum, self.reviews - self.excluded)

    @property
    def change(self) -> float | None:
        raw, honest = self.raw, self.honest
        return None if raw is None or honest is None else honest - raw

    def as_dict(self) -> dict[str, Any]:
        return {
            "merchant": self.merchant,
            "reviews": self.reviews,
            "excluded": self.excluded,
            "raw_rating": self.raw,
            "rating_without_excluded": self.honest,
            "change": self.change,
        }


def biggest_changes(
    rows: Sequence[RatingChange], top: int = TOP_RATING_CHANGES
) -> tuple[RatingChange, ...]:
    """The `top` merchants whose rating moved most once fake reviews were excluded; one left
    with no genuine review at all moved most of all."""

    def key(r: RatingChange) -> tuple[float, str]:
        change = r.change
        return (-math.inf if change is None else -abs(change), r.merchant)

    return tuple(sorted((r for r in rows if r.excluded), key=key)[:top])


@dataclass(frozen=True, slots=True)
class Reviews:
    received: int  # reviews written in the period
    excluded: int  # ... of them excluded as fake
    merchants_affected: int
    rating_changes: tuple[RatingChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "excluded": self.excluded,
            "share_excluded": rate(self.excluded, self.received),
            "merchants_affected": self.merchants_affected,
            "rating_changes": [r.as_dict() for r in self.rating_changes],
        }


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    generated_at: datetime
    enforcement: Enforcement
    gate: Gate
    violations: Violations
    appeals: Appeals
    notices: Notices
    complaints: Complaints
    compensation: Compensation
    recalls: Recalls
    reviews: Reviews

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON: counts, rates (0..1, or null over nothing), amounts in minor
        units under their currency."""
        return {
            "period": self.period.as_dict(),
            "generated_at": self.generated_at.isoformat(),
            "enforcement": self.enforcement.as_dict(),
            "gate": self.gate.as_dict(),
            "violations": self.violations.as_dict(),
            "appeals": self.appeals.as_dict(),
            "notices": self.notices.as_dict(),
            "complaints": self.complaints.as_dict(),
            "compensation": self.compensation.as_dict(),
            "recalls": self.recalls.as_dict(),
            "reviews": self.reviews.as_dict(),
        }


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value under its dotted path ("gate.by_reason.image_match"); list
    items under their index. The page marks each figure it shows with its path."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            out |= flatten(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        out[prefix] = data
    return out
