"""The counterfeit bird's nest: 'instant bird's nest' sold on stream; the seller's own lab says it
is bird's nest, a later report from an independent, accredited lab says it is sugar water. Built
step by step: the goods and the shop's authorization, the seller's lab report, the custody
chain, the stream and its buyers (and one order cancelled before shipment), then the
independent report."""

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
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits


@dataclass(frozen=True, slots=True)
class _Goods:
    product_id: int
    batch_id: int
    epc_class: str
    made: datetime


def birds_nest_case(
    session: Session, clock: Clock, store: FileStore, tag: str, buyers: int = 5
) -> Case:
    """'Instant bird's nest' sold on stream; the seller's own lab says it is bird's nest, a
    later report from an independent, accredited lab says it is sugar water.

    The liability policy's evidence precedence decides: both labs are accredited, but the
    seller's lab is affiliated with the seller, so the independent report prevails. The
    batch is recalled and the recall reaches every buyer of it.
    """
    b = Builder(session, clock, store, tag)
    now = clock.now()
    refs = {
        "owner": b.ref("brand_owner", "rongyao"),
        "maker": b.ref("manufacturer", "rongyao-food"),
        "shop": b.ref("merchant", "xinxuan-nest"),
        "host": b.ref("host", "xin-host"),
        "own_lab": b.ref("lab", "xinxuan-lab"),
        "lab": b.ref("lab", "cqi"),
    }
    for role in ("owner", "maker", "shop", "host"):
        samples.verified(session, clock, refs[role])
    samples.verified(
        session, clock, refs["own_lab"], accreditation="CMA 2019-0101", affiliated_with=refs["shop"]
    )
    samples.verified(session, clock, refs["lab"], accreditation="CNAS L0889")
    goods = _goods(b, refs, now)
    own = _sellers_report(b, refs, goods, now)
    _custody(b, refs, goods)
    made_orders = _sold_on_stream(b, refs, goods, now, buyers)
    independent_report = _independent_report(b, refs, goods, now)
    docs = {"own_report": own, "independent_report": independent_report}
    return Case(made_orders[0], goods.batch_id, refs, docs, tuple(made_orders[1:]))


def _goods(b: Builder, refs: dict[str, str], now: datetime) -> _Goods:
    """The protected brand, the product, its 90-day-old batch and the shop's authorization."""
    owner, shop = refs["owner"], refs["shop"]
    brand = catalog.create_brand(
        b.s,
        b.clock,
        name=f"Rongyao {b.tag}",
        owner=owner,
        protected=True,
        ref_price_min=19_900,
        ref_price_max=39_900,
        keywords=[f"燕窝 {b.tag}", f"bird's nest {b.tag}"],  # this copy's (see phone.py)
    )
    product = catalog.create_product(
        b.s,
        b.clock,
        brand_id=brand.id,
        manufacturer=refs["maker"],
        name="Rongyao instant bird's nest, 45 g x 6",
        category="food",
        facts={"main_ingredient": "edible bird's nest", "nest_g_per_bowl": 2.0},
    )
    made = now - timedelta(days=90)
    batch = catalog.create_batch(
        b.s,
        b.clock,
        product_id=product.id,
        lot=f"YW-{b.tag}",
        production_date=made.date(),
        quantity=20_000,
        registered_by=refs["maker"],
    )
    grant = b.doc(DocType.BRAND_AUTHORIZATION, owner, shop, "Authorized to sell online.")
    catalog.authorize(
        b.s,
        b.clock,
        brand_id=brand.id,
        grantor=owner,
        grantee=shop,
        scope=Scope.SELL,
        valid_from=made.date(),
        valid_to=made.date() + timedelta(days=365),
        document=grant,
    )
    return _Goods(product.id, batch.id, batch.epc_class, made)


def _sellers_report(b: Builder, refs: dict[str, str], goods: _Goods, now: datetime) -> str:
    """The seller's own (affiliated) lab finds bird's nest; its document's sha256."""
    return b.inspection(
        DocType.INSPECTION_REPORT,
        refs["own_lab"],
        goods.batch_id,
        "Sialic acid present; consistent with edible bird's nest.",
        accreditation="CMA 2019-0101",
        commissioned_by=refs["shop"],
        sampled_on=(now - timedelta(days=40)).date(),
        result=Result.PASS,
        finding="sialic acid present; consistent with bird's nest",
    )


def _custody(b: Builder, refs: dict[str, str], goods: _Goods) -> None:
    """Made by the manufacturer, shipped to and received by the shop."""
    maker, shop = refs["maker"], refs["shop"]
    made, epc = goods.made, goods.epc_class
    b.event("ObjectEvent", "commissioning", made, epc, action="ADD", dest=maker)
    b.event("ObjectEvent", "shipping", made + timedelta(days=3), epc, source=maker, dest=shop)
    b.event("ObjectEvent", "receiving", made + timedelta(days=4), epc, source=maker, dest=shop)
    b.import_events(recorded_by=maker)


def _sold_on_stream(
    b: Builder, refs: dict[str, str], goods: _Goods, now: datetime, buyers: int
) -> list[int]:
    """The listing and live session, the shop's deposit, one paid and shipped order per buyer,
    and one order cancelled before shipment (a recall does not reach it: the goods never left
    the shop). Returns the shipped orders."""
    shop, host = refs["shop"], refs["host"]
    listing = catalog.create_listing(
        b.s,
        b.clock,
        merchant=shop,
        product_id=goods.product_id,
        batch_ids=[goods.batch_id],
        title="即食燕窝 Instant bird's nest, 6 bowls",
        price=25_800,
        currency="CNY",
        claims={"main_ingredient": "edible bird's nest", "nest_g_per_bowl": 2.0},
        claim_text="每碗足足2克燕窝 (a full 2 g of bird's nest per bowl)",
    )
    live = catalog.create_live_session(
        b.s,
        b.clock,
        host=host,
        merchant=shop,
        title="燕窝专场",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        listing_ids=[listing.id],
    )
    deposits.pay_deposit(b.s, b.clock, f"case-{b.tag}-nest-deposit", shop, 1_000_000, "CNY")
    made_orders = [
        b.order(
            f"nest-{i}",
            f"buyer:nest-{i}",
            shop,
            listing.id,
            total=25_800 * (1 + i % 2),
            quantity=1 + i % 2,
            currency="CNY",
            category="food",
            host=host,
            host_rate_bp=1_000,
            live_session_id=live.id,
        )
        for i in range(buyers)
    ]
    cancelled = orders.create_order(
        b.s,
        b.clock,
        f"case-{b.tag}-nest-cancelled",
        buyer="buyer:nest-cancelled",
        merchant=shop,
        listing_id=listing.id,
        total=25_800,
        currency="CNY",
        category="food",
    )
    orders.act(
        b.s,
        b.clock,
        cancelled.id,
        Action.CANCEL,
        f"case-{b.tag}-c",
        actor="buyer:nest-cancelled",
    )
    return made_orders


def _independent_report(b: Builder, refs: dict[str, str], goods: _Goods, now: datetime) -> str:
    """Market sampling by an independent, accredited lab: sugar water; its document's sha256."""
    return b.inspection(
        DocType.SAMPLING_REPORT,
        refs["lab"],
        goods.batch_id,
        "Market sampling: no bird's nest detected; sugar water thickened with gelatin.",
        accreditation="CNAS L0889",
        commissioned_by=refs["lab"],
        sampled_on=(now - timedelta(days=5)).date(),
        result=Result.FAIL,
        finding="no bird's nest detected: sugar water thickened with gelatin",
    )
