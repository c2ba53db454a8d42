"""Brands and their products: who owns a brand (and whether the counterfeit gate protects it),
which manufacturer makes a product and the facts its claims are compared with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinren.catalog import model
from xinren.catalog.model import Value
from xinren.catalog.refs import one_row, party_of_kind
from xinren.catalog.tables import brands, products
from xinren.clock import Clock
from xinren.errors import AlreadyExists
from xinren.money import check_currency


@dataclass(frozen=True, slots=True)
class Brand:
    id: int
    name: str
    owner: str
    protected: bool
    currency: str
    ref_price_min: int | None
    ref_price_max: int | None
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    brand_id: int
    manufacturer: str
    name: str
    category: str
    gtin: str | None
    facts: dict[str, Value]


def create_brand(
    session: Session,
    clock: Clock,
    *,
    name: str,
    owner: str,
    protected: bool = False,
    currency: str = "CNY",
    ref_price_min: int | None = None,
    ref_price_max: int | None = None,
    keywords: Sequence[str] = (),
) -> Brand:
    model.check_text(name, "name", 200)
    party_of_kind(session, owner, "owner", "brand_owner")
    check_currency(currency)
    model.check_price_range(ref_price_min, ref_price_max)
    words = tuple(model.check_text(k, "keywords", 100) for k in keywords)
    if session.execute(select(brands.c.id).where(brands.c.name == name)).first() is not None:
        raise AlreadyExists(f"brand {name!r} exists", field="name")
    brand_id = session.execute(
        brands.insert().returning(brands.c.id),
        dict(
            name=name,
            owner=owner,
            protected=protected,
            currency=currency,
            ref_price_min=ref_price_min,
            ref_price_max=ref_price_max,
            keywords=list(words),
            created_at=clock.now(),
        ),
    ).scalar_one()
    return get_brand(session, brand_id)


def get_brand(session: Session, brand_id: int) -> Brand:
    r = one_row(session, brands, brand_id, "brand")
    return Brand(
        r.id,
        r.name,
        r.owner,
        r.protected,
        r.currency,
        r.ref_price_min,
        r.ref_price_max,
        tuple(r.keywords),
    )


def brands_owned_by(session: Session, owner: str) -> list[int]:
    return list(session.execute(select(brands.c.id).where(brands.c.owner == owner)).scalars())


def create_product(
    session: Session,
    clock: Clock,
    *,
    brand_id: int,
    manufacturer: str,
    name: str,
    category: str,
    gtin: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Product:
    get_brand(session, brand_id)
    party_of_kind(session, manufacturer, "manufacturer", "manufacturer")
    model.check_text(name, "name", 200)
    model.check_category(category)
    model.check_gtin(gtin)
    checked = model.check_attributes(facts or {}, "facts")
    if gtin and session.execute(select(products.c.id).where(products.c.gtin == gtin)).first():
        raise AlreadyExists(f"a product with GTIN {gtin} exists", field="gtin")
    product_id = session.execute(
        products.insert().returning(products.c.id),
        dict(
            brand_id=brand_id,
            manufacturer=manufacturer,
            name=name,
            category=category,
            gtin=gtin,
            facts=checked,
            created_at=clock.now(),
        ),
    ).scalar_one()
    return get_product(session, product_id)


def get_product(session: Session, product_id: int) -> Product:
    r = one_row(session, products, product_id, "product")
    return Product(r.id, r.brand_id, r.manufacturer, r.name, r.category, r.gtin, dict(r.facts))
