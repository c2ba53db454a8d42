"""What a recall owes each buyer, pure: a refund of what is still paid, plus compensation by
the versioned policy's multiple and minimum."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from xinren.errors import ValidationFailed
from xinren.liability.model import Finding


@dataclass(frozen=True, slots=True)
class RemedyRule:
    finding: Finding
    categories: frozenset[str] | None  # None: any category
    multiple: int
    minimum: int
    basis: str


@dataclass(frozen=True, slots=True)
class Remedy:
    refund: int
    compensation: int
    basis: str


def parse_rules(body: Mapping[str, Any]) -> tuple[RemedyRule, ...]:
    rules = []
    for raw in body["remedies"]:
        multiple, minimum = int(raw["multiple"]), int(raw["minimum"])
        if multiple < 0 or minimum < 0:
            raise ValueError("remedy multiples and minimums are not negative")
        cats = raw.get("categories")
        rules.append(
            RemedyRule(
                Finding(raw["finding"]),
                frozenset(cats) if cats else None,
                multiple,
                minimum,
                str(raw["basis"]),
            )
        )
    return tuple(rules)


def remedy(
    rules: tuple[RemedyRule, ...],
    finding: Finding,
    category: str,
    total: int,
    still_paid: int,
    *,
    shipped: bool = True,
) -> Remedy:
    """The buyer gets back what it paid and has not had refunded, and compensation on the
    price; compensation is owed even when the buyer already had a refund. An order not yet
    shipped is stopped and refunded: the buyer never received the goods."""
    if not shipped:
        return Remedy(max(still_paid, 0), 0, "not shipped: the order is stopped and refunded")
    for rule in rules:
        if rule.finding is finding and (rule.categories is None or category in rule.categories):
            compensation = max(rule.multiple * total, rule.minimum) if rule.multiple else 0
            return Remedy(max(still_paid, 0), compensation, rule.basis)
    raise ValidationFailed(f"the recall policy has no remedy for {finding.value}", field="finding")


@dataclass(frozen=True, slots=True)
class Sold:
    """A paid, not cancelled order of the recalled batch, as the recall needs it."""

    order_id: int
    buyer: str
    currency: str
    category: str
    total: int
    still_paid: int  # paid and not refunded
    shipped: bool  # the goods left the shop (the order was ever shipped)


@dataclass(frozen=True, slots=True)
class Owed:
    sold: Sold
    remedy: Remedy


def plan_recall(rules: tuple[RemedyRule, ...], finding: Finding, sold: list[Sold]) -> list[Owed]:
    """What each buyer of the batch is owed, in the order the orders were read."""
    return [
        Owed(s, remedy(rules, finding, s.category, s.total, s.still_paid, shipped=s.shipped))
        for s in sold
    ]
