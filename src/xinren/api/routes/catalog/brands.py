"""/v1/catalog brands and products, and a protected brand's official images."""

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
)
from xinren.api.routes.catalog.bodies import BrandIn, OfficialImageIn, ProductIn
from xinren.api.routes.catalog.common import as_json, created, may_use
from xinren.api.threads import Router
from xinren.catalog import service

router = Router()


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
    return created(
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
    return as_json(service.get_brand(session, brand_id))


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
    return created(
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
    return as_json(service.get_product(session, product_id))


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
    added = service.add_official_image(
        session, clock, brand_id, document=body.document, store=store, may_use=may_use(principal)
    )
    return {"brand_id": brand_id, "pdq": added.pdq, "added": added.added}
