"""The complaint state machine, pure.

open -> awaiting_merchant -> in_mediation -> decided -> (appealed ->) final. A merchant that
misses its deadline is decided against under the published default rule.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from xinren.errors import Conflict, ValidationFailed
from xinren.stats import median, percentile

KINDS = (
    "not_as_described",
    "counterfeit",
    "quality_defect",
    "safety_hazard",
    "non_delivery",
    "after_sales_refusal",
    "scam",
)


class State(enum.StrEnum):
    AWAITING_MERCHANT = "awaiting_merchant"
    IN_MEDIATION = "in_mediation"
    DECIDED = "decided"
    APPEALED = "appealed"
    FINAL = "final"


class Outcome(enum.StrEnum):
    FOR_BUYER = "for_buyer"
    PARTLY_FOR_BUYER = "partly_for_buyer"
    FOR_MERCHANT = "for_merchant"


MOVES: dict[str, tuple[frozenset[State], State]] = {
    "respond": (frozenset({State.AWAITING_MERCHANT}), State.IN_MEDIATION),
    "assign": (frozenset({State.AWAITING_MERCHANT, State.IN_MEDIATION}), State.IN_MEDIATION),
    "decide": (frozenset({State.AWAITING_MERCHANT, State.IN_MEDIATION}), State.DECIDED),
    "default": (frozenset({State.AWAITING_MERCHANT}), State.DECIDED),
    # the merchant is silent but the buyer's word weighs too little to decide by default
    "hold": (frozenset({State.AWAITING_MERCHANT}), State.IN_MEDIATION),
    "appeal": (frozenset({State.DECIDED}), State.APPEALED),
    "finalise": (frozenset({State.DECIDED, State.APPEALED}), State.FINAL),
}


def move(state: State, action: str) -> State:
    allowed, to = MOVES[action]
    if state not in allowed:
        raise Conflict(
            f"a case that is {state.value} cannot be {action}d; that needs "
            f"{' or '.join(sorted(s.value for s in allowed))}",
            field="state",
        )
    return to


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return kind


@dataclass(frozen=True, slots=True)
class Decided:
    """One decided case, for the metrics."""

    kind: str
    merchant: str
    opened_at: datetime
    decided_at: datetime
    outcome: Outcome
    compensation: int
    fund_paid: int
    recovered: int


def metrics(decided: Sequence[Decided], open_by_kind: dict[str, int]) -> dict[str, object]:
    """Complaint figures: by type and merchant, time to decision (median and 90th percentile,
    hours), the share decided for the buyer, compensation paid and the share recovered."""
    hours = [(d.decided_at - d.opened_at).total_seconds() / 3600 for d in decided]
    for_buyer = [d for d in decided if d.outcome is not Outcome.FOR_MERCHANT]
    by_kind: dict[str, int] = {}
    by_merchant: dict[str, int] = {}
    for d in decided:
        by_kind[d.kind] = by_kind.get(d.kind, 0) + 1
        by_merchant[d.merchant] = by_merchant.get(d.merchant, 0) + 1
    fund = sum(d.fund_paid for d in decided)
    return {
        "decided": len(decided),
        "open": dict(open_by_kind),
        "by_kind": by_kind,
        "by_merchant": by_merchant,
        "hours_to_decision_median": median(hours),
        "hours_to_decision_p90": percentile(hours, 90),
        "share_for_buyer": len(for_buyer) / len(decided) if decided else None,
        "compensation_paid": sum(d.compensation for d in decided),
        "fund_paid_first": fund,
        "share_recovered": sum(d.recovered for d in decided) / fund if fund else None,
    }


# --- the complaint policy ---


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """`policies/cases.yaml`, checked: the deadlines, the default rule and what a decided case
    proposes to enforcement."""

    version: str
    merchant_response: timedelta  # the merchant's hearing: to answer before the default rule
    decision: timedelta  # a held case is decided within this
    overdue_every: timedelta  # an overdue held case is escalated again this often
    appeal: timedelta  # either side may appeal within this after the decision
    default_needs_weight: float
    default_rule_id: str
    default_rule_text: str
    proposes: Mapping[str, str]  # finding -> rulebook rule
    investigate: frozenset[str]  # findings that open a batch investigation


def parse_policy(version: str, body: Mapping[str, Any]) -> CasePolicy:
    if not body.get("source"):
        raise ValueError("the complaint policy names its source")
    times = {
        "merchant_response": timedelta(hours=int(body["merchant_response_hours"])),
        "decision": timedelta(days=int(body["decision_days"])),
        "overdue_every": timedelta(days=int(body["overdue_every_days"])),
        "appeal": timedelta(days=int(body["appeal_days"])),
    }
    if any(t <= timedelta(0) for t in times.values()):
        raise ValueError("the complaint deadlines are positive")
    rule = body["default_rule"]
    return CasePolicy(
        version,
        **times,
        default_needs_weight=float(body["default_needs_weight"]),
        default_rule_id=str(rule["id"]),
        default_rule_text=" ".join(str(rule["text"]).split()),
        proposes={str(k): str(v) for k, v in (body.get("proposes") or {}).items()},
        investigate=frozenset(str(f) for f in body.get("investigate") or ()),
    )


def decides_by_default(policy: CasePolicy, buyer_weight: float) -> bool:
    """A silent merchant is decided against by the default rule only when the buyer's word
    weighs enough; otherwise a reviewer decides."""
    return buyer_weight >= policy.default_needs_weight


# --- what a decision awards ---


@dataclass(frozen=True, slots=True)
class Award:
    refund: int
    compensation: int  # asked of remedies (which nets what earlier remedies paid)
    rule: str | None  # the compensation rule applied, the default rule, or "reviewer-award"
    source: str  # its legal source, as written on the remedy


@dataclass(frozen=True, slots=True)
class Statute:
    """The statutory compensation for the finding (remedies.model.Compensation, as the case
    needs it)."""

    amount: int
    rule: str
    source: str


def plan_award(
    outcome: Outcome,
    *,
    owed: int,
    refund: int | None,
    compensation: int | None,
    law: Statute | None,
    cap: int,
    by_default: bool,
    default_rule: str,
) -> Award:
    """The refund (what is still owed unless the reviewer says less) and the compensation: the
    statute's, none under the default rule, or the reviewer's own award, which a decision fully
    for the buyer may not set below the statute and no decision above `cap`."""
    if outcome is Outcome.FOR_MERCHANT:
        return Award(0, 0, None, "decided for the merchant")
    refund = owed if refund is None else refund
    if not 0 <= refund <= owed:
        raise ValidationFailed(f"refund is between 0 and {owed}", field="refund")
    if law is None:
        raise ValueError("a decision for the buyer needs the statutory compensation")
    if by_default:
        return Award(refund, 0, default_rule, "")
    if compensation is None or compensation == law.amount:
        return Award(refund, law.amount, law.rule or None, law.source)
    if outcome is Outcome.FOR_BUYER and compensation < law.amount:
        raise ValidationFailed(
            f"a decision fully for the buyer awards at least the statutory "
            f"{law.amount} ({law.source})",
            field="compensation",
        )
    if not 0 <= compensation <= cap:
        raise ValidationFailed(f"compensation is between 0 and {cap}", field="compensation")
    return Award(
        refund, compensation, "reviewer-award", f"awarded by the reviewer (statute: {law.source})"
    )


def check_variation(extra: int, most: int, paid: int) -> int:
    """An appeal varied for the buyer awards extra compensation, at most what the cap leaves
    after all the compensation the buyer has had on the order; returns what is left."""
    left = max(0, most - paid)
    if not 0 < extra <= left:
        raise ValidationFailed(
            f"a variation awards extra compensation between 1 and {left}"
            + (f" (the buyer has had {paid} of the {most} allowed)" if paid else ""),
            field="extra_compensation",
        )
    return left
