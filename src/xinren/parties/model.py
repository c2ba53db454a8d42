"""Trader verification rules, pure: what a trader must disclose and how its status may move.

In the spirit of the EU DSA Art. 30 (traceability of traders) and China's Consumer Rights
Protection Law Art. 44 (a platform that cannot produce the seller's real name, address and
contact answers for the loss itself): a trader is verified only with complete information and
a self-certification, and only a verified trader may list or take orders.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from xinren.errors import Conflict, ValidationFailed

KINDS = ("merchant", "host", "supplier", "manufacturer", "brand_owner", "lab")
_REF = re.compile(r"^(merchant|host|supplier|manufacturer|brand_owner|lab):[a-z0-9_-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")
_REGISTRATION = re.compile(r"^[0-9A-Z-]{5,50}$")


class Status(enum.StrEnum):
    UNVERIFIED = "unverified"
    PENDING = "pending"  # complete information submitted, awaiting a reviewer
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


#: Which decisions a reviewer may take from each status.
DECISIONS: dict[Status, frozenset[Status]] = {
    Status.UNVERIFIED: frozenset({Status.REJECTED}),
    Status.PENDING: frozenset({Status.VERIFIED, Status.REJECTED}),
    Status.VERIFIED: frozenset({Status.SUSPENDED, Status.REJECTED}),
    Status.REJECTED: frozenset(),
    Status.SUSPENDED: frozenset({Status.VERIFIED, Status.REJECTED}),
}
"""Rejecting a verified trader means its identity was found false or cannot be confirmed any
more: from then on the platform cannot produce the seller's real identity (CRPL Art. 44)."""


def check_ref(ref: str, field: str = "ref", kind: str | None = None) -> str:
    """A party reference is '<kind>:<id>', e.g. 'merchant:acme'."""
    if not _REF.match(ref or "") or (kind is not None and not ref.startswith(kind + ":")):
        example = f"{kind or 'merchant'}:acme"
        raise ValidationFailed(
            f"{field} is '<kind>:<id>' with kind one of {', '.join(KINDS)} and an id of "
            f"lower-case letters, digits, '-' or '_', e.g. '{example}'; got {ref!r}",
            field=field,
        )
    return ref


def kind_of(ref: str) -> str:
    return ref.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class TraderInfo:
    """What a trader discloses; the platform keeps it and can produce it for any order."""

    legal_name: str
    address: str
    registration_number: str
    payment_account: str
    contact_email: str | None = None
    contact_phone: str | None = None
    self_certified: bool = False  # "I only offer products that comply with the law"

    def check(self) -> None:
        """Raise naming the first field that cannot stand."""
        for name, limit in (("legal_name", 200), ("address", 500), ("payment_account", 100)):
            value = getattr(self, name)
            if not value or not value.strip() or len(value) > limit:
                raise ValidationFailed(
                    f"{name} is required (at most {limit} characters)", field=name
                )
        if not _REGISTRATION.match(self.registration_number or ""):
            raise ValidationFailed(
                "registration_number is the business registration number as issued "
                "(5-50 upper-case letters, digits or '-', e.g. the 18-character unified social "
                "credit code 91330100MA2XXXXX1X)",
                field="registration_number",
            )
        if not self.contact_email and not self.contact_phone:
            raise ValidationFailed(
                "give a contact: contact_email or contact_phone", field="contact_email"
            )
        if self.contact_email and (
            len(self.contact_email) > 200 or not _EMAIL.match(self.contact_email)
        ):
            raise ValidationFailed("contact_email is not an e-mail address", field="contact_email")
        if self.contact_phone and not _PHONE.match(self.contact_phone):
            raise ValidationFailed("contact_phone is not a phone number", field="contact_phone")
        if not self.self_certified:
            raise ValidationFailed(
                "self_certified must be true: the trader certifies that it offers only "
                "products and services that comply with the law",
                field="self_certified",
            )


def after_submission(current: Status) -> Status:
    """Submitting (or correcting) trader information puts the trader in line for review.

    A verified trader that changes its information is verified again: the platform must not
    vouch for details nobody checked.
    """
    if current is Status.REJECTED:
        raise Conflict(
            "this trader was rejected; register a new party after resolving the reasons given",
            field="ref",
        )
    if current is Status.SUSPENDED:
        raise Conflict(
            "this trader is suspended; its information can change only after a reviewer "
            "lifts the suspension",
            field="ref",
        )
    return Status.PENDING


def decide(current: Status, to: Status, *, complete: bool) -> Status:
    """A reviewer's decision, checked against the allowed moves."""
    if to not in DECISIONS[current]:
        allowed = ", ".join(sorted(DECISIONS[current])) or "none"
        raise Conflict(
            f"a {current.value} trader cannot become {to.value}; allowed: {allowed}",
            field="status",
        )
    if to is Status.VERIFIED and not complete:
        raise Conflict(
            "a trader is verified only with complete information and a self-certification",
            field="status",
        )
    return to


# --- may this trader act? ---

#: Which active sanctions stop which activity (a clearance or suspension stops everything;
#: a new-listing ban stops listing, not selling).
BLOCKING = frozenset({"suspension", "clearance"})
BLOCKING_LISTINGS = BLOCKING | {"new_listing_ban"}

#: What an unverified trader must do before it may trade.
NEXT_STEP = {
    Status.UNVERIFIED: "submit its trader information (legal name, address, contact, "
    "registration number, payment account, self-certification)",
    Status.PENDING: "wait for a reviewer to verify it",
    Status.REJECTED: "it was rejected; see its verification history",
    Status.SUSPENDED: "it is suspended; see its verification history",
}


def blocking(restrictions: Mapping[str, str | None], *, listing: bool = False) -> list[str]:
    """The party's active restrictions that stop it trading (or, with `listing`, listing), as
    'kind until <end>' or 'kind (permanent)', in kind order; empty: nothing stops it."""
    kinds = sorted(set(restrictions) & (BLOCKING_LISTINGS if listing else BLOCKING))
    return [
        f"{k} until {restrictions[k]}" if restrictions[k] else f"{k} (permanent)" for k in kinds
    ]
