"""What a buyer is owed and who pays it, pure: compensation by the versioned policy, and the
split of a payment across the payer's available balance, its deposit and the guarantee fund."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from xinren.errors import ValidationFailed

FINDINGS = frozenset(
    {
        "not_as_described",
        "counterfeit",
        "quality_defect",
        "safety_hazard",
        "non_delivery",
        "after_sales_refusal",
        "scam",
    }
)


@dataclass(frozen=True, slots=True)
class CompensationRule:
    id: str
    findings: frozenset[str]
    categories: frozenset[str] | None
    multiple: int
    minimum: int
    source: str

    def matches(self, finding: str, category: str) -> bool:
        return finding in self.findings and (self.categories is None or category in self.categories)

    def amount(self, price: int) -> int:
        return max(self.multiple * price, self.minimum) if self.multiple or self.minimum else 0


@dataclass(frozen=True, slots=True)
class CompensationPolicy:
    version: str
    statutory: tuple[CompensationRule, ...]
    promises: tuple[CompensationRule, ...]


def parse_policy(version: str, body: Mapping[str, Any]) -> CompensationPolicy:
    def rules(items: Sequence[Mapping[str, Any]]) -> tuple[CompensationRule, ...]:
        out = []
        for raw in items:
            unknown = set(raw["findings"]) - FINDINGS
            if unknown:
                raise ValueError(f"rule {raw['id']}: unknown finding(s) {sorted(unknown)}")
            multiple, minimum = int(raw["multiple"]), int(raw["minimum"])
            if multiple < 0 or minimum < 0:
                raise ValueError(f"rule {raw['id']}: multiple and minimum are not negative")
            if not raw.get("source"):
                raise ValueError(f"rule {raw['id']}: name the legal source")
            cats = raw.get("categories")
            out.append(
                CompensationRule(
                    str(raw["id"]),
                    frozenset(raw["findings"]),
                    frozenset(cats) if cats else None,
                    multiple,
                    minimum,
                    str(raw["source"]),
                )
            )
        return tuple(out)

    return CompensationPolicy(
        version, rules(body["rules"]), rules(body.get("platform_promises") or ())
    )


@dataclass(frozen=True, slots=True)
class Compensation:
    amount: int
    rule: str
    source: str


def compensation(
    policy: CompensationPolicy, finding: str, category: str, price: int
) -> Compensation:
    """The statutory compensation for the first matching rule, or a platform promise where it
    gives the buyer more."""
    if finding not in FINDINGS:
        raise ValidationFailed(
            f"finding must be one of {', '.join(sorted(FINDINGS))}", field="finding"
        )
    law = next((r for r in policy.statutory if r.matches(finding, category)), None)
    best = Compensation(law.amount(price), law.id, law.source) if law else Compensation(0, "", "")
    for promise in policy.promises:
        if promise.matches(finding, category) and promise.amount(price) > best.amount:
            best = Compensation(promise.amount(price), promise.id, promise.source)
    return best


@dataclass(frozen=True, slots=True)
class Split:
    """How a payer's due is met: from its available balance, then its deposit, and the rest by
    the guarantee fund (which then holds a recovery claim for `shortfall`)."""

    from_available: int
    from_deposit: int
    shortfall: int


def split(due: int, available: int, deposit: int) -> Split:
    if due < 0:
        raise ValueError("due is not negative")
    a = min(due, max(available, 0))
    d = min(due - a, max(deposit, 0))
    return Split(a, d, due - a - d)
