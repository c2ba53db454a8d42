"""The sixth part of `xinren demo`: detection. The tea shop rated near-perfect by a review
farm gets its honest rating (scored by the rescore timer the reviews scheduled, then read), and
a reviewer decides the rating-manipulation violation detection proposed; a counterfeit listing
is blocked at the gate."""

from __future__ import annotations

import secrets
from datetime import timedelta

import numpy as np
from rich.console import Console
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from xinren.catalog import service as catalog
from xinren.clock import FakeClock
from xinren.db import session_factory, unit_of_work
from xinren.demo import samples, stories
from xinren.detect import service as detect
from xinren.documents.store import FileStore
from xinren.events.tables import outbox
from xinren.reviews import service as reviews_service
from xinren.rules import service as rules
from xinren.rules.model import Requested, SanctionKind, Source
from xinren.timers import service as timers


def run_detect(engine: Engine, console: Console, clock: FakeClock) -> None:
    factory = session_factory(engine)
    tag = secrets.token_hex(3)
    rng = np.random.default_rng(7)
    console.rule("[bold]Detection: honest ratings and the counterfeit gate")
    with unit_of_work(factory) as s:
        phone = stories.phone_case(s, clock, FileStore(), f"{tag}d")  # the brands the gate protects
        shop, arrived = _review_farm(s, clock, tag, rng)
    assert phone.order_id
    with unit_of_work(factory) as s:  # reading a rating never runs detection
        waiting = detect.merchant_rating(s, shop)
    console.print(f"  {arrived} reviews arrive; the shop's rating reads {waiting.explanation}")
    clock.advance(reviews_service.RESCORE_DELAY)
    timers.run_due(factory, clock)  # what `xinren tick` does: the rescore the reviews scheduled
    with unit_of_work(factory) as s:
        rating = detect.merchant_rating(s, shop)
    console.print(f"  after the rescore, the tea shop: [bold]{rating.explanation}[/bold]")
    with unit_of_work(factory) as s:
        violation, kept = _manipulation_decided(s, clock, shop, tag)
    console.print(
        f"  detection proposed rating manipulation; a reviewer decided violation {violation} "
        f"(RM-1, 12 points) on that evidence; the shop's appeal for 3 excluded reviews: {kept}"
    )
    _gate(factory, console, clock, tag)


def _review_farm(
    s: Session, clock: FakeClock, tag: str, rng: np.random.Generator
) -> tuple[str, int]:
    """A tea shop with one listing, 90 honest reviews over a year and 722 from a review farm
    within one week; returns the shop and how many reviews arrived."""
    owner, maker, shop = (
        f"brand_owner:longjing-{tag}",
        f"manufacturer:tea-farm-{tag}",
        f"merchant:tea-shop-{tag}",
    )
    for ref in (owner, maker, shop):
        samples.verified(s, clock, ref)
    brand = catalog.create_brand(s, clock, name=f"West Lake Longjing {tag}", owner=owner)
    product = catalog.create_product(
        s,
        clock,
        brand_id=brand.id,
        manufacturer=maker,
        name="Longjing green tea, 250 g",
        category="tea",
    )
    batch = catalog.create_batch(
        s,
        clock,
        product_id=product.id,
        lot=f"LJ-{tag}",
        production_date=clock.now().date(),
        quantity=5000,
        registered_by=maker,
    )
    listing = catalog.create_listing(
        s,
        clock,
        merchant=shop,
        product_id=product.id,
        batch_ids=[batch.id],
        title="Longjing, first flush",
        price=12_800,
        currency="CNY",
    )
    now = clock.now()
    items = []
    # honest buyers over a year: mostly pleased, some not (the tea stays hard)
    for i in range(90):
        items.append(
            reviews_service.ReviewIn(
                f"demo-{tag}-h{i}",
                f"buyer:h{i}-{tag}",
                listing.id,
                int(rng.choice([5, 4, 4, 3, 5, 2, 4, 5])),
                "ok",
                now - timedelta(days=int(rng.integers(1, 365))),
            )
        )
    # a review farm: 60 fresh accounts, twelve five-star reviews each, within one week
    for n in range(722):
        items.append(
            reviews_service.ReviewIn(
                f"demo-{tag}-f{n}",
                f"buyer:farm{n % 60}-{tag}",
                listing.id,
                5,
                "best tea ever, genuine!",
                now - timedelta(days=int(rng.integers(1, 7)), hours=n % 24),
            )
        )
    reviews_service.add_many(s, clock, items)
    return shop, len(items)


def _gate(factory: sessionmaker[Session], console: Console, clock: FakeClock, tag: str) -> None:
    """A grey seller's 'Huamei P50' listing, checked at the counterfeit gate."""
    with unit_of_work(factory) as s:
        verdict = catalog.check_listing(
            s,
            clock,
            merchant=f"merchant:grey-{tag}",
            title="Huamei P50 phone, brand new",
            text=f"genuine huamei {tag}d, factory sealed",  # the keyword of the phone's brand
            price=49_900,
            product_id=None,
        )
    console.print(f"  gate: a grey seller's 'Huamei P50' listing -> [bold red]{verdict.outcome}[/]")
    for reason in verdict.reasons:
        console.print(f"    - {reason}")


def _manipulation_decided(
    session: Session, clock: FakeClock, shop: str, tag: str
) -> tuple[int, str]:
    """A reviewer decides the RM-1 violation detection proposed, citing the proposal; the shop
    appeals three excluded reviews and another reviewer keeps them excluded."""
    proposal = session.execute(
        select(outbox.c.id, outbox.c.payload)
        .where(outbox.c.topic == "violation.proposed", outbox.c.subject == shop)
        .order_by(outbox.c.id.desc())
    ).first()
    assert proposal is not None, "detection proposes a violation for the review farm"
    v = rules.decide(
        session,
        clock,
        f"demo-{tag}-rm",
        subject=shop,
        rule_id="RM-1",
        conduct_at=clock.now() - timedelta(days=1),
        facts=str(proposal.payload["facts"]),
        evidence=[f"event:{proposal.id}"],
        source=Source.AUTOMATED_DETECTION,
        decided_by="reviewer:demo-zhao",
        automated_detection=True,
        points_given=12,
        requested=[Requested(SanctionKind.WARNING)],
    )
    excluded = [r.id for r in reviews_service.of_merchant(session, shop) if r.excluded][:3]
    appeal = reviews_service.appeal_exclusion(
        session,
        clock,
        f"demo-{tag}-ra",
        merchant=shop,
        review_ids=excluded,
        reason="these are regular customers",
    )
    decided = reviews_service.decide_appeal(
        session,
        clock,
        appeal.id,
        decided_by="reviewer:demo-qian",
        reinstate=[],
        reason="the three accounts belong to the block: same week, same words, no purchase",
    )
    return v.id, decided.status
