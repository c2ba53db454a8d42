"""Live sessions: a verified host sells a verified merchant's listings on stream, and what was
said on stream is recorded as claims (compared with the product's facts like a listing's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.catalog import model
from xinren.catalog.listings import get_listing
from xinren.catalog.model import Value
from xinren.catalog.refs import document_of, one_row
from xinren.catalog.tables import live_claims, live_session_listings, live_sessions
from xinren.clock import Clock
from xinren.documents.model import DocType
from xinren.errors import ValidationFailed
from xinren.parties import service as parties
from xinren.parties.model import check_ref


@dataclass(frozen=True, slots=True)
class LiveClaim:
    id: int
    session_id: int
    listing_id: int | None
    spoken_at: datetime
    text: str
    attributes: dict[str, Value]


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: int
    host: str
    merchant: str
    title: str
    starts_at: datetime
    ends_at: datetime
    recording: str | None
    listing_ids: tuple[int, ...]


def create_live_session(
    session: Session,
    clock: Clock,
    *,
    host: str,
    merchant: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    listing_ids: Sequence[int],
    recording: str | None = None,
) -> LiveSession:
    """A live stream: a verified host selling a verified merchant's listings in a window."""
    check_ref(host, "host", kind="host")
    check_ref(merchant, "merchant", kind="merchant")
    parties.require_verified(session, host, "host a live session")
    parties.require_verified(session, merchant, "sell in a live session")
    model.check_text(title, "title", 300)
    if ends_at <= starts_at:
        raise ValidationFailed("ends_at must be after starts_at", field="ends_at")
    for listing_id in listing_ids:
        if get_listing(session, listing_id).merchant != merchant:
            raise ValidationFailed(f"listing {listing_id} is not {merchant}'s", field="listing_ids")
    if recording is not None:
        document_of(session, recording, "recording", DocType.STREAM_RECORDING)
    ident = session.execute(
        live_sessions.insert().returning(live_sessions.c.id),
        dict(
            host=host,
            merchant=merchant,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            recording=recording,
            created_at=clock.now(),
        ),
    ).scalar_one()
    if listing_ids:
        session.execute(
            live_session_listings.insert(),
            [dict(session_id=ident, listing_id=i) for i in sorted(set(listing_ids))],
        )
    return get_live_session(session, ident)


def get_live_session(session: Session, session_id: int) -> LiveSession:
    r = one_row(session, live_sessions, session_id, "live_session")
    shown = session.execute(
        select(live_session_listings.c.listing_id)
        .where(live_session_listings.c.session_id == session_id)
        .order_by(live_session_listings.c.listing_id)
    ).scalars()
    return LiveSession(
        r.id, r.host, r.merchant, r.title, r.starts_at, r.ends_at, r.recording, tuple(shown)
    )


def add_claim(
    session: Session,
    clock: Clock,
    *,
    session_id: int,
    spoken_at: datetime,
    text: str,
    listing_id: int | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> LiveClaim:
    """Record what was said on stream, when, about which listing (with its structured reading,
    e.g. {"storage_gb": 512} for "this one has half a terabyte")."""
    live = get_live_session(session, session_id)
    model.check_text(text, "text", 5_000)
    checked = model.check_attributes(attributes or {}, "attributes")
    if not live.starts_at <= spoken_at <= live.ends_at:
        raise ValidationFailed(
            f"spoken_at is outside the session's window ({live.starts_at.isoformat()} to "
            f"{live.ends_at.isoformat()})",
            field="spoken_at",
        )
    if listing_id is not None and listing_id not in live.listing_ids:
        raise ValidationFailed(
            f"listing {listing_id} was not shown in live session {session_id}", field="listing_id"
        )
    ident = session.execute(
        live_claims.insert().returning(live_claims.c.id),
        dict(
            session_id=session_id,
            listing_id=listing_id,
            spoken_at=spoken_at,
            text=text,
            attributes=checked,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return claims_of(session, session_id, only=ident)[0]


def claims_of(session: Session, session_id: int, only: int | None = None) -> list[LiveClaim]:
    query = (
        select(live_claims)
        .where(live_claims.c.session_id == session_id)
        .order_by(live_claims.c.spoken_at, live_claims.c.id)
    )
    if only is not None:
        query = query.where(live_claims.c.id == only)
    return [
        LiveClaim(r.id, r.session_id, r.listing_id, r.spoken_at, r.text, dict(r.attributes))
        for r in session.execute(query)
    ]
