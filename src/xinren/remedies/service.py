"""Pay buyers what they are owed, first from the order's escrow, then from whoever pays first
(the merchant's available balance and deposit), and where that falls short from the platform's
guarantee fund (先行赔付), opening a recovery claim (追偿) for what the fund laid out.

The use cases live in their own modules (`payments`: paying a buyer, `claims`: recovery
claims, `fund`: the guarantee fund, `recall`: executing a recall), the decisions in `model`
(`plan_payment`, `split`, `compensation`); this module is their one entry point and holds
the timer handler that collects open claims.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session

from xinren import policies
from xinren.clock import Clock
from xinren.remedies import model
from xinren.remedies.claims import (
    COLLECT,
    COLLECT_EVERY,
    available,
    collect,
    get_claim,
    list_claims,
    open_claim,
    write_off,
)
from xinren.remedies.fund import (
    fund,
    fund_balance,
    fund_position,
    reconcile_fund,
    top_up_fund,
)
from xinren.remedies.model import PLATFORM
from xinren.remedies.payments import (
    Payment,
    Remedy,
    get_remedy,
    paid_on_order,
    pay_buyer,
    still_owed,
)
from xinren.remedies.recall import execute_recall
from xinren.timers import service as timers
from xinren.timers.model import Timer

__all__ = [
    "COLLECT",
    "COLLECT_EVERY",
    "PLATFORM",
    "Payment",
    "Remedy",
    "available",
    "award_cap",
    "collect",
    "compensation",
    "compensation_policy",
    "execute_recall",
    "fund",
    "fund_balance",
    "fund_position",
    "get_claim",
    "get_remedy",
    "list_claims",
    "open_claim",
    "paid_on_order",
    "pay_buyer",
    "reconcile_fund",
    "still_owed",
    "top_up_fund",
    "write_off",
]


@cache
def compensation_policy() -> model.CompensationPolicy:
    p = policies.load("compensation")
    return model.parse_policy(p.version, p.body)


def compensation(finding: str, category: str, price: int) -> model.Compensation:
    return model.compensation(compensation_policy(), finding, category, price)


def award_cap(price: int) -> int:
    """The most compensation a reviewer may award in all on an order of `price`."""
    return model.award_cap(compensation_policy(), price)


@timers.handler(COLLECT)
def _collect_due(session: Session, clock: Clock, timer: Timer) -> None:
    """Try again every day: money arriving in the debtor's account pays the claim off."""
    claim_id = int(timer.subject)
    collect(session, clock, claim_id)
    if get_claim(session, claim_id)["status"] == "open":
        timers.schedule(session, clock, COLLECT, str(claim_id), clock.now() + COLLECT_EVERY)
