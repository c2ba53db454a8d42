"""/v1/catalog: brands, products, batches, inspections, authorizations, listings, live
sessions, reviews and their appeals, one module per use case, one router for the prefix.

Parties act for themselves (a manufacturer registers its batches, a merchant its listings);
the platform and reviewers act for anyone. Creates take an Idempotency-Key and a retry gets
the first response.
"""

from __future__ import annotations

from fastapi import APIRouter

from xinren.api.routes.catalog import batches, brands, listings, live, reviews

router = APIRouter(prefix="/v1/catalog", tags=["catalog"])
for _part in (brands, batches, listings, live, reviews):
    router.include_router(_part.router)

__all__ = ["router"]
