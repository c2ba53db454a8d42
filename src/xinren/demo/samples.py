"""Sample traders for the demo, the benchmarks and tests: registered with complete, plausible
trader information and verified by a named reviewer, through the same services as anyone."""

from __future__ import annotations

import zlib

from sqlalchemy.orm import Session

from xinren.catalog.service import Listing
from xinren.clock import Clock
from xinren.parties import service
from xinren.parties.model import Status, TraderInfo
from xinren.parties.service import Party


def sample_info(ref: str) -> TraderInfo:
    slug = ref.split(":", 1)[1]
    return TraderInfo(
        legal_name=f"{slug.title()} Trading Co., Ltd.",
        address=f"{len(slug)} Wensan Road, Xihu District, Hangzhou",
        registration_number=f"91330100MA{zlib.crc32(slug.encode()) % 10**8:08d}",
        payment_account=f"CN-ALIPAY-{slug}",
        contact_email=f"{slug.replace('_', '-')}@example.com",
        self_certified=True,
    )


def verified(
    session: Session,
    clock: Clock,
    ref: str,
    *,
    display_name: str | None = None,
    info: TraderInfo | None = None,
    accreditation: str | None = None,
    affiliated_with: str | None = None,
) -> Party:
    """Register `ref` (if new) with trader information and have a reviewer verify it."""
    party = service.register(
        session,
        clock,
        ref,
        display_name=display_name or ref,
        info=info or sample_info(ref),
        accreditation=accreditation,
        affiliated_with=affiliated_with,
    )
    if party.status is Status.PENDING:
        party = service.decide(
            session,
            clock,
            f"verify:{ref}",
            ref,
            Status.VERIFIED,
            reason="registration documents checked against the business licence",
            decided_by="reviewer:onboarding",
        )
    return party


def listing(
    session: Session,
    clock: Clock,
    tag: str,
    merchant: str,
    *,
    price: int,
    category: str = "default",
    stock: int | None = None,
    quantity: int = 10_000,
) -> Listing:
    """A listing of `merchant`'s for a product of its own: a verified brand owner and maker
    named after `tag`, one batch of `quantity` units, `stock` units for sale (None: unlimited).
    The merchant must already be able to sell (verified, its deposit paid)."""
    from xinren.catalog import service as catalog

    owner, maker = f"brand_owner:{tag}", f"manufacturer:{tag}"
    for ref in (owner, maker):
        verified(session, clock, ref)
    brand = catalog.create_brand(session, clock, name=f"Brand {tag}", owner=owner)
    product = catalog.create_product(
        session,
        clock,
        brand_id=brand.id,
        manufacturer=maker,
        name=f"Product {tag}",
        category=category,
    )
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot=f"lot-{tag}",
        production_date=clock.now().date(),
        quantity=quantity,
        registered_by=maker,
    )
    return catalog.create_listing(
        session,
        clock,
        merchant=merchant,
        product_id=product.id,
        batch_ids=[batch.id],
        title=f"Listing {tag}",
        price=price,
        currency="CNY",
        stock=stock,
    )
