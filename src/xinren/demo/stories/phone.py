"""The phone misdescribed on stream: a top host sells a phone as '5G, 256 GB'; the product is a
4G, 128 GB model. Built step by step: the goods and their maker, the lab report that the batch
conforms, the brand authorizations, the custody chain with its invoice, the stream and its
claim, and the buyer's order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.model import Result, Scope
from xinren.clock import Clock
from xinren.demo import samples
from xinren.demo.stories.builder import Builder, Case
from xinren.documents.model import DocType
from xinren.documents.store import FileStore
from xinren.parties import deposits


@dataclass(frozen=True, slots=True)
class _Goods:
    brand_id: int
    product_id: int
    batch_id: int
    epc_class: str
    made: datetime


def phone_case(session: Session, clock: Clock, store: FileStore, tag: str) -> Case:
    """A top host sells a phone on stream as '5G, 256 GB'; the product is a 4G, 128 GB model.

    The supplier says the phones came from the manufacturer as they were; the chain (every
    hand-over authorized and evidenced) and an independent lab's report that the batch
    conforms to its specification decide that the misdescription was made on stream.
    """
    b = Builder(session, clock, store, tag)
    now = clock.now()
    refs = {
        "owner": b.ref("brand_owner", "huamei"),
        "maker": b.ref("manufacturer", "huamei-factory"),
        "supplier": b.ref("supplier", "tongda"),
        "shop": b.ref("merchant", "xuanxuan-digital"),
        "host": b.ref("host", "top-host"),
        "lab": b.ref("lab", "cesi"),
    }
    for role in ("owner", "maker", "supplier", "shop", "host"):
        samples.verified(session, clock, refs[role])
    samples.verified(session, clock, refs["lab"], accreditation="CNAS L0125")
    goods = _goods(b, refs, now)
    report = _conforming_report(b, refs, goods, now)
    _authorizations(b, refs, goods)
    invoice = _custody(b, refs, goods)
    listing_id, live_id, recording = _on_stream(b, refs, goods, now)
    deposits.pay_deposit(
        session, clock, f"case-{tag}-phone-deposit", refs["shop"], 1_000_000, "CNY"
    )
    order_id = b.order(
        "phone",
        "buyer:phone-fan",
        refs["shop"],
        listing_id,
        total=299_900,
        currency="CNY",
        category="electronics",
        host=refs["host"],
        host_rate_bp=2_000,
        live_session_id=live_id,
    )
    docs = {"report": report, "recording": recording, "invoice": invoice}
    return Case(order_id, goods.batch_id, refs, docs)


def _goods(b: Builder, refs: dict[str, str], now: datetime) -> _Goods:
    """The protected brand, the product as made (4G, 128 GB) and its batch, 60 days old."""
    brand = catalog.create_brand(
        b.s,
        b.clock,
        name=f"Huamei {b.tag}",
        owner=refs["owner"],
        protected=True,
        ref_price_min=199_900,
        ref_price_max=599_900,
        # keywords of this copy of the brand only: a database may hold several (one per tag),
        # and every listing write passes the gate, which blocks another copy's keywords
        keywords=[f"huamei {b.tag}", f"华美 {b.tag}"],
    )
    product = catalog.create_product(
        b.s,
        b.clock,
        brand_id=brand.id,
        manufacturer=refs["maker"],
        name="Huamei P50 (4G, 128 GB)",
        category="electronics",
        facts={"model": "P50-128", "network": "4G", "storage_gb": 128, "ram_gb": 8},
    )
    made = now - timedelta(days=60)
    batch = catalog.create_batch(
        b.s,
        b.clock,
        product_id=product.id,
        lot=f"P50-{b.tag}",
        production_date=made.date(),
        quantity=5000,
        registered_by=refs["maker"],
    )
    return _Goods(brand.id, product.id, batch.id, batch.epc_class, made)


def _conforming_report(b: Builder, refs: dict[str, str], goods: _Goods, now: datetime) -> str:
    """The lab's report that the batch conforms to its specification; its document's sha256."""
    return b.inspection(
        DocType.INSPECTION_REPORT,
        refs["lab"],
        goods.batch_id,
        "Sample of 20 units: model P50-128, 4G, 128 GB storage, 8 GB RAM: conforms.",
        accreditation="CNAS L0125",
        commissioned_by=refs["lab"],
        sampled_on=(now - timedelta(days=20)).date(),
        result=Result.PASS,
        finding="conforms to specification P50-128 (4G, 128 GB)",
    )


def _authorizations(b: Builder, refs: dict[str, str], goods: _Goods) -> None:
    """The brand owner authorizes the supplier to distribute, the supplier the shop to sell."""
    owner, supplier, shop = refs["owner"], refs["supplier"], refs["shop"]
    year = (goods.made.date(), goods.made.date() + timedelta(days=365))
    to_supplier = b.doc(
        DocType.BRAND_AUTHORIZATION, owner, supplier, "Authorized distributor of Huamei phones."
    )
    to_shop = b.doc(DocType.BRAND_AUTHORIZATION, supplier, shop, "Authorized online seller.")
    for grantor, grantee, scope, document in (
        (owner, supplier, Scope.DISTRIBUTE, to_supplier),
        (supplier, shop, Scope.SELL, to_shop),
    ):
        catalog.authorize(
            b.s,
            b.clock,
            brand_id=goods.brand_id,
            grantor=grantor,
            grantee=grantee,
            scope=scope,
            valid_from=year[0],
            valid_to=year[1],
            document=document,
        )


def _custody(b: Builder, refs: dict[str, str], goods: _Goods) -> str:
    """Maker -> supplier -> shop, the last hand-over with its invoice; returns the invoice."""
    maker, supplier, shop = refs["maker"], refs["supplier"], refs["shop"]
    made, epc = goods.made, goods.epc_class
    invoice = b.doc(DocType.INVOICE, supplier, shop, "500 x Huamei P50-128 at ¥1,650")
    b.event("ObjectEvent", "commissioning", made, epc, action="ADD", dest=maker)
    b.event("ObjectEvent", "shipping", made + timedelta(days=5), epc, source=maker, dest=supplier)
    b.event("ObjectEvent", "shipping", made + timedelta(days=30), epc, source=supplier, dest=shop)
    b.event(
        "TransactionEvent",
        "shipping",
        made + timedelta(days=30),
        epc,
        action="ADD",
        source=supplier,
        dest=shop,
        docs=(invoice,),
    )
    b.event("ObjectEvent", "receiving", made + timedelta(days=32), epc, source=supplier, dest=shop)
    b.import_events(recorded_by=maker)
    return invoice


def _on_stream(
    b: Builder, refs: dict[str, str], goods: _Goods, now: datetime
) -> tuple[int, int, str]:
    """The honest listing, the live session and the host's claim of '5G, 256 GB'; returns the
    listing id, the session id and the recording's sha256."""
    shop, host = refs["shop"], refs["host"]
    listing = catalog.create_listing(
        b.s,
        b.clock,
        merchant=shop,
        product_id=goods.product_id,
        batch_ids=[goods.batch_id],
        title="Huamei P50 4G 128GB",
        price=299_900,
        currency="CNY",
        claims={"model": "P50-128", "network": "4G", "storage_gb": 128},
        claim_text="Huamei P50, 4G, 128 GB, genuine with invoice",
    )
    recording = b.doc(DocType.STREAM_RECORDING, host, "live", "(video of the stream)")
    live = catalog.create_live_session(
        b.s,
        b.clock,
        host=host,
        merchant=shop,
        title="Phone night",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        listing_ids=[listing.id],
        recording=recording,
    )
    catalog.add_claim(
        b.s,
        b.clock,
        session_id=live.id,
        listing_id=listing.id,
        spoken_at=now - timedelta(minutes=30),
        text="这台是5G手机，256G超大内存，全网最低价！(a 5G phone, 256 GB, lowest price anywhere)",
        attributes={"network": "5G", "storage_gb": 256},
    )
    return listing.id, live.id, recording
