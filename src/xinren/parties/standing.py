"""May this trader act? Verified, and no active sanction stopping the activity
(`model.blocking`); the party's restrictions are kept here as the rules context computes them."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from xinren.clock import Clock
from xinren.errors import NotFound, TraderNotVerified
from xinren.events import service as events
from xinren.parties import model
from xinren.parties.model import BLOCKING, BLOCKING_LISTINGS
from xinren.parties.records import Party, get
from xinren.parties.tables import parties

__all__ = ["BLOCKING", "BLOCKING_LISTINGS", "require_verified", "set_restrictions"]


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
        raise TraderNotVerified(
            f"{ref} is {party.status.value} and cannot {doing}: {model.NEXT_STEP[party.status]}",
            field=party.kind,
            status=party.status.value,
        )
    blocked = model.blocking(party.restrictions, listing=listing)
    if blocked:
        raise TraderNotVerified(
            f"{ref} cannot {doing}: an active sanction stops it ({', '.join(blocked)}); see its "
            "violations (GET /v1/violations?subject=...) and appeal there if it is wrong",
            field=party.kind,
            restrictions=party.restrictions,
        )
    return party
