"""The request bodies of /v1/catalog, validated strictly (an unknown field is refused), and
checked before the counterfeit gate runs: bad input is refused and never recorded as an
interception."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from xinren.api.types import Amount
from xinren.catalog import service
from xinren.catalog.model import Result, Scope, Value


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Title = Annotated[str, Field(min_length=1, max_length=300)]
Price = Amount
Stock = Annotated[StrictInt, Field(ge=0, le=service.MAX_STOCK)]


class BrandIn(In):
    name: str
    owner: str
    protected: bool = False
    currency: str = "CNY"
    ref_price_min: Amount | None = None
    ref_price_max: Amount | None = None
    keywords: list[str] = []


class ProductIn(In):
    brand_id: StrictInt
    manufacturer: str
    name: str
    category: str
    gtin: str | None = None
    facts: dict[str, Value] = {}


class OfficialImageIn(In):
    document: Sha256  # the image, uploaded first to /v1/documents


class InspectionIn(In):
    document: str
    commissioned_by: str
    sampled_on: date
    result: Result
    finding: str


class AuthorizationIn(In):
    brand_id: StrictInt
    grantor: str
    grantee: str
    scope: Scope
    valid_from: date
    valid_to: date
    document: str


class ListingIn(In):
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


class ListingChangeIn(In):
    title: Title | None = None
    price: Price | None = None
    images: Annotated[list[Sha256], Field(max_length=20)] | None = None  # None: unchanged
    stock: Stock | None = None  # the units left now; None: unchanged


class LiveSessionIn(In):
    host: str
    merchant: str
    title: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    listing_ids: list[StrictInt] = []
    recording: str | None = None


class ClaimIn(In):
    spoken_at: AwareDatetime
    text: str
    listing_id: StrictInt | None = None
    attributes: dict[str, Value] = {}


class ReviewBody(In):
    key: Annotated[str, Field(min_length=1, max_length=128)]
    buyer: Annotated[str, Field(min_length=1, max_length=100)]
    listing_id: StrictInt
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    text: Annotated[str, Field(max_length=5000)] = ""
    reviewed_at: AwareDatetime
    order_id: StrictInt | None = None


class ReviewAppealIn(In):
    merchant: str
    review_ids: Annotated[list[StrictInt], Field(min_length=1, max_length=1000)]
    reason: Annotated[str, Field(min_length=1, max_length=4000)]


class ReviewAppealDecisionIn(In):
    reinstate: Annotated[list[StrictInt], Field(max_length=1000)] = []
    reason: Annotated[str, Field(min_length=1, max_length=4000)]
