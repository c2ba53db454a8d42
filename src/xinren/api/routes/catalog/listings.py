"""/v1/catalog listings: create and change them (the catalog runs the counterfeit gate on
both), list them for who may see them, and read a listing's honest rating."""

from __future__ import annotations

from typing import Any

from fastapi import Response, status

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
    StoreDep,
    acting_for,
    is_staff,
)
from xinren.api.routes.catalog.bodies import ListingChangeIn, ListingIn
from xinren.api.routes.catalog.common import (
    as_json,
    created,
    may_use,
)
from xinren.api.threads import Router
from xinren.catalog import service
from xinren.detect import service as detect
from xinren.errors import Forbidden
from xinren.ids import payload_hash

router = Router()


@router.post("/listings", status_code=status.HTTP_201_CREATED)
def create_listing(
    body: ListingIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    store: StoreDep,
    response: Response,
) -> dict[str, Any]:
    # the catalog runs the counterfeit gate first: a blocked draft is refused (409) with its
    # reasons, and counted as intercepted once however often it is retried (the draft key)
    acting_for(principal, body.merchant, "list goods")
    draft = payload_hash(body.model_dump(mode="json"))
    return created(
        session,
        clock,
        principal,
        key,
        "POST listings",
        body,
        response,
        lambda: service.create_listing(
            session,
            clock,
            **body.model_dump(),
            store=store,
            draft_key=f"create:{body.merchant}:{principal.key_id}:{key}:{draft}",
            may_use=may_use(principal),
        ),
    )


@router.get("/listings")
def list_listings(
    session: SessionDep, principal: PrincipalDep, brand_id: int | None = None
) -> list[dict[str, Any]]:
    """Staff see all; a merchant its own; a brand owner the listings of its brands."""
    if is_staff(principal):
        found = service.list_listings(session, brand_id=brand_id)
    elif principal.role == "merchant":
        found = service.list_listings(session, merchant=principal.subject, brand_id=brand_id)
    elif principal.role == "brand_owner" and principal.subject is not None:
        owned = service.brands_owned_by(session, principal.subject)
        if brand_id is not None and brand_id not in owned:
            raise Forbidden(f"brand {brand_id} is not {principal.subject}'s")
        found = [
            x
            for b in ([brand_id] if brand_id else owned)
            for x in service.list_listings(session, brand_id=b)
        ]
    else:
        raise Forbidden("listings are listed for staff, merchants and brand owners")
    return [as_json(x) for x in found]


@router.patch("/listings/{listing_id}")
def change_listing(
    listing_id: int,
    body: ListingChangeIn,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    store: StoreDep,
) -> dict[str, Any]:
    """Change a listing's title, price or photos; the counterfeit gate runs again first, so a
    listing cannot pass the gate innocently and then turn into a fake."""
    listing = service.get_listing(session, listing_id)
    acting_for(principal, listing.merchant, "change listings")
    changed = service.change_listing(
        session,
        clock,
        listing_id,
        title=body.title,
        price=body.price,
        images=body.images,
        stock=body.stock,
        store=store,
        draft_key=f"change:{listing_id}:{payload_hash(body.model_dump(mode='json'))}",
        may_use=may_use(principal),
    )
    return as_json(changed)


@router.get("/listings/{listing_id}/rating")
def listing_rating(
    listing_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, object]:
    """The listing's honest rating beside the raw one, as detection last stored it: reading it
    runs no detection and changes nothing (reviews arriving schedule the rescore)."""
    merchant, shown = detect.listing_rating(session, listing_id)
    return {"listing": listing_id, "merchant": merchant} | shown.as_dict()


@router.get("/listings/{listing_id}")
def get_listing(listing_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return as_json(service.get_listing(session, listing_id))
