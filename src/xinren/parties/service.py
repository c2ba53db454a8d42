"""Register parties, take their trader information, record reviewers' verification decisions,
and answer "may this trader act?" and "who really sold this?"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import (
    AlreadyExists,
    IdempotencyKeyReused,
    NotFound,
    TraderNotVerified,
    ValidationFailed,
)
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key
from xinren.parties import model
from xinren.parties.model import Status, TraderInfo
from xinren.parties.tables import parties, party_status_changes


@dataclass(frozen=True, slots=True)
class Party:
    id: int
    ref: str
    kind: str
    display_name: str
    status: Status
    info: TraderInfo | None
    accreditation: str | None
    affiliated_with: str | None
    epcis_id: str | None
    created_at: datetime
    updated_at: datetime
    restrictions: dict[str, str | None] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return self.status is Status.VERIFIED

    @property
    def identifiable(self) -> bool:
        """Whether the platform can produce this trader's real identity."""
        return self.info is not None and self.status is not Status.REJECTED

    def public(self) -> dict[str, Any]:
        """What anyone may see: the DSA asks platforms to show traders' identity to buyers."""
        body: dict[str, Any] = {
            "ref": self.ref,
            "kind": self.kind,
            "display_name": self.display_name,
            "status": self.status.value,
            "accreditation": self.accreditation,
            "affiliated_with": self.affiliated_with,
            "epcis_id": self.epcis_id,
            "restrictions": dict(self.restrictions),
        }
        if self.info is not None:
            body.update(
                legal_name=self.info.legal_name,
                address=self.info.address,
                registration_number=self.info.registration_number,
                contact_email=self.info.contact_email,
                contact_phone=self.info.contact_phone,
            )
        return body

    def full(self) -> dict[str, Any]:
        """Everything, for reviewers and the party itself (adds the payment account)."""
        body = self.public()
        if self.info is not None:
            body["payment_account"] = self.info.payment_account
            body["self_certified"] = self.info.self_certified
        return body


def _party(row: Any) -> Party:
    info = None
    if row.legal_name is not None:
        info = TraderInfo(
            row.legal_name,
            row.address,
            row.registration_number,
            row.payment_account,
            row.contact_email,
            row.contact_phone,
            row.self_certified_at is not None,
        )
    return Party(
        row.id,
        row.ref,
        row.kind,
        row.display_name,
        Status(row.status),
        info,
        row.accreditation,
        row.affiliated_with,
        row.epcis_id,
        row.created_at,
        row.updated_at,
        dict(row.restrictions or {}),
    )


def _info_columns(info: TraderInfo | None, now: datetime) -> dict[str, Any]:
    if info is None:
        return {}
    return dict(
        legal_name=info.legal_name,
        address=info.address,
        registration_number=info.registration_number,
        payment_account=info.payment_account,
        contact_email=info.contact_email,
        contact_phone=info.contact_phone,
        self_certified_at=now if info.self_certified else None,
    )


def register(
    session: Session,
    clock: Clock,
    ref: str,
    *,
    display_name: str,
    info: TraderInfo | None = None,
    accreditation: str | None = None,
    affiliated_with: str | None = None,
    epcis_id: str | None = None,
) -> Party:
    """Register a party; with complete trader information it goes straight to review (pending).

    Registering the same ref again with the same details returns the party (a safe retry).
    """
    model.check_ref(ref)
    if not display_name or len(display_name) > 200:
        raise ValidationFailed(
            "display_name is required (at most 200 characters)", field="display_name"
        )
    if info is not None:
        info.check()
    if affiliated_with is not None:
        get(session, model.check_ref(affiliated_with, "affiliated_with"))
    existing = session.execute(select(parties).where(parties.c.ref == ref)).first()
    if existing is not None:
        found = _party(existing)
        same = (
            found.display_name == display_name
            and found.info == info
            and (found.accreditation, found.affiliated_with, found.epcis_id)
            == (accreditation, affiliated_with, epcis_id)
        )
        if not same:
            raise AlreadyExists(
                f"party {ref} is already registered with other details; change trader "
                f"information with PUT /v1/parties/{ref}/trader-info",
                field="ref",
            )
        return found
    now = clock.now()
    status = Status.PENDING if info is not None else Status.UNVERIFIED
    session.execute(
        parties.insert(),
        dict(
            ref=ref,
            kind=model.kind_of(ref),
            display_name=display_name,
            accreditation=accreditation,
            affiliated_with=affiliated_with,
            epcis_id=epcis_id,
            status=status.value,
            created_at=now,
            updated_at=now,
            **_info_columns(info, now),
        ),
    )
    events.append(session, clock, "party.registered", ref, {"party": ref, "status": status.value})
    if info is not None:
        party = get(session, ref)
        _record(
            session,
            clock,
            party,
            Status.UNVERIFIED,
            status,
            SYSTEM_PREFIX + "register:" + ref,
            "registered with trader information",
            ref,
        )
    return get(session, ref)


def get(session: Session, ref: str) -> Party:
    row = session.execute(select(parties).where(parties.c.ref == ref)).first()
    if row is None:
        raise NotFound(
            f"no party {ref}; register it first (POST /v1/parties)",
            field="ref",
        )
    return _party(row)


def by_epcis_id(session: Session, uri: str) -> Party | None:
    row = session.execute(select(parties).where(parties.c.epcis_id == uri)).first()
    return _party(row) if row is not None else None


def list_parties(
    session: Session,
    *,
    kind: str | None = None,
    status: str | None = None,
    after: int = 0,
    limit: int = 100,
) -> list[Party]:
    query = select(parties).where(parties.c.id > after).order_by(parties.c.id).limit(limit)
    if kind is not None:
        query = query.where(parties.c.kind == kind)
    if status is not None:
        query = query.where(parties.c.status == status)
    return [_party(r) for r in session.execute(query)]


def submit_info(
    session: Session, clock: Clock, key: str, ref: str, info: TraderInfo, *, actor: str
) -> Party:
    """Submit or correct trader information; the trader then awaits (re-)verification."""
    check_idempotency_key(key)
    info.check()
    return _change(session, clock, key, ref, actor, "trader information submitted", info=info)


def decide(
    session: Session,
    clock: Clock,
    key: str,
    ref: str,
    to: Status,
    *,
    reason: str,
    decided_by: str,
) -> Party:
    """A reviewer verifies, rejects, suspends or reinstates a trader, with a reason."""
    check_idempotency_key(key)
    if not reason or not reason.strip() or len(reason) > 500:
        raise ValidationFailed(
            "reason is required (at most 500 characters): say why", field="reason"
        )
    return _change(session, clock, key, ref, decided_by, reason, to=to)


def _change(
    session: Session,
    clock: Clock,
    key: str,
    ref: str,
    actor: str,
    reason: str,
    *,
    to: Status | None = None,
    info: TraderInfo | None = None,
) -> Party:
    done = session.execute(
        select(party_status_changes).where(party_status_changes.c.idempotency_key == key)
    ).first()
    row = session.execute(select(parties).where(parties.c.ref == ref).with_for_update()).first()
    if row is None:
        raise NotFound(f"no party {ref}", field="ref")
    current = _party(row)
    if done is not None:
        wanted = to.value if to is not None else Status.PENDING.value
        if done.party_id != current.id or done.to_status != wanted:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} already recorded another change", field="idempotency_key"
            )
        return current
    if info is not None:
        new = model.after_submission(current.status)
    else:
        assert to is not None
        new = model.decide(current.status, to, complete=current.info is not None)
    now = clock.now()
    session.execute(
        update(parties)
        .where(parties.c.id == current.id)
        .values(status=new.value, updated_at=now, **_info_columns(info, now))
    )
    _record(session, clock, current, current.status, new, key, reason, actor)
    return get(session, ref)


def _record(
    session: Session,
    clock: Clock,
    party: Party,
    before: Status,
    after: Status,
    key: str,
    reason: str,
    actor: str,
) -> None:
    """Keep the change in the party's history and announce it on the event feed."""
    session.execute(
        party_status_changes.insert(),
        dict(
            party_id=party.id,
            idempotency_key=key,
            from_status=before.value,
            to_status=after.value,
            reason=reason,
            decided_by=actor,
            created_at=clock.now(),
        ),
    )
    events.append(
        session,
        clock,
        "party.verification_changed",
        party.ref,
        {"party": party.ref, "from": before.value, "to": after.value, "reason": reason},
    )


def history(session: Session, ref: str) -> list[dict[str, Any]]:
    party = get(session, ref)
    rows = session.execute(
        select(party_status_changes)
        .where(party_status_changes.c.party_id == party.id)
        .order_by(party_status_changes.c.id)
    )
    return [
        {
            "from": r.from_status,
            "to": r.to_status,
            "reason": r.reason,
            "decided_by": r.decided_by,
            "at": r.created_at.isoformat(),
        }
        for r in rows
    ]


#: Which active sanctions stop which activity (a clearance or suspension stops everything).
BLOCKING = {"suspension", "clearance"}
BLOCKING_LISTINGS = BLOCKING | {"new_listing_ban"}


def set_restrictions(
    session: Session, clock: Clock, ref: str, restrictions: dict[str, str | None]
) -> None:
    """Record the party's active restrictions (the rules context computes them from sanctions)."""
    party = get(session, ref)
    if party.restrictions == restrictions:
        return
    session.execute(
        update(parties)
        .where(parties.c.id == party.id)
        .values(restrictions=restrictions, updated_at=clock.now())
    )
    events.append(
        session,
        clock,
        "party.restrictions_changed",
        ref,
        {"party": ref, "restrictions": restrictions},
    )


def require_verified(session: Session, ref: str, doing: str, *, listing: bool = False) -> Party:
    """The party, if it is a verified trader with no sanction stopping `doing`; otherwise say
    what it must do first."""
    try:
        party = get(session, ref)
    except NotFound:
        raise TraderNotVerified(
            f"{ref} is not a registered trader and cannot {doing}: register it with its trader "
            "information (POST /v1/parties) and have it verified",
            field=model.kind_of(ref),
        ) from None
    if not party.verified:
        next_step = {
            Status.UNVERIFIED: "submit its trader information (legal name, address, contact, "
            "registration number, payment account, self-certification)",
            Status.PENDING: "wait for a reviewer to verify it",
            Status.REJECTED: "it was rejected; see its verification history",
            Status.SUSPENDED: "it is suspended; see its verification history",
        }[party.status]
        raise TraderNotVerified(
            f"{ref} is {party.status.value} and cannot {doing}: {next_step}",
            field=party.kind,
            status=party.status.value,
        )
    blocked = sorted(set(party.restrictions) & (BLOCKING_LISTINGS if listing else BLOCKING))
    if blocked:
        until = ", ".join(
            f"{k} until {party.restrictions[k]}" if party.restrictions[k] else f"{k} (permanent)"
            for k in blocked
        )
        raise TraderNotVerified(
            f"{ref} cannot {doing}: an active sanction stops it ({until}); see its violations "
            "(GET /v1/violations?subject=...) and appeal there if it is wrong",
            field=party.kind,
            restrictions=party.restrictions,
        )
    return party


def identities(session: Session, refs: dict[str, str | None]) -> dict[str, dict[str, Any] | None]:
    """The real identity behind each named role (e.g. seller, host); None where there is none
    on record, which liability treats as an unidentifiable seller."""
    out: dict[str, dict[str, Any] | None] = {}
    for role, ref in refs.items():
        if ref is None:
            out[role] = None
            continue
        try:
            party = get(session, ref)
        except NotFound:
            out[role] = None
            continue
        out[role] = party.full() if party.identifiable else None
    return out
