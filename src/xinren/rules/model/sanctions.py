"""What a decision may ask for and what each sanction kind does, pure.

`check_sanctions` refuses what the rule does not permit; `plan_sanction` says what one
sanction does when it is applied (its end, the money it takes or holds, the listings it
removes) and `undoes` what ending it undoes. The service gathers the facts and carries the
plan out; nothing here reads the clock, the ledger or the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from xinren.errors import Conflict, ValidationFailed
from xinren.rules.model.rulebook import Automation, Rule, SanctionKind, Severity, Source


@dataclass(frozen=True, slots=True)
class Requested:
    kind: SanctionKind
    days: int | None = None
    amount: int | None = None
    target: str | None = None  # e.g. "listing:12" for a listing removal


#: Sanctions that last a while: the decision says how long, and a timer lifts them.
TIMED = frozenset(
    {
        SanctionKind.TRAFFIC_RESTRICTION,
        SanctionKind.NEW_LISTING_BAN,
        SanctionKind.SETTLEMENT_FREEZE,
        SanctionKind.SUSPENSION,
    }
)
_LISTING = re.compile(r"^listing:[0-9]{1,18}$")


def check_sanctions(rule: Rule, requested: Sequence[Requested]) -> list[Requested]:
    """Refuse any sanction the rule does not permit, any penalty not the rule's amount, a
    sanction asked twice, a timed sanction without its days, and a target other than a listing
    (a sanction falls on the party the decision is about, never on someone else)."""
    out: list[Requested] = []
    seen: set[tuple[SanctionKind, str | None]] = set()
    for r in requested:
        if r.kind not in rule.sanctions:
            raise Conflict(
                f"rule {rule.id} ({rule.title_en}) does not permit {r.kind.value}; it permits "
                f"only {', '.join(sorted(s.value for s in rule.sanctions))}",
                field="sanctions",
            )
        if (r.kind, r.target) in seen:
            raise ValidationFailed(f"{r.kind.value} is asked twice", field="sanctions")
        seen.add((r.kind, r.target))
        if r.kind is SanctionKind.PENALTY_PAYMENT:
            if r.amount not in (None, rule.penalty):
                raise Conflict(
                    f"rule {rule.id} states a penalty of {rule.penalty}; {r.amount} is refused",
                    field="sanctions",
                )
            r = Requested(r.kind, None, rule.penalty, r.target)
        elif r.amount is not None:
            raise ValidationFailed(f"{r.kind.value} takes no amount", field="sanctions")
        if r.kind is SanctionKind.LISTING_REMOVAL:
            if not _LISTING.match(r.target or ""):
                raise ValidationFailed(
                    "a listing removal names its target, e.g. 'listing:12'", field="sanctions"
                )
        elif r.target is not None:
            raise ValidationFailed(
                f"{r.kind.value} falls on the decision's subject; only a listing removal names "
                "a target",
                field="sanctions",
            )
        if r.kind in TIMED and r.days is None:
            raise ValidationFailed(
                f"{r.kind.value} needs its length in days (1 to 365)", field="sanctions"
            )
        if r.days is not None and not 0 < r.days <= 365:
            raise ValidationFailed("days is between 1 and 365", field="sanctions")
        out.append(r)
    return out


def missing_evidence(rule: Rule, supplied: Iterable[str]) -> list[str]:
    """The rule's evidence groups that none of the supplied evidence types satisfies."""
    have = set(supplied)
    return [" or ".join(sorted(g)) for g in rule.evidence if not g & have]


# --- what a sanction does ---


#: Sanctions that restrict the merchant (kept on the party) rather than a listing.
RESTRICTING = frozenset(
    {
        SanctionKind.TRAFFIC_RESTRICTION,
        SanctionKind.NEW_LISTING_BAN,
        SanctionKind.SETTLEMENT_FREEZE,
        SanctionKind.SUSPENSION,
        SanctionKind.CLEARANCE,
    }
)


@dataclass(frozen=True, slots=True)
class SanctionFacts:
    """What applying one sanction depends on; the service reads it (after taking the locks a
    penalty or a freeze needs) before the plan is made."""

    violation_id: int
    subject: str
    now: datetime
    deposit: int = 0  # the subject's deposit balance: a penalty takes at most this
    available: int = 0  # the subject's available balance: a freeze holds all of it
    active_listings: tuple[int, ...] = ()  # the subject's active listings: a clearance


@dataclass(frozen=True, slots=True)
class RemoveListings:
    """Take these listings off sale (status removed), giving `reason`."""

    listing_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class TakePenalty:
    """Move `amount` from the subject's deposit to the platform's penalties account."""

    amount: int


@dataclass(frozen=True, slots=True)
class HoldBalance:
    """Hold `amount` of the subject's available balance until the freeze ends (a ledger hold:
    the money stays the merchant's and the freeze shows in its balance)."""

    amount: int


SanctionEffect = RemoveListings | TakePenalty | HoldBalance


@dataclass(frozen=True, slots=True)
class SanctionPlan:
    """One sanction as it is recorded, and what applying it does."""

    kind: SanctionKind
    target: str
    starts_at: datetime
    ends_at: datetime | None  # None: until lifted (permanent)
    status: str  # active | ended (a warning or a penalty is over once applied)
    amount: int | None  # the penalty taken or the balance frozen
    effects: tuple[SanctionEffect, ...] = ()

    @property
    def timed(self) -> bool:
        """A timer lifts it at its end."""
        return self.status == "active" and self.ends_at is not None


def listing_id(target: str) -> int:
    return int(target.split(":")[1])


def plan_sanction(r: Requested, facts: SanctionFacts) -> SanctionPlan:
    """What one (checked) sanction does when a decision applies it.

    A warning and a penalty payment are over at once (a penalty takes the rule's amount from
    the deposit, never more than the deposit holds); a listing removal takes its listing off
    sale; a settlement freeze holds the whole available balance; a clearance removes every
    active listing and lasts until lifted; a restriction (traffic, new listings, suspension)
    only restricts the party (see `restrictions`). A sanction with days ends then.
    """
    now, kind = facts.now, r.kind
    target = r.target or facts.subject
    ends = now + timedelta(days=r.days) if r.days else None
    plan = SanctionPlan(kind, target, now, ends, "active", None)
    if kind is SanctionKind.WARNING:
        return replace(plan, ends_at=now, status="ended")
    if kind is SanctionKind.LISTING_REMOVAL:
        why = f"violation {facts.violation_id}"
        return replace(plan, effects=(RemoveListings((listing_id(target),), why),))
    if kind is SanctionKind.PENALTY_PAYMENT:
        amount = min(facts.deposit, r.amount or 0)
        taken = (TakePenalty(amount),) if amount > 0 else ()
        return replace(plan, ends_at=now, status="ended", amount=amount, effects=taken)
    if kind is SanctionKind.SETTLEMENT_FREEZE:
        amount = max(facts.available, 0)
        return replace(plan, amount=amount, effects=(HoldBalance(amount),) if amount else ())
    if kind is SanctionKind.CLEARANCE:
        why = f"clearance ({facts.violation_id})"
        return replace(plan, ends_at=None, effects=(RemoveListings(facts.active_listings, why),))
    return plan  # a restriction: the party's restrictions say it


def undoes(kind: SanctionKind, status: str, held: bool) -> tuple[str, ...]:
    """What ending an active sanction (status ended, or reversed on appeal) undoes: a freeze's
    hold is voided and handed over to another running freeze ("void_hold", "hand_over"); a
    listing removal puts its listing back, a clearance its listings only when reversed (one
    that ran its course leaves the shop cleared) ("restore_listings")."""
    out: tuple[str, ...] = ()
    if kind is SanctionKind.SETTLEMENT_FREEZE and held:
        out += ("void_hold", "hand_over")
    if kind is SanctionKind.LISTING_REMOVAL or (
        kind is SanctionKind.CLEARANCE and status == "reversed"
    ):
        out += ("restore_listings",)
    return out


def listings_to_restore(
    target: str, merchant_listings: Sequence[int], others: Iterable[tuple[str, str]]
) -> list[int]:
    """The listings an ended sanction puts back: its own listing, or (a clearance) all the
    merchant's, except those another active sanction (`others`: kind, target) still removes;
    none while another clearance runs."""
    others = list(others)
    if any(kind == SanctionKind.CLEARANCE.value for kind, _ in others):
        return []
    still_removed = {t for kind, t in others if kind == SanctionKind.LISTING_REMOVAL.value}
    ids = [listing_id(target)] if target.startswith("listing:") else list(merchant_listings)
    return [i for i in ids if f"listing:{i}" not in still_removed]


def restrictions(active: Iterable[tuple[str, datetime | None]]) -> dict[str, str | None]:
    """The party's restrictions from its active sanctions (kind, end): one per restricting
    kind, the latest end winning and one without an end beating any end."""
    out: dict[str, str | None] = {}
    for kind, ends in active:
        if SanctionKind(kind) not in RESTRICTING:
            continue
        if kind in out and out[kind] is None:
            continue
        if ends is None:
            out[kind] = None
        else:
            iso = ends.isoformat()
            out[kind] = max(out.get(kind) or iso, iso)
    return out


# --- records as the statement of reasons and the services see them ---


@dataclass(frozen=True, slots=True)
class SanctionRecord:
    id: int
    kind: SanctionKind
    target: str  # the merchant ref, or "listing:<id>"
    cause: str  # rule | ladder
    ladder: str | None  # e.g. "serious 24"
    amount: int | None  # penalty payment, minor units
    starts_at: datetime
    ends_at: datetime | None  # None: permanent
    status: str  # active | ended | reversed


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    id: int
    subject: str  # "merchant:acme"
    rule_id: str
    rule_version: str
    category: str
    severity: Severity
    points: int
    conduct_at: datetime
    decided_at: datetime
    facts: str
    evidence: tuple[str, ...]  # "document:<sha256>", "order:<id>", "listing:<id>", ...
    source: Source
    source_identity: str | None
    automated_detection: bool
    automated_decision: Automation
    decided_by: str
    status: str  # active | reduced | overturned
    sanctions: tuple[SanctionRecord, ...] = ()
