"""/v1/catalog: brands, products, batches, inspections, authorizations, listings, live
sessions, reviews and their appeals, one module per use case, one router for the prefix.

Parties act for themselves (a manufacturer registers its batches, a merchant its listings);
the platform and reviewers act for anyone. Creates take an Idempotency-Key and a retry gets
the first response. `BatchIn` and its route stay here: its schema name in the OpenAPI document
(`xinren__api__routes__catalog__BatchIn`, another prefix has a BatchIn too) names this module.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Response, status
from pydantic import StrictInt

from xinren.api.deps import ClockDep, IdempotencyKeyDep, PrincipalDep, SessionDep, acting_for
from xinren.api.routes.catalog import batches, brands, listings, live, reviews
from xinren.api.routes.catalog.bodies import In
from xinren.api.routes.catalog.common import created
from xinren.api.threads import Router
from xinren.api.types import Units
from xinren.catalog import service

router = Router(prefix="/v1/catalog", tags=["catalog"])


class BatchIn(In):
    product_id: StrictInt
    lot: str
    production_date: date
    quantity: Units
    registered_by: str
    epc_class: str | None = None


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
    return created(
        session,
        clock,
        principal,
        key,
        "POST batches",
        body,
        response,
        lambda: service.create_batch(session, clock, **body.model_dump()),
    )


for _part in (brands, batches, listings, live, reviews):
    router.include_router(_part.router)

__all__ = ["router"]
