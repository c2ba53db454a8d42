"""A buyer's (or reporter's) abuse score, pure: refund and complaint rates, unfounded notices,
the order-then-complain pattern and identifiers shared with other flagged accounts. The score
weights their complaints and notices, so an honest merchant is not punished on their word."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

SOON_AFTER_DELIVERY = timedelta(days=1)
#: The notice outcomes that count against the reporter.
UNFOUNDED_NOTICE = frozenset({"unfounded", "manifestly_unfounded"})


@dataclass(frozen=True, slots=True)
class BuyerRecord:
    orders: int
    refunds: int
    complaints: int
    complaints_unfounded: int
    notices_unfounded: int
    complained_soon_after_delivery: int  # complaints filed within a day of delivery
    shared_with_flagged: int  # flagged accounts sharing a device, address or payment account
    shared_with_others: int = 0  # any other accounts sharing one (a farm of accounts)


@dataclass(frozen=True, slots=True)
class AbuseScore:
    score: float  # 0 = no sign of abuse, 1 = certain
    weight: float  # how much one of their complaints or notices counts (1 = fully)
    reasons: tuple[str, ...]


def score(r: BuyerRecord) -> AbuseScore:
    """A logistic combination with published, explainable terms."""
    orders = max(r.orders, 1)
    terms = {
        "refund rate": 2.0 * (r.refunds / orders),
        "complaint rate": 2.0 * (r.complaints / orders),
        "unfounded complaints": 0.8 * r.complaints_unfounded,
        "unfounded notices": 0.6 * r.notices_unfounded,
        "order-then-complain": 1.2
        * (r.complained_soon_after_delivery / orders)
        * min(orders, 10)
        / 3,
        "identifiers shared with flagged accounts": 1.0 * r.shared_with_flagged,
        "identifiers shared with other accounts": 0.25 * min(r.shared_with_others, 8),
    }
    z = sum(terms.values()) - 3.0
    s = 1.0 / (1.0 + math.exp(-z))
    reasons = tuple(k for k, v in sorted(terms.items(), key=lambda kv: -kv[1]) if v >= 0.5)
    return AbuseScore(s, max(MIN_WEIGHT, 1.0 - s), reasons)


MIN_WEIGHT = 0.1  # nobody's word counts for nothing: a reviewer still reads it
FLAG_AT = 0.8  # from this score the account is flagged to reviewers under the abuse rules


def complaint_unfounded(outcome: str | None, by_default: bool) -> bool:
    """A complaint counts as unfounded when a reviewer decided it for the merchant on the
    merits; a case decided by default (the merchant did not answer) says nothing of the buyer."""
    return outcome == "for_merchant" and not by_default


def complained_soon(opened_at: datetime, delivered_at: datetime | None) -> bool:
    """Filed within a day of delivery (or before the goods were delivered): the
    order-then-complain pattern. Undelivered orders do not count."""
    return delivered_at is not None and opened_at - delivered_at <= SOON_AFTER_DELIVERY
