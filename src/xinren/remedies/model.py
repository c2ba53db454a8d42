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
class AwardCap:
    """The most compensation a reviewer may award on one order: max(multiple x price, minimum)."""

    multiple: int
    minimum: int
    source: str

    def amount(self, price: int) -> int:
        return max(self.multiple * price, self.minimum)


@dataclass(frozen=True, slots=True)
class CompensationPolicy:
    version: str
    statutory: tuple[CompensationRule, ...]
    promises: tuple[CompensationRule, ...]
    award_cap: AwardCap = AwardCap(0, 0, "")


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

    statutory, promises = rules(body["rules"]), rules(body.get("platform_promises") or ())
    raw_cap = body.get("reviewer_award_cap")
    if not raw_cap:
        raise ValueError("the policy names the reviewer_award_cap, with its source")
    cap = AwardCap(
        int(raw_cap["multiple"]), int(raw_cap["minimum"]), str(raw_cap.get("source", ""))
    )
    if cap.multiple < 0 or cap.minimum < 0 or not cap.source:
        raise ValueError("reviewer_award_cap: multiple and minimum not negative, with its source")
    return CompensationPolicy(version, statutory, promises, cap)


def award_cap(policy: CompensationPolicy, price: int) -> int:
    """How much compensation a reviewer may award in all on an order of `price`."""
    return policy.award_cap.amount(price)


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


# --- planning a payment to a buyer ---

PLATFORM = "platform"  # the party the guarantee fund pays for, and the creditor of its claims
ESCROW, AVAILABLE, DEPOSIT, GUARANTEE_FUND = "escrow", "available", "deposit", "guarantee_fund"
SOURCES = (ESCROW, AVAILABLE, DEPOSIT, GUARANTEE_FUND)  # the order money is taken in
KINDS = ("refund", "compensation")  # the order a buyer is paid in


@dataclass(frozen=True, slots=True)
class Due:
    """What a decision or a recall asks to pay the buyer, and who answers for it."""

    refund: int
    compensation: int
    payer: str  # who pays first: a party, or PLATFORM (the guarantee fund)
    recover_from: tuple[str, ...] = ()
    # compensation earlier remedies on the order paid counts against this one (an appeal's
    # extra award does not: it is on top by construction)
    cumulative: bool = True


@dataclass(frozen=True, slots=True)
class Balances:
    """The facts a payment is planned on, read once under the order's and accounts' locks."""

    seller: str  # the order's merchant, whose escrow refunds first
    still_owed: int  # what the buyer paid and has not had back
    compensation_paid: int  # compensation earlier remedies on this order paid
    escrow: int  # what the order's escrow can refund now (0 once it is settled or closed)
    available: int  # the payer's available balance
    deposit: int  # the payer's deposit


@dataclass(frozen=True, slots=True)
class Move:
    kind: str  # refund | compensation
    source: str  # one of SOURCES
    paid_by: str
    amount: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A recovery claim the payment opens: `tag` is "fund" (the guarantee fund recovers what it
    advanced) or "payer" (a payer that paid for someone else's fault recovers from them)."""

    tag: str
    creditor: str
    debtor: str
    amount: int


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    refund: int
    compensation: int  # net of what earlier remedies paid, when cumulative
    moves: tuple[Move, ...]
    claims: tuple[Claim, ...]

    def paid_from(self, source: str) -> int:
        return sum(m.amount for m in self.moves if m.source == source)

    @property
    def fund_paid(self) -> int:
        return self.paid_from(GUARANTEE_FUND)


def plan_payment(due: Due, balances: Balances) -> PaymentPlan:
    """Pay the refund then the compensation: the refund from the order's escrow first, then
    the payer's available balance, then its deposit; the guarantee fund pays the rest (all of
    it when the payer is the platform) and recovers what it advanced from the payer that fell
    short, or from the first party the liability rule names. A payer that paid for another's
    fault recovers from the first other party named."""
    if due.refund < 0 or due.compensation < 0:
        raise ValueError("amounts due are not negative")
    if due.refund > balances.still_owed:
        raise ValidationFailed(
            f"a refund is at most what the buyer paid and has not had back ({balances.still_owed})",
            field="refund",
        )
    compensation = due.compensation
    if due.cumulative:
        compensation = max(0, compensation - balances.compensation_paid)
    from_escrow = min(due.refund, max(balances.escrow, 0))
    moves = [Move("refund", ESCROW, balances.seller, from_escrow)] if from_escrow > 0 else []
    left = {"refund": due.refund - from_escrow, "compensation": compensation}
    total = sum(left.values())
    if due.payer == PLATFORM:
        shares = Split(0, 0, total)
    else:
        shares = split(total, balances.available, balances.deposit)
    room = [
        (AVAILABLE, due.payer, shares.from_available),
        (DEPOSIT, due.payer, shares.from_deposit),
        (GUARANTEE_FUND, PLATFORM, shares.shortfall),
    ]
    for kind in KINDS:
        for i, (source, who, can) in enumerate(room):
            take = min(left[kind], can)
            if take > 0:
                moves.append(Move(kind, source, who, take))
            room[i] = (source, who, can - take)
            left[kind] -= take
    return PaymentPlan(due.refund, compensation, tuple(moves), _claims(due, shares))


def _claims(due: Due, shares: Split) -> tuple[Claim, ...]:
    claims = []
    if shares.shortfall:
        debtor = due.payer if due.payer != PLATFORM else next(iter(due.recover_from), None)
        if debtor is not None:
            claims.append(Claim("fund", PLATFORM, debtor, shares.shortfall))
    paid_by_payer = shares.from_available + shares.from_deposit
    others = [p for p in due.recover_from if p != due.payer]
    if due.payer != PLATFORM and paid_by_payer and others:
        claims.append(Claim("payer", due.payer, others[0], paid_by_payer))
    return tuple(claims)
