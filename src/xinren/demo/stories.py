"""The source article's two accountability cases, built through the services as a platform
would record them. `xinren demo` plays them; the tests check their outcomes.

Every reference gets a `tag` suffix, so the cases can be built again on the same database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from xinren.catalog import service as catalog
from xinren.catalog.model import Result, Scope
from xinren.clock import Clock
from xinren.demo import samples
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta, document_uri
from xinren.documents.store import FileStore
from xinren.orders import service as orders
from xinren.orders.model import Action
from xinren.parties import deposits
from xinren.provenance import custody as provenance_events
from xinren.provenance import epcis
from xinren.provenance.model import party_uri


@dataclass(frozen=True, slots=True)
class Case:
    order_id: int
    batch_id: int
    refs: dict[str, str]
    docs: dict[str, str]
    other_orders: tuple[int, ...] = ()


class _Builder:
    def __init__(self, session: Session, clock: Clock, store: FileStore, tag: str) -> None:
        self.s, self.clock, self.store, self.tag = session, clock, store, tag
        self.events: list[dict[str, Any]] = []

    def ref(self, kind: str, name: str) -> str:
        return f"{kind}:{name}-{self.tag}"

    def doc(self, doc_type: DocType, issuer: str, subject: str, text: str, **kw: Any) -> str:
        meta = DocumentMeta(doc_type, "text/plain", issuer, subject, **kw)
        body = f"{doc_type.value} | {issuer} | {subject} | {self.tag}\n{text}\n".encode()
        return documents.add(self.s, self.clock, self.store, body, meta).sha256

    def event(
        self,
        event_type: str,
        biz_step: str,
        at: datetime,
        epc_class: str,
        *,
        action: str | None = "OBSERVE",
        source: str | None = None,
        dest: str | None = None,
        docs: tuple[str, ...] = (),
        quantity: int = 1,
    ) -> None:
        body: dict[str, Any] = {
            "type": event_type,
            "eventTime": at.isoformat(),
            "eventTimeZoneOffset": "+00:00",
            "eventID": f"urn:uuid:{uuid.uuid4()}",
            "bizStep": biz_step,
        }
        if action is not None:
            body["action"] = action
        if event_type == "TransactionEvent":
            body["bizTransactionList"] = [
                {"type": "inv", "bizTransaction": document_uri(d)} for d in docs
            ]
            body["quantityList"] = [{"epcClass": epc_class, "quantity": quantity}]
        else:
            body["quantityList"] = [{"epcClass": epc_class, "quantity": quantity}]
            if docs:
                body["certificationInfo"] = [document_uri(d) for d in docs]
        if source is not None:
            body["sourceList"] = [
                {"type": "owning_party", "source": party_uri(source)},
                {"type": "possessing_party", "source": party_uri(source)},
            ]
        if dest is not None:
            body["destinationList"] = [
                {"type": "owning_party", "destination": party_uri(dest)},
                {"type": "possessing_party", "destination": party_uri(dest)},
            ]
        self.events.append(body)

    def import_events(self, recorded_by: str) -> None:
        doc = epcis.document(
            self.events, document_id=f"urn:uuid:{uuid.uuid4()}", created=self.clock.now()
        )
        provenance_events.import_document(self.s, self.clock, doc, recorded_by=recorded_by)
        self.events = []

    def order(self, key: str, buyer: str, merchant: str, listing: int, **kw: Any) -> int:
        view = orders.create_order(
            self.s,
            self.clock,
            f"case-{self.tag}-{key}",
            buyer=buyer,
            merchant=merchant,
            listing_id=listing,
            **kw,
        )
        for action, actor in ((Action.PAY, "platform"), (Action.SHIP, merchant)):
            orders.act(
                self.s, self.clock, view.id, action, f"case-{self.tag}-{key}-{action}", actor=actor
            )
        return view.id


def phone_case(session: Session, clock: Clock, store: FileStore, tag: str) -> Case:
    """A top host sells a phone on stream as '5G, 256 GB'; the product is a 4G, 128 GB model.

    The supplier says the phones came from the manufacturer as they were; the chain (every
    hand-over authorized and evidenced) and an independent lab's report that the batch
    conforms to its specification decide that the misdescription was made on stream.
    """
    b = _Builder(session, clock, store, tag)
    now = clock.now()
    owner, maker = b.ref("brand_owner", "huamei"), b.ref("manufacturer", "huamei-factory")
    supplier, shop = b.ref("supplier", "tongda"), b.ref("merchant", "xuanxuan-digital")
    host, lab = b.ref("host", "top-host"), b.ref("lab", "cesi")
    for ref in (owner, maker, supplier, shop, host):
        samples.verified(session, clock, ref)
    samples.verified(session, clock, lab, accreditation="CNAS L0125")
    brand = catalog.create_brand(
        session,
        clock,
        name=f"Huamei {tag}",
        owner=owner,
        protected=True,
        ref_price_min=199_900,
        ref_price_max=599_900,
        keywords=["huamei", "华美"],
    )
    product = catalog.create_product(
        session,
        clock,
        brand_id=brand.id,
        manufacturer=maker,
        name="Huamei P50 (4G, 128 GB)",
        category="electronics",
        facts={"model": "P50-128", "network": "4G", "storage_gb": 128, "ram_gb": 8},
    )
    made = now - timedelta(days=60)
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot=f"P50-{tag}",
        production_date=made.date(),
        quantity=5000,
        registered_by=maker,
    )
    report = b.doc(
        DocType.INSPECTION_REPORT,
        lab,
        f"batch:{batch.id}",
        "Sample of 20 units: model P50-128, 4G, 128 GB storage, 8 GB RAM: conforms.",
        accreditation="CNAS L0125",
    )
    catalog.add_inspection(
        session,
        clock,
        batch_id=batch.id,
        document=report,
        commissioned_by=lab,
        sampled_on=(now - timedelta(days=20)).date(),
        result=Result.PASS,
        finding="conforms to specification P50-128 (4G, 128 GB)",
    )
    year = (made.date(), made.date() + timedelta(days=365))
    to_supplier = b.doc(
        DocType.BRAND_AUTHORIZATION, owner, supplier, "Authorized distributor of Huamei phones."
    )
    to_shop = b.doc(DocType.BRAND_AUTHORIZATION, supplier, shop, "Authorized online seller.")
    catalog.authorize(
        session,
        clock,
        brand_id=brand.id,
        grantor=owner,
        grantee=supplier,
        scope=Scope.DISTRIBUTE,
        valid_from=year[0],
        valid_to=year[1],
        document=to_supplier,
    )
    catalog.authorize(
        session,
        clock,
        brand_id=brand.id,
        grantor=supplier,
        grantee=shop,
        scope=Scope.SELL,
        valid_from=year[0],
        valid_to=year[1],
        document=to_shop,
    )
    invoice = b.doc(DocType.INVOICE, supplier, shop, "500 x Huamei P50-128 at ¥1,650")
    b.event("ObjectEvent", "commissioning", made, batch.epc_class, action="ADD", dest=maker)
    b.event(
        "ObjectEvent",
        "shipping",
        made + timedelta(days=5),
        batch.epc_class,
        source=maker,
        dest=supplier,
    )
    b.event(
        "ObjectEvent",
        "shipping",
        made + timedelta(days=30),
        batch.epc_class,
        source=supplier,
        dest=shop,
    )
    b.event(
        "TransactionEvent",
        "shipping",
        made + timedelta(days=30),
        batch.epc_class,
        action="ADD",
        source=supplier,
        dest=shop,
        docs=(invoice,),
    )
    b.event(
        "ObjectEvent",
        "receiving",
        made + timedelta(days=32),
        batch.epc_class,
        source=supplier,
        dest=shop,
    )
    b.import_events(recorded_by=maker)
    listing = catalog.create_listing(
        session,
        clock,
        merchant=shop,
        product_id=product.id,
        batch_ids=[batch.id],
        title="Huamei P50 4G 128GB",
        price=299_900,
        currency="CNY",
        claims={"model": "P50-128", "network": "4G", "storage_gb": 128},
        claim_text="Huamei P50, 4G, 128 GB, genuine with invoice",
    )
    recording = b.doc(DocType.STREAM_RECORDING, host, "live", "(video of the stream)")
    live = catalog.create_live_session(
        session,
        clock,
        host=host,
        merchant=shop,
        title="Phone night",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        listing_ids=[listing.id],
        recording=recording,
    )
    catalog.add_claim(
        session,
        clock,
        session_id=live.id,
        listing_id=listing.id,
        spoken_at=now - timedelta(minutes=30),
        text="这台是5G手机，256G超大内存，全网最低价！(a 5G phone, 256 GB, lowest price anywhere)",
        attributes={"network": "5G", "storage_gb": 256},
    )
    deposits.pay_deposit(session, clock, f"case-{tag}-phone-deposit", shop, 1_000_000, "CNY")
    order_id = b.order(
        "phone",
        "buyer:phone-fan",
        shop,
        listing.id,
        total=299_900,
        currency="CNY",
        category="electronics",
        host=host,
        host_rate_bp=2_000,
        live_session_id=live.id,
    )
    return Case(
        order_id,
        batch.id,
        {
            "owner": owner,
            "maker": maker,
            "supplier": supplier,
            "shop": shop,
            "host": host,
            "lab": lab,
        },
        {"report": report, "recording": recording, "invoice": invoice},
    )


def birds_nest_case(
    session: Session, clock: Clock, store: FileStore, tag: str, buyers: int = 5
) -> Case:
    """'Instant bird's nest' sold on stream; the seller's own lab says it is bird's nest, a
    later report from an independent, accredited lab says it is sugar water.

    The liability policy's evidence precedence decides: both labs are accredited, but the
    seller's lab is affiliated with the seller, so the independent report prevails. The
    batch is recalled and the recall reaches every buyer of it.
    """
    b = _Builder(session, clock, store, tag)
    now = clock.now()
    owner, maker = b.ref("brand_owner", "rongyao"), b.ref("manufacturer", "rongyao-food")
    shop, host = b.ref("merchant", "xinxuan-nest"), b.ref("host", "xin-host")
    own_lab, independent = b.ref("lab", "xinxuan-lab"), b.ref("lab", "cqi")
    for ref in (owner, maker, shop, host):
        samples.verified(session, clock, ref)
    samples.verified(session, clock, own_lab, accreditation="CMA 2019-0101", affiliated_with=shop)
    samples.verified(session, clock, independent, accreditation="CNAS L0889")
    brand = catalog.create_brand(
        session,
        clock,
        name=f"Rongyao {tag}",
        owner=owner,
        protected=True,
        ref_price_min=19_900,
        ref_price_max=39_900,
        keywords=["燕窝", "bird's nest"],
    )
    product = catalog.create_product(
        session,
        clock,
        brand_id=brand.id,
        manufacturer=maker,
        name="Rongyao instant bird's nest, 45 g x 6",
        category="food",
        facts={"main_ingredient": "edible bird's nest", "nest_g_per_bowl": 2.0},
    )
    made = now - timedelta(days=90)
    batch = catalog.create_batch(
        session,
        clock,
        product_id=product.id,
        lot=f"YW-{tag}",
        production_date=made.date(),
        quantity=20_000,
        registered_by=maker,
    )
    grant = b.doc(DocType.BRAND_AUTHORIZATION, owner, shop, "Authorized to sell online.")
    catalog.authorize(
        session,
        clock,
        brand_id=brand.id,
        grantor=owner,
        grantee=shop,
        scope=Scope.SELL,
        valid_from=made.date(),
        valid_to=made.date() + timedelta(days=365),
        document=grant,
    )
    own = b.doc(
        DocType.INSPECTION_REPORT,
        own_lab,
        f"batch:{batch.id}",
        "Sialic acid present; consistent with edible bird's nest.",
        accreditation="CMA 2019-0101",
    )
    catalog.add_inspection(
        session,
        clock,
        batch_id=batch.id,
        document=own,
        commissioned_by=shop,
        sampled_on=(now - timedelta(days=40)).date(),
        result=Result.PASS,
        finding="sialic acid present; consistent with bird's nest",
    )
    b.event("ObjectEvent", "commissioning", made, batch.epc_class, action="ADD", dest=maker)
    b.event(
        "ObjectEvent",
        "shipping",
        made + timedelta(days=3),
        batch.epc_class,
        source=maker,
        dest=shop,
    )
    b.event(
        "ObjectEvent",
        "receiving",
        made + timedelta(days=4),
        batch.epc_class,
        source=maker,
        dest=shop,
    )
    b.import_events(recorded_by=maker)
    listing = catalog.create_listing(
        session,
        clock,
        merchant=shop,
        product_id=product.id,
        batch_ids=[batch.id],
        title="即食燕窝 Instant bird's nest, 6 bowls",
        price=25_800,
        currency="CNY",
        claims={"main_ingredient": "edible bird's nest", "nest_g_per_bowl": 2.0},
        claim_text="每碗足足2克燕窝 (a full 2 g of bird's nest per bowl)",
    )
    live = catalog.create_live_session(
        session,
        clock,
        host=host,
        merchant=shop,
        title="燕窝专场",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=2),
        listing_ids=[listing.id],
    )
    deposits.pay_deposit(session, clock, f"case-{tag}-nest-deposit", shop, 1_000_000, "CNY")
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
    # an order cancelled before shipment is not reached: the goods never left the shop
    cancelled = orders.create_order(
        session,
        clock,
        f"case-{tag}-nest-cancelled",
        buyer="buyer:nest-cancelled",
        merchant=shop,
        listing_id=listing.id,
        total=25_800,
        currency="CNY",
        category="food",
    )
    orders.act(
        session, clock, cancelled.id, Action.CANCEL, f"case-{tag}-c", actor="buyer:nest-cancelled"
    )
    independent_report = b.doc(
        DocType.SAMPLING_REPORT,
        independent,
        f"batch:{batch.id}",
        "Market sampling: no bird's nest detected; sugar water thickened with gelatin.",
        accreditation="CNAS L0889",
    )
    catalog.add_inspection(
        session,
        clock,
        batch_id=batch.id,
        document=independent_report,
        commissioned_by=independent,
        sampled_on=(now - timedelta(days=5)).date(),
        result=Result.FAIL,
        finding="no bird's nest detected: sugar water thickened with gelatin",
    )
    return Case(
        made_orders[0],
        batch.id,
        {
            "owner": owner,
            "maker": maker,
            "shop": shop,
            "host": host,
            "own_lab": own_lab,
            "lab": independent,
        },
        {"own_report": own, "independent_report": independent_report},
        tuple(made_orders[1:]),
    )
