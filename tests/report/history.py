"""A known year of trust work, built through the services as a platform would record it, so
every figure of the report can be checked against what happened (see test_cross_check.py).

2026 (the year the report covers):
- merchant A (`phone_case` "ra") counterfeits four times: CF-1 from inspections, a penalty
  with the first, the ladder up to clearance;
- merchant B: an automated RM-1 decision (fully automated), overturned on appeal after 2 days;
  a partly automated LF-1 warning (own initiative), upheld on appeal after 4 days;
- merchant C: a trusted flagger's notice leads to MR-1 (warning, listing removed), a buyer's
  notice to AS-1 (warning); one notice unfounded; a troll's five manifestly unfounded notices
  get it warned, then suspended, and its sixth is not processed;
- complaints: the fake tea (for the buyer, 10 h, the merchant pays), unwanted shoes (for the
  merchant, 30 h), the vanished course (for the buyer, 49 h, the guarantee fund pays first
  and recovers the seller's deposit); the tea shop also gets an AS-1 warning from a complaint;
- the gate blocks two listings (one for an unauthorized brand, one for the brand's own product
  far below its reference price) and holds one for review (a merchant with 12 serious points);
- two bird's-nest recalls: three buyers paid (refund from escrow, 3x from the seller, who
  recovers from the manufacturer), two still waiting;
- reviews: A's two all fake, C's four fake of six, B's one fake of three, a clean shop's two;
  one excluded review on 31 December 2025, one review on 1 January 2027.

1 January 2027, 00:00 UTC: one more LF-1 warning for B, a notice, a blocked listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tests.cases.test_stories import completed_order as _completed
from xinren.cases import service as cases
from xinren.catalog import gate as catalog_gate
from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.demo import samples, stories
from xinren.documents import service as documents
from xinren.documents.model import DocType, DocumentMeta
from xinren.documents.store import FileStore
from xinren.ledger import service as ledger
from xinren.orders.service import OrderView
from xinren.parties import deposits
from xinren.parties import service as parties
from xinren.parties.model import Status
from xinren.recalls import service as recalls
from xinren.remedies import service as remedies
from xinren.reviews import service as reviews_service
from xinren.rules import notices
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NEXT_YEAR = datetime(2027, 1, 1, tzinfo=UTC)
K = SanctionKind


@dataclass(frozen=True)
class Refs:
    a: str
    b: str
    c: str
    tea: str
    course: str
    shoes: str
    nest_shop: str
    clean_shop: str


def _listing(session: Session, merchant: str) -> int:
    return catalog.list_listings(session, merchant=merchant)[0].id


def _enforcement(session: Session, clock: FakeClock, store: FileStore) -> tuple[str, str, str, int]:
    a_case = stories.phone_case(session, clock, store, "ra")
    b_case = stories.phone_case(session, clock, store, "rb")
    c_case = stories.phone_case(session, clock, store, "rc")
    a, b, c = a_case.refs["shop"], b_case.refs["shop"], c_case.refs["shop"]
    report = f"document:{a_case.docs['report']}"
    for n in range(4):
        rules.decide(
            session,
            clock,
            f"r-cf-{n}",
            subject=a,
            rule_id="CF-1",
            conduct_at=clock.now() - timedelta(hours=1),
            facts=f"counterfeit phones found again (sampling {n + 1})",
            evidence=[report],
            source="inspection",
            decided_by="reviewer:wang",
            requested=[Requested(K.PENALTY_PAYMENT)] if n == 0 else [],
        )
        clock.advance(days=1)

    shot = documents.add(
        session,
        clock,
        store,
        b"screenshot of 40 five-star reviews in one hour",
        DocumentMeta(DocType.SCREENSHOT, "image/png", "system:detect", b),
    ).sha256
    rm = rules.decide(
        session,
        clock,
        "r-rm",
        subject=b,
        rule_id="RM-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts="a block of accounts reviewed the shop's listings within an hour",
        evidence=[f"document:{shot}"],
        source="automated_detection",
        decided_by="system:detect",
        points_given=6,
        requested=[Requested(K.WARNING), Requested(K.TRAFFIC_RESTRICTION, 7)],
        automated_detection=True,
        automated_decision="fully",
    )
    lf = rules.decide(
        session,
        clock,
        "r-lf",
        subject=b,
        rule_id="LF-1",
        conduct_at=clock.now() - timedelta(days=2),
        facts="shipped five days after the promised time",
        evidence=[f"order:{b_case.order_id}"],
        source="own_initiative",
        decided_by="reviewer:wang",
        requested=[Requested(K.WARNING)],
        automated_decision="partially",
    )
    first = rules.file_appeal(session, clock, "r-ap-1", rm.id, appellant=b, grounds="real buyers")
    second = rules.file_appeal(session, clock, "r-ap-2", lf.id, appellant=b, grounds="courier")
    clock.advance(days=2)
    rules.decide_appeal(
        session,
        clock,
        first["id"],
        outcome="overturned",
        reasons="the accounts are verified buyers with orders",
        reviewer="reviewer:chen",
    )
    clock.advance(days=2)
    rules.decide_appeal(
        session,
        clock,
        second["id"],
        outcome="upheld",
        reasons="the courier's record shows the parcel handed over late",
        reviewer="reviewer:chen",
    )

    listing = _listing(session, c)
    notices.set_trusted(session, clock, "flagger:brandwatch", True, decided_by="admin:ops")
    flagged = notices.file_notice(
        session,
        clock,
        "r-n-trusted",
        reporter="flagger:brandwatch",
        target=f"listing:{listing}",
        category="misrepresentation",
        text="sold as 5G, 256 GB on stream; the product is the 4G, 128 GB model",
    )
    mr = rules.decide(
        session,
        clock,
        "r-mr",
        subject=c,
        rule_id="MR-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts="the stream claimed 5G and 256 GB",
        evidence=[f"listing:{listing}", f"order:{c_case.order_id}"],
        source="trusted_flagger",
        source_identity="flagger:brandwatch",
        decided_by="reviewer:wang",
        points_given=2,
        requested=[Requested(K.WARNING), Requested(K.LISTING_REMOVAL, target=f"listing:{listing}")],
    )
    notices.decide(
        session,
        clock,
        "r-n-trusted-d",
        flagged.id,
        outcome="founded",
        reason="the recording confirms it",
        decided_by="reviewer:wang",
        violation_id=mr.id,
    )
    yan = notices.file_notice(
        session,
        clock,
        "r-n-yan",
        reporter="buyer:yan",
        target=c,
        category="after_sales_refusal",
        text="the shop refuses the return it promised",
    )
    as1 = rules.decide(
        session,
        clock,
        "r-as-c",
        subject=c,
        rule_id="AS-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts="refused a return within the statutory seven days",
        evidence=[f"order:{c_case.order_id}"],
        source="notice",
        decided_by="reviewer:wang",
        points_given=2,
        requested=[Requested(K.WARNING)],
    )
    notices.decide(
        session,
        clock,
        "r-n-yan-d",
        yan.id,
        outcome="founded",
        reason="the chat log shows the refusal",
        decided_by="reviewer:wang",
        violation_id=as1.id,
    )
    xu = notices.file_notice(
        session,
        clock,
        "r-n-xu",
        reporter="buyer:xu",
        target=c,
        category="counterfeit",
        text="I think the phone is fake",
    )
    notices.decide(
        session,
        clock,
        "r-n-xu-d",
        xu.id,
        outcome="unfounded",
        reason="the batch passed an independent inspection",
        decided_by="reviewer:wang",
    )
    for n in range(6):
        filed = notices.file_notice(
            session,
            clock,
            f"r-n-troll-{n}",
            reporter="buyer:troll",
            target=c,
            category="counterfeit",
            text=f"fake!!! ({n + 1})",
        )
        if filed.status == "open":
            notices.decide(
                session,
                clock,
                f"r-n-troll-{n}-d",
                filed.id,
                outcome="manifestly_unfounded",
                reason="no order, no evidence",
                decided_by="reviewer:zhao",
            )
        clock.advance(hours=1)
    return a, b, c, b_case.order_id


def _complaint(
    session: Session,
    clock: FakeClock,
    key: str,
    order: OrderView,
    said: tuple[str, str, str],
    *,
    hours: int,
    outcome: str,
    reasons: str,
) -> None:
    """The buyer complains (kind, statement), the merchant answers, and `hours` later a
    reviewer decides with the kind as the finding."""
    kind, statement, answer = said
    case = cases.file_case(
        session, clock, key, order_id=order.id, buyer=order.buyer, kind=kind, statement=statement
    )
    cases.respond(session, clock, case["id"], merchant=order.merchant, statement=answer)
    clock.advance(hours=hours)
    cases.decide(
        session,
        clock,
        f"{key}-d",
        case["id"],
        decided_by="reviewer:li",
        outcome=outcome,
        finding=kind,
        reasons=reasons,
        relied_on=[f"order:{order.id}"],
    )


def _complaints(session: Session, clock: FakeClock) -> tuple[str, str, str]:
    tea, course, shoes = "merchant:r-tea", "merchant:r-course", "merchant:r-shoes"
    remedies.top_up_fund(session, clock, "r-fund", 10_000_000, "CNY")
    for m in (tea, course, shoes):
        samples.verified(session, clock, m)
        deposits.pay_deposit(session, clock, f"r-dep-{m}", m, 100_000, "CNY")
    tea_order = _completed(session, clock, tea, "r-tea1", 12_800, "tea")
    shoes_order = _completed(session, clock, shoes, "r-shoes1", 20_000, "default")
    course_order = _completed(session, clock, course, "r-course1", 29_900, "digital")

    _complaint(
        session,
        clock,
        "r-c-tea",
        tea_order,
        ("counterfeit", "the tea stays hard after an hour", "it is genuine"),
        hours=10,
        outcome="for_buyer",
        reasons="a lab comparison shows another cultivar",
    )
    rules.decide(
        session,
        clock,
        "r-as-tea",
        subject=tea,
        rule_id="AS-1",
        conduct_at=clock.now() - timedelta(hours=2),
        facts="refused the refund until the platform decided",
        evidence=[f"order:{tea_order.id}"],
        source="complaint",
        decided_by="reviewer:li",
        points_given=2,
        requested=[Requested(K.WARNING)],
    )

    _complaint(
        session,
        clock,
        "r-c-shoes",
        shoes_order,
        ("not_as_described", "the colour is not what I expected", "as pictured"),
        hours=30,
        outcome="for_merchant",
        reasons="the photos match the listing",
    )

    ledger.create_account(session, clock, "bank:payouts", "CNY")
    earned = ledger.get_account(session, f"{course}:available").balance.available
    ledger.move(session, clock, "r-payout", f"{course}:available", "bank:payouts", earned)
    parties.decide(
        session,
        clock,
        "r-gone",
        course,
        Status.REJECTED,
        reason="the host vanished",
        decided_by="reviewer:li",
    )
    case = cases.file_case(
        session,
        clock,
        "r-c-course",
        order_id=course_order.id,
        buyer=course_order.buyer,
        kind="scam",
        statement="12 lessons paid; the host vanished after the first",
    )
    clock.advance(hours=49)
    cases.decide(
        session,
        clock,
        "r-c-course-d",
        case["id"],
        decided_by="reviewer:li",
        outcome="for_buyer",
        finding="scam",
        reasons="the course was never delivered",
        relied_on=[f"order:{course_order.id}"],
    )
    return tea, course, shoes


def _recalls(session: Session, clock: FakeClock, store: FileStore) -> tuple[str, str]:
    shops = []
    for tag, buyers, execute in (("rn1", 3, True), ("rn2", 2, False)):
        nest = stories.birds_nest_case(session, clock, store, tag, buyers=buyers)
        recall = recalls.recall_batch(
            session,
            clock,
            f"r-recall-{tag}",
            batch_id=nest.batch_id,
            finding="counterfeit",
            reason="no bird's nest in the batch",
            evidence=[nest.docs["independent_report"]],
            decided_by="reviewer:li",
        )
        if execute:
            remedies.execute_recall(session, clock, recall.id, decided_by="reviewer:li")
        shops.append(nest.refs["shop"])
    return shops[0], shops[1]


def _gate(session: Session, clock: FakeClock, phone_product: int) -> None:
    catalog_gate._intercepted_index.cache_clear()  # left by another test's rolled-back rows
    catalog_gate.check_listing(
        session,
        clock,
        merchant="merchant:r-grey1",
        title="Huamei flagship handset",
        text="sealed box, genuine huamei ra",  # the phone brand's keyword (its copy "ra")
        price=250_000,
        product_id=None,
    )
    catalog_gate.check_listing(
        session,
        clock,
        merchant="merchant:r-grey2",
        title="P50 clearance lot 0042",
        text="ex-demo units, bulk pricing",
        price=10_000,
        product_id=phone_product,
    )
    catalog_gate.check_listing(
        session,
        clock,
        merchant="merchant:r-risky",
        title="Linen tablecloth",
        text="hand-woven linen, 2 m",
        price=8_000,
        product_id=None,
        merchant_serious_points=12,
    )


def _reviews(session: Session, clock: FakeClock, refs: Refs) -> None:
    items = []
    plan = {
        refs.a: [(5, True), (5, True)],
        refs.c: [(5, True), (5, True), (5, True), (5, True), (3, False), (2, False)],
        refs.b: [(4, False), (4, False), (1, True)],
        refs.clean_shop: [(4, False), (5, False)],
    }
    fake = []
    when = datetime(2026, 6, 1, tzinfo=UTC)
    for merchant, ratings in plan.items():
        listing = _listing(session, merchant)
        for i, (rating, excluded) in enumerate(ratings):
            key = f"r-rev-{merchant}-{i}"
            at = when + timedelta(hours=i)
            if merchant == refs.clean_shop and i == 1:
                at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # the last half hour counts
            items.append(reviews_service.ReviewIn(key, f"buyer:rv{i}", listing, rating, "text", at))
            if excluded:
                fake.append(key)
    c_listing = _listing(session, refs.c)
    items.append(  # excluded, but written in 2025
        reviews_service.ReviewIn(
            "r-rev-old",
            "buyer:old",
            c_listing,
            5,
            "text",
            datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        )
    )
    fake.append("r-rev-old")
    items.append(  # written in 2027
        reviews_service.ReviewIn(
            "r-rev-new", "buyer:new", _listing(session, refs.clean_shop), 1, "text", NEXT_YEAR
        )
    )
    reviews_service.add_many(session, clock, items)
    ids = [
        r.id
        for m in plan
        for r in reviews_service.of_merchant(session, m)
        if r.idempotency_key in set(fake)
    ]
    reviews_service.exclude(session, ids)


def build(session: Session, clock: FakeClock, store: FileStore) -> Refs:
    """Record the year; leaves the clock at 1 January 2027, 00:00 UTC."""
    a, b, c, b_order = _enforcement(session, clock, store)
    tea, course, shoes = _complaints(session, clock)
    nest_shop, clean_shop = _recalls(session, clock, store)
    phone = catalog.get_listing(session, _listing(session, c)).product_id
    _gate(session, clock, phone)
    refs = Refs(a, b, c, tea, course, shoes, nest_shop, clean_shop)
    _reviews(session, clock, refs)

    clock.set(NEXT_YEAR)  # the first moment of 2027 belongs to 2027
    rules.decide(
        session,
        clock,
        "r-lf-2027",
        subject=b,
        rule_id="LF-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts="shipped late again",
        evidence=[f"order:{b_order}"],
        source="own_initiative",
        decided_by="reviewer:wang",
        requested=[Requested(K.WARNING)],
    )
    notices.file_notice(
        session,
        clock,
        "r-n-2027",
        reporter="buyer:troll",
        target=c,
        category="counterfeit",
        text="fake again",
    )
    catalog_gate.check_listing(
        session,
        clock,
        merchant="merchant:r-grey3",
        title="华美 new year phone",
        text="华美 ra genuine",
        price=300_000,
        product_id=None,
    )
    return refs
