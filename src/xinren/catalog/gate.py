"""The counterfeit gate, run by every listing write (`listings.create_listing`,
`listings.change_listing`), so the HTTP API, the CLI and a Python caller all meet it. It
gathers a draft's facts (protected brands, their official images, whether the merchant is in
each brand's authorization chain, the texts intercepted before), asks the pure rule
(`model.gate_verdict`), and records an interception when it blocks or holds the draft.

The gate's tables (`interceptions`, `brand_images`) are the catalog's; detection reads them,
never writes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinren.catalog import model, pdq
from xinren.catalog.authorizations import brand_authorizations_all
from xinren.catalog.brands import get_brand, get_product
from xinren.catalog.model import Verdict
from xinren.catalog.tables import brand_images, brands, interceptions
from xinren.clock import Clock
from xinren.documents import service as documents
from xinren.documents.store import FileStore
from xinren.errors import Conflict, ValidationFailed
from xinren.events import service as events

#: a caller's check that it may use a document (raises if not): the HTTP API lets a party use
#: only documents it may read
MayUse = Callable[[documents.Document], None]


def image_hashes(
    session: Session,
    store: FileStore | None,
    digests: Sequence[str],
    may_use: MayUse | None = None,
    field: str = "images",
) -> tuple[str, ...]:
    """The PDQ hashes of uploaded image documents, in order; a file that is not an image (or
    is too large to decode safely) is refused. The gate needs the images' bytes, so photos
    come with the file store."""
    if not digests:
        return ()
    if store is None:
        raise ValidationFailed(
            "the listing's photos are checked at the counterfeit gate: pass the file store",
            field=field,
        )
    hashed = []
    for digest in digests:
        doc, content = documents.read(session, store, digest)
        if may_use is not None:
            may_use(doc)
        try:
            hashed.append(pdq.from_file(content))
        except ValueError as err:
            raise ValidationFailed(
                f"document {digest} is not an image PDQ can read (PNG, JPEG, ...): {err}",
                field=field,
            ) from None
    return tuple(hashed)


def _brand_facts(session: Session, merchant: str, day: date) -> list[model.BrandFacts]:
    facts = []
    for b in session.execute(select(brands).where(brands.c.protected.is_(True))):
        official = tuple(
            session.execute(
                select(brand_images.c.pdq).where(brand_images.c.brand_id == b.id)
            ).scalars()
        )
        grants = brand_authorizations_all(session, b.id)
        facts.append(
            model.BrandFacts(
                b.id,
                b.name,
                True,
                tuple(b.keywords),
                b.ref_price_min,
                official,
                model.authorized(merchant, b.owner, grants, day),
            )
        )
    return facts


@cache
def _intercepted_index(count: int) -> model.Intercepted:
    return model.Intercepted()


def _index(session: Session) -> model.Intercepted:
    """The texts of every blocked draft, indexed once per process and grown as more come."""
    texts = [
        f"{t} {x}"
        for t, x in session.execute(
            select(interceptions.c.title, interceptions.c.text).where(
                interceptions.c.outcome == "block"
            )
        )
    ]
    index = _intercepted_index(len(texts))
    if index.count != len(texts):
        for text in texts[index.count :]:
            index.add(text)
    return index


def check_listing(
    session: Session,
    clock: Clock,
    *,
    merchant: str,
    title: str,
    text: str,
    price: int,
    product_id: int | None,
    images: tuple[str, ...] = (),
    merchant_serious_points: int = 0,
    draft_key: str | None = None,
    listing_id: int | None = None,
) -> Verdict:
    """Run the gate and record an interception (linked to rule CF-1) when it blocks or holds.
    The gate always runs (authorizations and the merchant's record change); a draft already
    intercepted under the same `draft_key` (a retried request: same merchant, same body) is
    not recorded, so it is not counted twice. `images` are PDQ hashes; `listing_id` names the
    listing a change was for."""
    brand_of = None
    if product_id is not None:
        brand_of = get_product(session, product_id).brand_id
    verdict = model.gate_verdict(
        model.ListingDraft(merchant, title, text, price, brand_of, images),
        _brand_facts(session, merchant, clock.now().date()),
        _index(session),
        merchant_serious_points,
    )
    if verdict.outcome != "allow":
        _intercept(session, clock, verdict, merchant, title, text, draft_key, listing_id)
    return verdict


def _intercept(
    session: Session,
    clock: Clock,
    verdict: Verdict,
    merchant: str,
    title: str,
    text: str,
    draft_key: str | None,
    listing_id: int | None,
) -> None:
    try:
        with session.begin_nested():
            session.execute(
                interceptions.insert(),
                dict(
                    merchant=merchant,
                    title=title[:300],
                    text=text,
                    outcome=verdict.outcome,
                    reasons=list(verdict.reasons),
                    rule_id="CF-1" if verdict.outcome == "block" else None,
                    draft_key=draft_key,
                    listing_id=listing_id,
                    created_at=clock.now(),
                ),
            )
    except IntegrityError:  # the draft was intercepted before (draft_key is unique)
        return
    events.append(
        session,
        clock,
        "listing.intercepted",
        merchant,
        {"outcome": verdict.outcome, "reasons": list(verdict.reasons), "title": title[:300]},
    )


def refuse_if_blocked(verdict: Verdict, what: str) -> None:
    """A blocked draft is refused with the gate's reasons; its interception is kept (the unit
    of work commits it), since it counts as intercepted goods whatever the caller does next."""
    if verdict.outcome == "block":
        raise Conflict(
            f"{what} was blocked at the counterfeit gate: " + "; ".join(verdict.reasons),
            field="listing",
            keep=True,
            reasons=list(verdict.reasons),
        )


@dataclass(frozen=True, slots=True)
class OfficialImage:
    brand_id: int
    pdq: str
    added: bool  # False: the brand had this image already


def add_official_image(
    session: Session,
    clock: Clock,
    brand_id: int,
    *,
    document: str,
    store: FileStore,
    may_use: MayUse | None = None,
) -> OfficialImage:
    """Record a protected brand's official image (an uploaded document) by its PDQ hash:
    listings from sellers outside the brand's chain whose photos match it are blocked."""
    [hashed] = image_hashes(session, store, [document], may_use)
    get_brand(session, brand_id)
    known = session.execute(
        select(brand_images.c.id).where(
            brand_images.c.brand_id == brand_id, brand_images.c.pdq == hashed
        )
    ).first()
    if known is None:
        session.execute(
            brand_images.insert(), dict(brand_id=brand_id, pdq=hashed, created_at=clock.now())
        )
    return OfficialImage(brand_id, hashed, known is None)
