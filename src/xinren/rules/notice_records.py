"""Notices and reporters as records: what a notice may be about, the notice and a reporter's
record as callers see them, and the checks of a reference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xinren.clock import Clock
from xinren.errors import ValidationFailed
from xinren.rules import rulebooks
from xinren.rules.model import CATEGORIES, ReporterStanding, Rulebook

#: What a notice may be about: the rulebook's categories, and complaints about buyers.
BUYER_CATEGORIES = frozenset({"malicious_orders", "malicious_reports"})
NOTICE_CATEGORIES = CATEGORIES | BUYER_CATEGORIES | {"other"}
OUTCOMES = ("founded", "unfounded", "manifestly_unfounded")
OPEN, NOT_PROCESSED = "open", "not_processed"
STATUSES = (*OUTCOMES, OPEN, NOT_PROCESSED)
MAX_TEXT = 5000
MAX_REASON = 2000

_REF = re.compile(r"^[a-z_]{1,20}:[A-Za-z0-9_.@-]{1,79}$")


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    reporter: str
    target: str  # "listing:12", "merchant:acme" or "buyer:bob"
    category: str
    text: str
    trusted: bool  # filed by a trusted flagger: decided first
    status: str  # open | founded | unfounded | manifestly_unfounded | not_processed
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    violation_id: int | None
    replayed: bool = False
    weight: float = 1.0  # how much the reporter's word counts, from its abuse score when filed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reporter": self.reporter,
            "target": self.target,
            "category": self.category,
            "text": self.text,
            "trusted": self.trusted,
            "weight": round(self.weight, 3),
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "reason": self.reason,
            "violation_id": self.violation_id,
        }


@dataclass(frozen=True, slots=True)
class ReporterRecord:
    """How a party has used the notice system, and what founded notices say about it."""

    ref: str
    notices: dict[str, int]  # status -> how many notices it filed
    manifestly_unfounded_in_window: int
    standing: ReporterStanding
    warned_at: datetime | None
    suspended_until: datetime | None  # in the past once the suspension ended
    trusted: bool
    founded_against: tuple[Notice, ...] = field(default=())
    abuse: dict[str, Any] = field(default_factory=dict)  # the abuse score, its inputs, reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "notices": dict(self.notices),
            "manifestly_unfounded_in_window": self.manifestly_unfounded_in_window,
            "standing": self.standing.value,
            "warned_at": self.warned_at.isoformat() if self.warned_at else None,
            "suspended_until": self.suspended_until.isoformat() if self.suspended_until else None,
            "trusted": self.trusted,
            "founded_against": [n.as_dict() for n in self.founded_against],
            "abuse": self.abuse,
        }


def _notice(row: Any, replayed: bool = False) -> Notice:
    return Notice(
        row.id,
        row.reporter,
        row.target,
        row.category,
        row.text,
        bool(row.trusted),
        row.status,
        row.created_at,
        row.decided_by,
        row.decided_at,
        row.reason,
        row.violation_id,
        replayed,
        float(row.weight),
    )


def _book(clock: Clock) -> Rulebook:
    """Reporter thresholds are measured now, so the rulebook in force today sets them."""
    return rulebooks.in_force_on(clock.now().date())


def check_ref(ref: str, field: str = "ref") -> str:
    """Any party or key reference, e.g. 'buyer:bob', 'merchant:acme' or 'platform:3'."""
    if not isinstance(ref, str) or not _REF.match(ref):
        raise ValidationFailed(
            f"{field} is '<kind>:<id>', e.g. 'buyer:bob' or 'merchant:acme'; got {ref!r}",
            field=field,
        )
    return ref
