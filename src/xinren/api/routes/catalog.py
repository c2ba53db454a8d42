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

from xinren.access.service import Principal
from xinren.api.deps import (
    ClockDep,
    IdempotencyKeyDep,
    PrincipalDep,
    ReviewerDep,
    SessionDep,
    StoreDep,
    acting_for,
    is_staff,
)
from xinren.api.idempotency import once
from xinren.api.routes.documents import may_read
from xinren.api.types import Amount, Units
from xinren.catalog import service
from xinren.catalog.model import Result, Scope, Value
from xinren.detect import pdq
from xinren.detect import service as detect
from xinren.detect.gate import Verdict
from xinren.documents import service as documents
from xinren.documents.store import FileStore
from xinren.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinren.ids import SCOPE_SEP, payload_hash, scoped
from xinren.reviews import service as reviews_service

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# checked before the gate runs: bad input is refused and never recorded as an interception
Title = Annotated[str, Field(min_length=1, max_length=300)]
Price = Amount
Stock = Annotated[StrictInt, Field(ge=0, le=service.MAX_STOCK)]


class BrandIn(_In):
    name: str
    owner: str
    protected: bool = False
    currency: str = "CNY"
    ref_price_min: Amount | None = None
    ref_price_max: Amount | None = None
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
    quantity: Units
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
    title: Title
    price: Price
    currency: str
    claims: dict[str, Value] = {}
    claim_text: str = ""
    # the listing's photos, uploaded first to /v1/documents: the gate compares their PDQ
    # hashes with protected brands' official images
    images: Annotated[list[Sha256], Field(max_length=20)] = []
    # units to sell: orders never take more (None: the platform does not track its stock)
    stock: Stock | None = None


class ListingChangeIn(_In):
    title: Title | None = None
    price: Price | None = None
    images: Annotated[list[Sha256], Field(max_length=20)] | None = None  # None: unchanged
    stock: Stock | None = None  # the units left now; None: unchanged


class LiveSessionIn(_In):
    host: str
    merchant: str
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    listing_ids: list[StrictInt] = []
    recording: str | None = None


class OfficialImageIn(_In):
    document: Sha256  # the image, uploaded first to /v1/documents


class ReviewAppealIn(_In):
    merchant: str
    review_ids: Annotated[list[StrictInt], Field(min_length=1, max_length=1000)]
    reason: Annotated[str, Field(min_length=1, max_length=4000)]


class ReviewAppealDecisionIn(_In):
    reinstate: Annotated[list[StrictInt], Field(max_length=1000)] = []
    reason: Annotated[str, Field(min_length=1, max_length=4000)]


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


def _scoped_key(principal: Principal, key: str) -> str:
    if SCOPE_SEP in key:
        raise ValidationFailed(f"a key may not hold {SCOPE_SEP!r}", field="key")
    return scoped(principal.key_scope, key)


def _draft(body: BaseModel) -> str:
    """The same request sent twice is one draft: the gate records it once."""
    return payload_hash(body.model_dump(mode="json"))


def _refuse_if_blocked(session: SessionDep, verdict: Verdict, what: str) -> None:
    """A blocked draft is refused with the gate's reasons; its interception is kept (the unit
    of work commits it), since it counts as intercepted goods whatever the caller does next."""
    if verdict.outcome == "block":
        raise Conflict(
            f"{what} was blocked at the counterfeit gate: " + "; ".join(verdict.reasons),
            field="listing",
            keep=True,
            reasons=list(verdict.reasons),
        )


def _image_hash(session: SessionDep, store: FileStore, principal: PrincipalDep, digest: str) -> str:
    """The PDQ hash of an uploaded image document the caller may read; a file that is not an
    image is refused."""
    doc, content = documents.read(session, store, digest)
    if not may_read(principal, doc):
        raise Forbidden(f"document {digest} is not {principal.subject}'s to use", field="images")
    try:
        return pdq.from_file(content)
    except ValueError as err:
        raise ValidationFailed(
            f"document {digest} is not an image PDQ can read (PNG, JPEG, ...): {err}",
            field="images",
        ) from None


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
    store: StoreDep,
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
        images=tuple(_image_hash(session, store, principal, d) for d in body.images),
        draft_key=f"create:{body.merchant}:{principal.key_id}:{key}:{payload_hash(body.model_dump(mode='json'))}",
    )
    _refuse_if_blocked(session, verdict, "the listing")
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
    service.require_changeable(session, listing)  # before the gate: a refusal is no interception
    verdict = detect.check_listing(
        session,
        clock,
        merchant=listing.merchant,
        title=listing.title if body.title is None else body.title,
        text=listing.claim_text,
        price=listing.price if body.price is None else body.price,
        product_id=listing.product_id,
        images=tuple(
            _image_hash(session, store, principal, d)
            for d in (listing.images if body.images is None else body.images)
        ),
        draft_key=f"change:{listing_id}:{payload_hash(body.model_dump(mode='json'))}",
        listing_id=listing_id,
    )
    _refuse_if_blocked(session, verdict, "the change")  # the listing stays as it was
    changed = service.change_listing(
        session,
        clock,
        listing_id,
        title=body.title,
        price=body.price,
        images=body.images,
        stock=body.stock,
    )
    return _json(changed)


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
    buyer: Annotated[str, Field(min_length=1, max_length=100)]
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
        session,
        clock,
        [  # each review's key is the caller's, as an Idempotency-Key is (ids.scoped)
            reviews_service.ReviewIn(**(r.model_dump() | {"key": _scoped_key(principal, r.key)}))
            for r in body
        ],
    )
    return {"received": len(body), "created": created}


@router.get("/merchants/{merchant}/rating")
def merchant_rating(
    merchant: str, session: SessionDep, principal: PrincipalDep
) -> dict[str, object]:
    """The merchant's honest rating beside the raw one, as detection last stored it: reading it
    runs no detection and changes nothing (reviews arriving schedule the rescore)."""
    return {"merchant": merchant} | detect.merchant_rating(session, merchant).as_dict()


@router.post("/brands/{brand_id}/images", status_code=status.HTTP_201_CREATED)
def add_official_image(
    brand_id: int,
    body: OfficialImageIn,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    store: StoreDep,
) -> dict[str, Any]:
    """A protected brand's official image: listings from sellers outside the brand's
    authorization chain whose photos match it (PDQ distance <= 31) are blocked at the gate."""
    brand = service.get_brand(session, brand_id)
    acting_for(principal, brand.owner, "add official images")
    hashed = _image_hash(session, store, principal, body.document)
    added = detect.add_official_image(session, clock, brand_id, hashed)
    return {"brand_id": brand_id, "pdq": hashed, "added": added}


@router.get("/merchants/{merchant}/reviews")
def merchant_reviews(
    merchant: str,
    session: SessionDep,
    principal: PrincipalDep,
    excluded: bool | None = None,
) -> list[dict[str, Any]]:
    """The merchant's reviews (to itself and staff), with whether each is excluded as fake."""
    if not is_staff(principal) and principal.subject != merchant:
        raise Forbidden(f"a {principal.role} key may not read {merchant}'s reviews")
    return [
        {
            "id": r.id,
            "buyer": r.buyer,
            "listing_id": r.listing_id,
            "rating": r.rating,
            "reviewed_at": r.reviewed_at.isoformat(),
            "excluded": r.excluded,
            "reinstated": r.reinstated,
        }
        for r in reviews_service.of_merchant(session, merchant)
        if excluded is None or r.excluded == excluded
    ]


@router.post("/review-appeals", status_code=status.HTTP_201_CREATED)
def appeal_excluded_reviews(
    body: ReviewAppealIn,
    key: IdempotencyKeyDep,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
) -> dict[str, Any]:
    """The merchant contests reviews excluded as fake."""
    if principal.subject != body.merchant and principal.role not in ("admin",):
        raise Forbidden(f"only {body.merchant} may appeal the exclusion of its reviews")
    appeal = reviews_service.appeal_exclusion(
        session, clock, key, merchant=body.merchant, review_ids=body.review_ids, reason=body.reason
    )
    return appeal.as_dict()


@router.get("/review-appeals/{appeal_id}")
def get_review_appeal(
    appeal_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    appeal = reviews_service.get_appeal(session, appeal_id)
    if not is_staff(principal) and principal.subject != appeal.merchant:
        raise Forbidden(f"review appeal {appeal_id} is {appeal.merchant}'s")
    return appeal.as_dict()


@router.post("/review-appeals/{appeal_id}/decision")
def decide_review_appeal(
    appeal_id: int,
    body: ReviewAppealDecisionIn,
    session: SessionDep,
    clock: ClockDep,
    reviewer: ReviewerDep,
) -> dict[str, Any]:
    """A named reviewer decides; reinstated reviews count again in the honest rating."""
    appeal = reviews_service.decide_appeal(
        session,
        clock,
        appeal_id,
        decided_by=reviewer.actor,
        reinstate=body.reinstate,
        reason=body.reason,
    )
    return appeal.as_dict()
