"""The catalog's use cases, as other contexts and adapters call them. Every write checks who
the parties are (registered, of the right kind, verified where they trade) and that references
agree (a listing's batches are of its product, a live session's listings are its merchant's),
so a sale can always be traced to its source; every listing write passes the counterfeit gate.

Each use case lives in its module (brands, batches, authorizations, listings, live, gate);
this module names them in one place."""

from __future__ import annotations

from xinren.catalog.authorizations import (
    Authorization,
    authorizations_of,
    authorize,
    brand_authorizations_all,
    revoke_authorization,
)
from xinren.catalog.batches import (
    Batch,
    Inspection,
    add_inspection,
    batch_class,
    create_batch,
    get_batch,
    inspections_of,
    list_batches,
)
from xinren.catalog.brands import (
    Brand,
    Product,
    brands_owned_by,
    create_brand,
    create_product,
    get_brand,
    get_product,
)
from xinren.catalog.gate import OfficialImage, add_official_image, check_listing
from xinren.catalog.listings import (
    MAX_STOCK,
    Listing,
    change_listing,
    create_listing,
    get_listing,
    list_listings,
    require_changeable,
    return_stock,
    set_listing_status,
    take_stock,
)
from xinren.catalog.live import (
    LiveClaim,
    LiveSession,
    add_claim,
    claims_of,
    create_live_session,
    get_live_session,
)

__all__ = [
    "MAX_STOCK",
    "Authorization",
    "Batch",
    "Brand",
    "Inspection",
    "Listing",
    "LiveClaim",
    "LiveSession",
    "OfficialImage",
    "Product",
    "add_claim",
    "add_inspection",
    "add_official_image",
    "authorizations_of",
    "authorize",
    "batch_class",
    "brand_authorizations_all",
    "brands_owned_by",
    "change_listing",
    "check_listing",
    "claims_of",
    "create_batch",
    "create_brand",
    "create_listing",
    "create_live_session",
    "create_product",
    "get_batch",
    "get_brand",
    "get_listing",
    "get_live_session",
    "get_product",
    "inspections_of",
    "list_batches",
    "list_listings",
    "require_changeable",
    "return_stock",
    "revoke_authorization",
    "set_listing_status",
    "take_stock",
]
