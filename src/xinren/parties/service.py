"""Register parties, take their trader information, record reviewers' verification decisions,
and answer "may this trader act?" and "who really sold this?".

The use cases live by module and are importable from here: reading (`records`) and standing
(`standing`: may this trader act?); what a decision may do is `model.decide`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import AlreadyExists, IdempotencyKeyReused, NotFound, ValidationFailed
from xinren.events import service as events
from xinren.ids import SYSTEM_PREFIX, check_idempotency_key
from xinren.parties import model
from xinren.parties.model import Status, TraderInfo
from xinren.parties.records import (
    Party,
    _party,
    by_epcis_id,
    get,
    history,
    identities,
    list_parties,
)
from xinren.parties.standing import (
    BLOCKING,
    BLOCKING_LISTINGS,
    require_verified,
    set_restrictions,
)
from xinren.parties.tables import parties, party_status_changes

__all__ = [
    "BLOCKING",
    "BLOCKING_LISTINGS",
    "Party",
    "by_epcis_id",
    "decide",
    "get",
    "history",
    "identities",
    "list_parties",
    "register",
    "require_verified",
    "set_restrictions",
    "submit_info",
]


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
