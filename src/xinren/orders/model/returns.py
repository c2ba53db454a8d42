"""7-day no-reason returns, pure: may the buyer send the goods back, and who pays the shipping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

ReturnReason = Literal["no_reason", "not_as_described", "defective"]


@dataclass(frozen=True, slots=True)
class ReturnDecision:
    allowed: bool
    why: str
    shipping_paid_by: str | None = None


def return_eligibility(
    *,
    reason: ReturnReason,
    category: str,
    delivered_at: datetime | None,
    now: datetime,
    opened: bool,
    window: timedelta,
    exempt: dict[str, str],
    exempt_when_opened: frozenset[str],
    shipping_paid_by: dict[str, str],
) -> ReturnDecision:
    """May the buyer return the goods for `reason`, and who pays to send them back?

    Goods not as described or defective may always be returned at the merchant's cost; a
    no-reason return needs the goods delivered no more than `window` ago and a category the
    policy does not exempt.
    """
    payer = shipping_paid_by.get(reason)
    if reason != "no_reason":
        return ReturnDecision(True, f"return for {reason.replace('_', ' ')}", payer)
    if delivered_at is None:
        return ReturnDecision(False, "the goods have not been delivered yet")
    if now - delivered_at > window:
        return ReturnDecision(
            False,
            f"the {window.days}-day no-reason window closed "
            f"{(now - delivered_at - window).days} day(s) ago",
        )
    if category in exempt:
        return ReturnDecision(False, f"{exempt[category]} are exempt from no-reason returns")
    if opened and category in exempt_when_opened:
        return ReturnDecision(False, f"opened {category} goods are exempt from no-reason returns")
    return ReturnDecision(True, f"within the {window.days}-day no-reason window", payer)
