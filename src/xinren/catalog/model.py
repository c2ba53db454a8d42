"""Catalog rules, pure: what a brand, product, batch, authorization, listing and live claim must
say for the platform to trace a sale back to its source and compare claims with facts; and the
counterfeit gate (`gate_verdict`): when a listing is blocked, held for review or allowed."""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from xinren.catalog import pdq
from xinren.documents.model import Grant, authorized_by
from xinren.errors import ValidationFailed

if TYPE_CHECKING:  # imported where used: datasketch pulls in scipy, ~1 s of every CLI command
    from datasketch import MinHash, MinHashLSH

_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_GTIN = re.compile(r"^[0-9]{8}$|^[0-9]{12,14}$")
_LOT = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_ATTRIBUTE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

#: A claim or fact value: what a buyer can check against the goods.
Value = str | int | float | bool


class Scope(enum.StrEnum):
    """What a brand authorization lets the grantee do with the brand's goods."""

    DISTRIBUTE = "distribute"  # sell on to other traders (and authorize them to sell)
    SELL = "sell"  # sell to consumers


class Result(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


def check_text(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationFailed(f"{field} is required (at most {limit} characters)", field=field)
    return value


def check_category(value: str) -> str:
    if not _CATEGORY.match(value or ""):
        raise ValidationFailed(
            "category is a lower-case name such as 'food', 'electronics' or 'cosmetics'",
            field="category",
        )
    return value


def check_gtin(value: str | None) -> str | None:
    if value is not None and not _GTIN.match(value):
        raise ValidationFailed("gtin is a GS1 GTIN-8, -12, -13 or -14 (digits)", field="gtin")
    return value


def check_lot(value: str) -> str:
    if not _LOT.match(value or ""):
        raise ValidationFailed(
            "lot is the batch/lot code as printed (letters, digits, '.', '_', '-')", field="lot"
        )
    return value


def check_attributes(values: Mapping[str, Any], field: str) -> dict[str, Value]:
    """Structured claims and facts are a flat mapping of snake_case names to plain values."""
    if not isinstance(values, Mapping):
        raise ValidationFailed(f"{field} is an object of name: value", field=field)
    out: dict[str, Value] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _ATTRIBUTE.match(name):
            raise ValidationFailed(
                f"{field}: attribute name {name!r} is not snake_case", field=f"{field}.{name}"
            )
        if (
            not isinstance(value, str | int | float | bool)
            or (isinstance(value, str) and len(value) > 500)
            or (isinstance(value, float) and not math.isfinite(value))
            or (isinstance(value, int) and abs(value) >= 2**53)
        ):
            raise ValidationFailed(
                f"{field}.{name} must be a string (at most 500 characters), a finite number "
                "(integers below 2**53) or a boolean",
                field=f"{field}.{name}",
            )
        out[name] = value
    return out


def check_price_range(low: int | None, high: int | None) -> None:
    for name, value in (("ref_price_min", low), ("ref_price_max", high)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValidationFailed(f"{name} is an integer in minor units", field=name)
        if value is not None and value <= 0:
            raise ValidationFailed(f"{name} is positive", field=name)
    if low is not None and high is not None and low > high:
        raise ValidationFailed("ref_price_min is above ref_price_max", field="ref_price_min")


def check_window(start: date | datetime, end: date | datetime, field: str) -> None:
    if end < start:
        raise ValidationFailed(f"{field} ends before it starts", field=field)


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A claim that differs from a fact: the attribute, what was claimed and what is true."""

    attribute: str
    claimed: Value
    fact: Value
    claimed_by: str  # "listing:3" or "live_claim:12"
    text: str  # the words, as written or spoken

    def explain(self) -> str:
        return (
            f"{self.claimed_by} claimed {self.attribute} = {self.claimed!r} "
            f"({self.text!r}); the product facts say {self.fact!r}"
        )


def contradictions(
    facts: Mapping[str, Value], claims: Mapping[str, Value], claimed_by: str, text: str
) -> list[Contradiction]:
    """Claims about an attribute the facts also state, with a different value.

    Claims about attributes the facts do not mention are not contradictions: nobody recorded
    the truth to compare with, and a chain of custody cannot decide them either.
    """
    return [
        Contradiction(name, value, facts[name], claimed_by, text)
        for name, value in sorted(claims.items())
        if name in facts and not _same(facts[name], value)
    ]


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return a == b


# --- the counterfeit gate: a listing (new or changed) in, allow / review / block out ---
# Fast enough to run inline in every listing write (well under 10 ms).

#: Prices far below the brand's reference range: review below this share of its minimum,
#: block below the second.
REVIEW_BELOW, BLOCK_BELOW = 0.5, 0.3
SIMILAR_TEXT = 0.7  # MinHash Jaccard estimate to a previously intercepted listing
#: a merchant holding this many serious points has its listings held for review
SERIOUS_POINTS_REVIEW = 12


@dataclass(frozen=True)
class BrandFacts:
    id: int
    name: str
    protected: bool
    keywords: tuple[str, ...]
    ref_price_min: int | None
    official_images: tuple[str, ...]  # pdq hex
    merchant_authorized: bool  # a valid grant in a line from the owner, on the day


@dataclass(frozen=True)
class ListingDraft:
    merchant: str
    title: str
    text: str
    price: int
    product_brand: int | None
    images: tuple[str, ...] = ()  # pdq hex of the listing's images


@dataclass(frozen=True)
class Verdict:
    outcome: str  # allow | review | block
    reasons: tuple[str, ...]
    brand: int | None = None


def _shingles(text: str) -> set[str]:
    t = re.sub(r"\s+", " ", text.lower())
    return {t[i : i + 4] for i in range(max(len(t) - 3, 1))}


def minhash(text: str) -> MinHash:
    """A text's MinHash over 4-character shingles (detection reuses it for review texts)."""
    from datasketch import MinHash  # lazy: see the imports above

    m = MinHash(num_perm=64, seed=7)
    for s in _shingles(text):
        m.update(s.encode())
    return m


def _lsh() -> MinHashLSH:
    from datasketch import MinHashLSH  # lazy: see the imports above

    return MinHashLSH(threshold=SIMILAR_TEXT, num_perm=64)


@dataclass
class Intercepted:
    """What the gate learned from earlier interceptions: an LSH index of their texts."""

    lsh: MinHashLSH = dataclasses.field(default_factory=_lsh)
    count: int = 0

    def add(self, text: str) -> None:
        self.lsh.insert(f"i{self.count}", minhash(text))
        self.count += 1

    def similar(self, text: str) -> bool:
        return bool(self.count and self.lsh.query(minhash(text)))


def authorized(merchant: str, owner: str, grants: Sequence[Grant], day: date) -> bool:
    """Whether the merchant sells inside the brand's chain on `day` (see `authorized_by`)."""
    return merchant in authorized_by(owner, grants, day)


def _brand_reasons(draft: ListingDraft, b: BrandFacts) -> tuple[list[str], list[str], bool]:
    """What one protected brand finds in the draft: (blocking, review, the brand was hit)."""
    block: list[str] = []
    review: list[str] = []
    hit = False
    words = f"{draft.title} {draft.text}".lower()
    named = any(k.lower() in words for k in b.keywords) or b.name.lower() in words
    own = draft.product_brand == b.id
    if (named or own) and not b.merchant_authorized:
        hit = True
        block.append(
            f"offers {b.name} goods ({'brand product' if own else 'brand keywords'}) "
            f"without a valid authorization chain for {draft.merchant}"
        )
    if own and b.ref_price_min:
        share = draft.price / b.ref_price_min
        if share < BLOCK_BELOW:
            block.append(f"price is {share:.0%} of {b.name}'s reference minimum")
        elif share < REVIEW_BELOW:
            review.append(f"price is {share:.0%} of {b.name}'s reference minimum")
    if not b.merchant_authorized:
        for image in draft.images:
            near = min((pdq.distance(image, o) for o in b.official_images), default=256)
            if near <= pdq.MATCH_DISTANCE:
                hit = True
                block.append(
                    f"an image matches {b.name}'s official images (PDQ distance {near}) "
                    "from an unauthorized seller"
                )
                break
    return block, review, hit


def gate_verdict(
    draft: ListingDraft,
    brands: Sequence[BrandFacts],
    intercepted: Intercepted,
    merchant_serious_points: int = 0,
) -> Verdict:
    """When a listing is blocked as counterfeit: it offers a protected brand's goods (its
    product, its keywords or a photo matching its official images) from a seller outside the
    brand's authorization chain, or at under 30% of the brand's reference price. Held for
    review: under 50% of the price, text close to a listing intercepted before, or a merchant
    with 12 serious points. Every reason is given; block wins over review."""
    block: list[str] = []
    review: list[str] = []
    hit: int | None = None
    for b in brands:
        if not b.protected:
            continue
        blocking, held, brand_hit = _brand_reasons(draft, b)
        block += blocking
        review += held
        if brand_hit:
            hit = b.id
    if intercepted.similar(f"{draft.title} {draft.text}"):
        review.append("text is close to a listing intercepted before")
    if merchant_serious_points >= SERIOUS_POINTS_REVIEW:
        review.append(f"the merchant holds {merchant_serious_points} serious points")
    if block:
        return Verdict("block", tuple(block + review), hit)
    if review:
        return Verdict("review", tuple(review), hit)
    return Verdict("allow", (), None)
