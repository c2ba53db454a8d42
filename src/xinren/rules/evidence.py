"""Evidence a decision cites: each reference must exist and concern the decision's subject."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.tables import live_claims
from xinren.documents import service as documents
from xinren.errors import NotFound, ValidationFailed
from xinren.events import service as events
from xinren.orders.tables import orders

_ID = re.compile(r"^[0-9]{1,18}$")


def evidence_type(session: Session, ref: str, about: str | None = None) -> str:
    """The type of one evidence reference, after checking it exists and, with `about`, that
    it concerns that party (its order, its listing, a claim made in its live session)."""
    kind, _, ident = ref.partition(":")
    if kind != "document" and not _ID.match(ident):
        raise ValidationFailed(
            f"evidence {ref!r} is 'document:<sha256>', 'order:<id>', 'listing:<id>', "
            "'live_claim:<id>' or 'event:<id>'",
            field="evidence",
        )
    owner: set[str | None] = set()
    found: str | None = None
    if kind == "document":
        try:
            found = documents.get(session, ident).meta.doc_type.value
        except NotFound:
            found = None
    elif kind == "order":
        row = session.execute(select(orders).where(orders.c.id == int(ident))).first()
        if row is not None:
            found, owner = "order", {row.merchant, row.host}
    elif kind == "listing":
        try:
            found, owner = "listing", {catalog.get_listing(session, int(ident)).merchant}
        except NotFound:
            found = None
    elif kind == "live_claim":
        row = session.execute(
            select(live_claims.c.session_id).where(live_claims.c.id == int(ident))
        ).first()
        if row is not None:
            live = catalog.get_live_session(session, row.session_id)
            found, owner = "live_claim", {live.merchant, live.host}
    elif kind == "event":
        if [e for e in events.read(session, after=int(ident) - 1, limit=1) if e.id == int(ident)]:
            found = "event"
    else:
        raise ValidationFailed(
            f"evidence {ref!r} is 'document:<sha256>', 'order:<id>', 'listing:<id>', "
            "'live_claim:<id>' or 'event:<id>'",
            field="evidence",
        )
    if found is None:
        raise NotFound(f"evidence {ref!r} is not on record", field="evidence")
    if about is not None and owner and about not in owner:
        raise ValidationFailed(
            f"evidence {ref!r} concerns {', '.join(sorted(o for o in owner if o))}, not {about}",
            field="evidence",
        )
    return found
