"""The catalog: references that agree, parties of the right kind, claims as structured data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from xinren.catalog import model
from xinren.catalog import service as catalog
from xinren.catalog.model import Result, Scope
from xinren.demo import samples
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore
from xinren.errors import AlreadyExists, Conflict, NotFound, TraderNotVerified, ValidationFailed
from xinren.orders import service as orders
from xinren.parties import deposits
from xinren.parties import service as parties


@pytest.fixture
def store(tmp_path):
    return FileStore(tmp_path / "docs")


@pytest.fixture
def world(session, clock, store):
    for ref in ("brand_owner:acme", "manufacturer:m1", "supplier:s1", "merchant:shop", "host:star"):
        samples.verified(session, clock, ref)
    samples.verified(session, clock, "lab:cti", accreditation="CNAS L0001")
    brand = catalog.create_brand(
        session,
        clock,
        name="Acme",
        owner="brand_owner:acme",
        protected=True,
        ref_price_min=100_000,
        ref_price_max=200_000,
        keywords=["acme", "艾克美"],
    )
    product = catalog.create_product(
        session,
        clock,
        brand_id=brand.id,
        manufacturer="manufacturer:m1",
        name="Acme Phone 12",
        category="electronics",
        gtin="06901234567892",
        facts={"storage_gb": 128, "model": "A12"},
    )
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot="L2026-01",
        production_date=date(2025, 12, 5),
        quantity=1000,
        registered_by="manufacturer:m1",
    )
    sell(session, clock, store, brand.id, "merchant:shop")  # the shop sells inside Acme's chain
    return brand, product, batch


def sell(session, clock, store, brand_id, merchant):
    """The brand owner lets `merchant` sell Acme goods this year: the counterfeit gate, which
    every listing write runs, lets its listings of the brand through."""
    grant = doc(
        session,
        clock,
        store,
        DocType.BRAND_AUTHORIZATION,
        "brand_owner:acme",
        merchant,
        merchant.encode(),
    )
    catalog.authorize(
        session,
        clock,
        brand_id=brand_id,
        grantor="brand_owner:acme",
        grantee=merchant,
        scope=Scope.SELL,
        valid_from=date(2026, 1, 1),
        valid_to=date(2026, 12, 31),
        document=grant,
    )


def doc(session, clock, store, doc_type, issuer, subject, content, **kw):
    meta = DocumentMeta(doc_type, "application/pdf", issuer, subject, **kw)
    return documents.add(session, clock, store, content, meta).sha256


def test_listing_traces_to_batches_and_orders_record_the_line(session, clock, world):
    brand, product, batch = world
    listing = catalog.create_listing(
        session,
        clock,
        merchant="merchant:shop",
        product_id=product.id,
        batch_ids=[batch.id],
        title="Acme Phone 12, 128 GB",
        price=149_900,
        currency="CNY",
        claims={"storage_gb": 128},
        claim_text="128 GB, genuine, one-year warranty",
    )
    assert listing.batch_ids == (batch.id,)
    assert [x.id for x in catalog.list_listings(session, brand_id=brand.id)] == [listing.id]
    start = datetime(2026, 3, 1, 20, tzinfo=UTC)
    live = catalog.create_live_session(
        session,
        clock,
        host="host:star",
        merchant="merchant:shop",
        title="Phone night",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        listing_ids=[listing.id],
    )
    claim = catalog.add_claim(
        session,
        clock,
        session_id=live.id,
        listing_id=listing.id,
        spoken_at=start + timedelta(minutes=42),
        text="这款是512G的大内存",
        attributes={"storage_gb": 512},
    )
    assert catalog.claims_of(session, live.id) == [claim]
    deposits.pay_deposit(session, clock, "dep", "merchant:shop", 10_000_000, "CNY")
    order = orders.create_order(
        session,
        clock,
        "o1",
        buyer="buyer:1",
        merchant="merchant:shop",
        total=149_900,
        currency="CNY",
        category="electronics",
        host="host:star",
        listing_id=listing.id,
        live_session_id=live.id,
    )
    assert (order.listing_id, order.batch_id, order.live_session_id) == (
        listing.id,
        batch.id,
        live.id,
    )
    # a line that does not agree with its listing is refused, naming the field
    with pytest.raises(ValidationFailed) as err:
        orders.create_order(
            session,
            clock,
            "o2",
            buyer="buyer:1",
            merchant="merchant:shop",
            total=1,
            currency="CNY",
            category="electronics",
            host=None,
            listing_id=listing.id,
            live_session_id=live.id,
        )
    assert err.value.field == "host"
    with pytest.raises(ValidationFailed) as err:
        orders.create_order(
            session,
            clock,
            "o3",
            buyer="buyer:1",
            merchant="merchant:shop",
            total=1,
            currency="CNY",
            batch_id=batch.id,
            category="electronics",
        )
    assert err.value.field == "listing_id"


def test_unverified_merchant_cannot_list(session, clock, store, world):
    brand, product, batch = world
    parties.register(session, clock, "merchant:new", display_name="New")
    sell(session, clock, store, brand.id, "merchant:new")  # authorized, but not verified
    with pytest.raises(TraderNotVerified, match="cannot list goods"):
        catalog.create_listing(
            session,
            clock,
            merchant="merchant:new",
            product_id=product.id,
            batch_ids=[batch.id],
            title="x",
            price=149_900,
            currency="CNY",
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_ids": []}, "batch_ids"),
        ({"price": 0}, "price"),
        ({"title": ""}, "title"),
        ({"claims": {"Storage GB": 1}}, "claims.Storage GB"),
        ({"claims": {"storage_gb": [1]}}, "claims.storage_gb"),
        ({"currency": "XXX1"}, "currency"),
        ({"batch_ids": [999]}, "batch_id"),
    ],
)
def test_bad_listings_name_the_field(session, clock, world, change, field):
    _, product, batch = world
    args = dict(
        merchant="merchant:shop",
        product_id=product.id,
        batch_ids=[batch.id],
        title="t",
        price=149_900,  # within Acme's price range: the gate lets it through to these checks
        currency="CNY",
    )
    with pytest.raises((ValidationFailed, NotFound)) as err:
        catalog.create_listing(session, clock, **(args | change))
    assert err.value.field == field
    assert catalog.list_listings(session) == []


def test_batches_and_products_refuse_bad_input(session, clock, world):
    brand, product, _ = world
    with pytest.raises(AlreadyExists):
        catalog.create_batch(
            session,
            clock,
            product_id=product.id,
            lot="L2026-01",
            production_date=date(2025, 12, 5),
            quantity=1,
            registered_by="manufacturer:m1",
        )
    with pytest.raises(ValidationFailed, match="registered_by must be a manufacturer or supplier"):
        catalog.create_batch(
            session,
            clock,
            product_id=product.id,
            lot="L2",
            production_date=date(2025, 12, 5),
            quantity=1,
            registered_by="merchant:shop",
        )
    with pytest.raises(ValidationFailed) as err:
        catalog.create_batch(
            session,
            clock,
            product_id=product.id,
            lot="L3",
            production_date=date(2099, 1, 1),
            quantity=1,
            registered_by="manufacturer:m1",
        )
    assert err.value.field == "production_date"
    with pytest.raises(ValidationFailed) as err:
        catalog.create_product(
            session,
            clock,
            brand_id=brand.id,
            manufacturer="manufacturer:m1",
            name="x",
            category="Food!",
        )
    assert err.value.field == "category"
    with pytest.raises(ValidationFailed) as err:
        catalog.create_brand(
            session, clock, name="B", owner="brand_owner:acme", ref_price_min=5, ref_price_max=1
        )
    assert err.value.field == "ref_price_min"


def test_inspections_come_from_accredited_lab_reports(session, clock, store, world):
    _, _, batch = world
    report = doc(
        session,
        clock,
        store,
        DocType.INSPECTION_REPORT,
        "lab:cti",
        f"batch:{batch.id}",
        b"report",
        accreditation="CNAS L0001",
    )
    invoice = doc(session, clock, store, DocType.INVOICE, "supplier:s1", "batch:1", b"inv")
    with pytest.raises(ValidationFailed, match="inspection_report or sampling_report"):
        catalog.add_inspection(
            session,
            clock,
            batch_id=batch.id,
            document=invoice,
            commissioned_by="merchant:shop",
            sampled_on=date(2025, 12, 20),
            result=Result.PASS,
            finding="ok",
        )
    got = catalog.add_inspection(
        session,
        clock,
        batch_id=batch.id,
        document=report,
        commissioned_by="merchant:shop",
        sampled_on=date(2025, 12, 20),
        result=Result.FAIL,
        finding="battery overheats",
    )
    assert got.lab == "lab:cti" and got.result is Result.FAIL
    assert catalog.inspections_of(session, batch.id) == [got]


def test_sub_authorization_needs_a_distribute_authorization(session, clock, store, world):
    brand, _, _ = world
    day = date(2026, 1, 1)
    by_owner = doc(
        session, clock, store, DocType.BRAND_AUTHORIZATION, "brand_owner:acme", "supplier:s1", b"a1"
    )
    by_supplier = doc(
        session, clock, store, DocType.BRAND_AUTHORIZATION, "supplier:s1", "merchant:shop", b"a2"
    )
    with pytest.raises(Conflict, match="no valid 'distribute' authorization"):
        catalog.authorize(
            session,
            clock,
            brand_id=brand.id,
            grantor="supplier:s1",
            grantee="merchant:shop",
            scope=Scope.SELL,
            valid_from=day,
            valid_to=date(2026, 12, 31),
            document=by_supplier,
        )
    with pytest.raises(ValidationFailed, match="issued by brand_owner:acme, not by supplier:s1"):
        catalog.authorize(
            session,
            clock,
            brand_id=brand.id,
            grantor="supplier:s1",
            grantee="merchant:shop",
            scope=Scope.SELL,
            valid_from=day,
            valid_to=date(2026, 12, 31),
            document=by_owner,
        )
    held = catalog.authorize(
        session,
        clock,
        brand_id=brand.id,
        grantor="brand_owner:acme",
        grantee="supplier:s1",
        scope=Scope.DISTRIBUTE,
        valid_from=day,
        valid_to=date(2026, 12, 31),
        document=by_owner,
    )
    sub = catalog.authorize(
        session,
        clock,
        brand_id=brand.id,
        grantor="supplier:s1",
        grantee="merchant:shop",
        scope=Scope.SELL,
        valid_from=day,
        valid_to=date(2026, 12, 31),
        document=by_supplier,
    )
    assert held.valid_on(date(2026, 6, 1)) and not held.valid_on(date(2027, 1, 1))
    assert catalog.revoke_authorization(session, clock, sub.id).revoked


def test_live_claims_must_fall_inside_the_session(session, clock, world):
    _, product, batch = world
    listing = catalog.create_listing(
        session,
        clock,
        merchant="merchant:shop",
        product_id=product.id,
        batch_ids=[batch.id],
        title="t",
        price=149_900,
        currency="CNY",
    )
    start = datetime(2026, 3, 1, 20, tzinfo=UTC)
    live = catalog.create_live_session(
        session,
        clock,
        host="host:star",
        merchant="merchant:shop",
        title="s",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        listing_ids=[listing.id],
    )
    with pytest.raises(ValidationFailed) as err:
        catalog.add_claim(
            session, clock, session_id=live.id, spoken_at=start - timedelta(1), text="x"
        )
    assert err.value.field == "spoken_at"
    with pytest.raises(ValidationFailed) as err:
        catalog.add_claim(
            session, clock, session_id=live.id, spoken_at=start, text="x", listing_id=99
        )
    assert err.value.field == "listing_id"


def test_contradictions_compare_only_stated_facts():
    found = model.contradictions(
        {"storage_gb": 128, "colour": "Black"},
        {"storage_gb": 512, "colour": "black ", "waterproof": True},
        "live_claim:1",
        "512G, black, waterproof",
    )
    assert [(c.attribute, c.claimed, c.fact) for c in found] == [("storage_gb", 512, 128)]
    assert "the product facts say 128" in found[0].explain()
