"""/v1/catalog: brands, products, batches, inspections, authorizations, listings, live sessions.

Parties act for themselves (a manufacturer registers its batches, a merchant its listings);
the platform and reviewers act for anyone. Creates take an Idempotency-Key and a retry gets
the first response.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    SessionDep,
    acting_for,
    is_staff,
)
from xinren.api.idempotency import once
from xinren.catalog import reviews as reviews_service
from xinren.catalog import service
from xinren.catalog.model import Result, Scope, Value
from xinren.detect import service as detect
from xinren.errors import Conflict, Forbidden, NotFound

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrandIn(_In):
    name: str
    owner: str
    protected: bool = False
    currency: str = "CNY"
    ref_price_min: StrictInt | None = None
    ref_price_max: StrictInt | None = None
    keywords: list[str] = []


class ProductIn(_In):
    brand_id: StrictInt
    manufacturer: str
    name: str
    category: str
    gtin: str | None = None
    facts: dict[str, Value] = {}


class BatchIn(_In):
    product_id: StrictInt
    lot: str
    production_date: date
    quantity: Annotated[StrictInt, Field(gt=0)]
    registered_by: str
    epc_class: str | None = None


class InspectionIn(_In):
    document: str
    commissioned_by: str
    sampled_on: date
    result: Result
    finding: str


class AuthorizationIn(_In):
    brand_id: StrictInt
    grantor: str
    grantee: str
    scope: Scope
    valid_from: date
    valid_to: date
    document: str


class ListingIn(_In):
    merchant: str
    product_id: StrictInt
    batch_ids: list[StrictInt]
    title: str
    price: StrictInt
    currency: str
    claims: dict[str, Value] = {}
    claim_text: str = ""


class LiveSessionIn(_In):
    host: str
    merchant: str
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    listing_ids: list[StrictInt] = []
    recording: str | None = None


class ClaimIn(_In):
    spoken_at: AwareDatetime
    text: str
    listing_id: StrictInt | None = None
    attributes: dict[str, Value] = {}


def _json(obj: Any) -> dict[str, Any]:
    """A service dataclass as JSON-ready data (dates as ISO strings)."""
    out: dict[str, Any] = {}
    for k, v in asdict(obj).items():
        out[k] = (
            v.isoformat() if hasattr(v, "isoformat") else (list(v) if isinstance(v, tuple) else v)
        )
    return out


def _created(
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    key: str,
    scope: str,
    body: BaseModel,
    response: Response,
    make: Any,
) -> dict[str, Any]:
    result, replayed = once(
        session, clock, principal, key, scope, body.model_dump(mode="json"), lambda: _json(make())
    )
    response.status_code = status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
    return result


@router.post("/brands", status_code=status.HTTP_201_CREATED)
def create_brand(
    body: BrandIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.owner, "register a brand")
    return _created(
        session,
        clock,
        principal,
        key,
        "POST brands",
        body,
        response,
        lambda: service.create_brand(session, clock, **body.model_dump()),
    )


@router.get("/brands/{brand_id}")
def get_brand(brand_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _json(service.get_brand(session, brand_id))


@router.post("/products", status_code=status.HTTP_201_CREATED)
def create_product(
    body: ProductIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    brand = service.get_brand(session, body.brand_id)
    acting_for(principal, brand.owner, "register a product of this brand")
    return _created(
        session,
        clock,
        principal,
        key,
        "POST products",
        body,
        response,
        lambda: service.create_product(session, clock, **body.model_dump()),
    )


@router.get("/products/{product_id}")
def get_product(product_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _json(service.get_product(session, product_id))


@router.post("/batches", status_code=status.HTTP_201_CREATED)
def create_batch(
    body: BatchIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.registered_by, "register a batch")
    return _created(
        session,
        clock,
        principal,
        key,
        "POST batches",
        body,
        response,
        lambda: service.create_batch(session, clock, **body.model_dump()),
    )


def _may_see_batch(principal: PrincipalDep, batch: service.Batch) -> None:
    if not is_staff(principal) and principal.subject != batch.registered_by:
        raise NotFound(f"no batch {batch.id}", field="batch_id")


@router.get("/batches")
def list_batches(session: SessionDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Staff see every batch; a supplier or manufacturer sees the batches it registered."""
    if is_staff(principal):
        return [_json(b) for b in service.list_batches(session)]
    if principal.role not in ("supplier", "manufacturer") or principal.subject is None:
        raise Forbidden("batches are listed for staff, suppliers and manufacturers")
    return [_json(b) for b in service.list_batches(session, party=principal.subject)]


@router.get("/batches/{batch_id}")
def get_batch(batch_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    batch = service.get_batch(session, batch_id)
    _may_see_batch(principal, batch)
    return _json(batch) | {
        "inspections": [_json(i) for i in service.inspections_of(session, batch_id)]
    }


@router.post("/batches/{batch_id}/inspections", status_code=status.HTTP_201_CREATED)
def add_inspection(
    batch_id: int,
    body: InspectionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    if principal.role not in ("admin", "platform", "reviewer", "lab"):
        raise Forbidden("inspection reports are attached by the lab, the platform or a reviewer")
    return _created(
        session,
        clock,
        principal,
        key,
        f"POST batches/{batch_id}/inspections",
        body,
        response,
        lambda: _lab_checked(session, clock, principal, batch_id, body),
    )


def _lab_checked(
    session: SessionDep, clock: ClockDep, principal: PrincipalDep, batch_id: int, body: InspectionIn
) -> service.Inspection:
    found = service.add_inspection(session, clock, batch_id=batch_id, **body.model_dump())
    if principal.role == "lab" and found.lab != principal.subject:
        raise Forbidden(f"the report was issued by {found.lab}; a lab attaches only its own")
    return found


@router.post("/authorizations", status_code=status.HTTP_201_CREATED)
def authorize(
    body: AuthorizationIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.grantor, "grant a brand authorization")
    return _created(
        session,
        clock,
        principal,
        key,
        "POST authorizations",
        body,
        response,
        lambda: service.authorize(session, clock, **body.model_dump()),
    )


@router.post("/listings", status_code=status.HTTP_201_CREATED)
def create_listing(
    body: ListingIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.merchant, "list goods")
    verdict = detect.check_listing(
        session,
        clock,
        merchant=body.merchant,
        title=body.title,
        text=body.claim_text,
        price=body.price,
        product_id=body.product_id,
    )
    if verdict.outcome == "block":
        session.commit()  # the interception is kept: it counts as intercepted goods
        raise Conflict(
            "the listing was blocked at the counterfeit gate: " + "; ".join(verdict.reasons),
            field="listing",
            reasons=list(verdict.reasons),
        )
    return _created(
        session,
        clock,
        principal,
        key,
        "POST listings",
        body,
        response,
        lambda: service.create_listing(session, clock, **body.model_dump()),
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
    return [_json(x) for x in found]


@router.get("/listings/{listing_id}")
def get_listing(listing_id: int, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    return _json(service.get_listing(session, listing_id))


@router.post("/live-sessions", status_code=status.HTTP_201_CREATED)
def create_live_session(
    body: LiveSessionIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    acting_for(principal, body.merchant, "schedule a live session")
    return _created(
        session,
        clock,
        principal,
        key,
        "POST live-sessions",
        body,
        response,
        lambda: service.create_live_session(session, clock, **body.model_dump()),
    )


@router.post("/live-sessions/{session_id}/claims", status_code=status.HTTP_201_CREATED)
def add_claim(
    session_id: int,
    body: ClaimIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> dict[str, Any]:
    """Claims are transcribed from the stream by the platform or a reviewer, not by the host."""
    if principal.role not in ("admin", "platform", "reviewer"):
        raise Forbidden("claims are recorded by the platform or a reviewer")
    return _created(
        session,
        clock,
        principal,
        key,
        f"POST live-sessions/{session_id}/claims",
        body,
        response,
        lambda: service.add_claim(session, clock, session_id=session_id, **body.model_dump()),
    )


@router.get("/live-sessions/{session_id}")
def get_live_session(
    session_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    live = service.get_live_session(session, session_id)
    return _json(live) | {"claims": [_json(c) for c in service.claims_of(session, session_id)]}


class ReviewBody(_In):
    key: Annotated[str, Field(min_length=1, max_length=128)]
    buyer: str
    listing_id: StrictInt
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    text: Annotated[str, Field(max_length=5000)] = ""
    reviewed_at: AwareDatetime
    order_id: StrictInt | None = None


@router.post("/reviews")
def add_reviews(
    body: Annotated[list[ReviewBody], Field(min_length=1, max_length=10_000)],
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, int]:
    """Ingest reviews, one or many (all or nothing); each carries its own idempotency key."""
    if principal.role not in ("admin", "platform"):
        raise Forbidden("reviews are ingested by the platform back end (role platform)")
    created = reviews_service.add_many(
        session, clock, [reviews_service.ReviewIn(**r.model_dump()) for r in body]
    )
    session.commit()
    return {"received": len(body), "created": created}


@router.get("/merchants/{merchant}/rating")
def merchant_rating(
    merchant: str, session: SessionDep, clock: ClockDep, principal: PrincipalDep
) -> dict[str, object]:
    """The merchant's honest rating beside the raw one, with the explanation."""
    rating = detect.rate_merchant(session, clock, merchant)
    session.commit()  # reviews judged fake are marked, and the proposal is on the feed
    return {
        "merchant": merchant,
        "raw": round(rating.raw, 2),
        "reviews": rating.reviews,
        "honest": round(rating.robust, 2),
        "effective_reviews": round(rating.effective, 1),
        "explanation": rating.explain(),
    }
