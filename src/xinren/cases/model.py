"""The complaint state machine, pure.

open -> awaiting_merchant -> in_mediation -> decided -> (appealed ->) final. A merchant that
misses its deadline is decided against under the published default rule.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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
