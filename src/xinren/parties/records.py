"""Reading parties: the party as callers see it (public and full identity), by ref or EPCIS
id, its verification history, and the real identity behind an order's roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.errors import NotFound
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
