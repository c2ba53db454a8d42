"""The counterfeit gate's rule without a database (`catalog.model.gate_verdict`): when a listing
is blocked, held for review or allowed, and who is inside a brand's authorization chain."""

from __future__ import annotations

from datetime import date

import numpy as np
from scipy.ndimage import gaussian_filter

from xinren.catalog import model, pdq
from xinren.documents.model import Grant

BRAND = model.BrandFacts(1, "Huamei", True, ("huamei", "华美"), 199_900, (), False)


def image(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return gaussian_filter(rng.random((240, 320, 3)) * 255, (6, 6, 0))


def draft(**kw):
    base = dict(
        merchant="merchant:grey",
        title="phone",
        text="a phone",
        price=150_000,
        product_brand=None,
        images=(),
    )
    return model.ListingDraft(**(base | kw))


def test_brand_keywords_without_authorization_are_blocked():
    v = model.gate_verdict(draft(title="华美 P50 手机"), [BRAND], model.Intercepted())
    assert v.outcome == "block" and "without a valid authorization chain" in v.reasons[0]
    ok = model.gate_verdict(
        draft(title="华美 P50"),
        [model.BrandFacts(1, "Huamei", True, ("华美",), None, (), True)],
        model.Intercepted(),
    )
    assert ok.outcome == "allow"


def test_price_far_below_reference_and_images_of_the_brand():
    authorized = model.BrandFacts(1, "Huamei", True, ("huamei",), 199_900, (), True)
    assert (
        model.gate_verdict(
            draft(product_brand=1, price=80_000), [authorized], model.Intercepted()
        ).outcome
        == "review"
    )
    assert (
        model.gate_verdict(
            draft(product_brand=1, price=40_000), [authorized], model.Intercepted()
        ).outcome
        == "block"
    )
    official = pdq.pdq(image(1))
    brand = model.BrandFacts(1, "Huamei", True, ("huamei",), None, (official,), False)
    copy = pdq.pdq(image(1)[::2, ::2] * 0.9)  # resized and darkened
    assert pdq.distance(official, copy) <= pdq.MATCH_DISTANCE
    v = model.gate_verdict(draft(images=(copy,)), [brand], model.Intercepted())
    assert v.outcome == "block" and "PDQ distance" in v.reasons[0]
    other = pdq.pdq(image(2))
    assert (
        model.gate_verdict(draft(images=(other,)), [brand], model.Intercepted()).outcome == "allow"
    )


def test_text_close_to_an_intercepted_listing_goes_to_review():
    seen = model.Intercepted()
    seen.add("super copy designer bag AAA grade, same as counter, free shipping")
    v = model.gate_verdict(
        draft(text="super copy designer bag AAA grade, same as counter, fast shipping"), [], seen
    )
    assert v.outcome == "review" and "intercepted before" in v.reasons[0]
    assert (
        model.gate_verdict(
            draft(merchant="merchant:x"), [], seen, merchant_serious_points=24
        ).outcome
        == "review"
    )


def _grant(grantor: str, grantee: str, scope: str, revoked: bool = False) -> Grant:
    return Grant(
        1, grantor, grantee, scope, date(2026, 1, 1), date(2026, 12, 31), "d" * 64, revoked
    )


def test_the_chain_runs_from_the_owner_through_distributors_to_sellers():
    owner, dist, sub, shop = "brand_owner:h", "supplier:d", "supplier:s", "merchant:m"
    day = date(2026, 7, 20)
    chain = [_grant(owner, dist, "distribute"), _grant(dist, sub, "distribute")]
    assert model.authorized(owner, owner, [], day)
    assert model.authorized(dist, owner, chain, day)
    assert model.authorized(shop, owner, [*chain, _grant(sub, shop, "sell")], day)
    # a seller granted by someone outside the chain, or by a mere seller, is outside it
    assert not model.authorized(shop, owner, [*chain, _grant("supplier:x", shop, "sell")], day)
    assert not model.authorized(
        "merchant:n", owner, [_grant(owner, shop, "sell"), _grant(shop, "merchant:n", "sell")], day
    )
    # a revoked or expired link cuts everyone below it off
    revoked = [_grant(owner, dist, "distribute", revoked=True), _grant(dist, shop, "sell")]
    assert not model.authorized(shop, owner, revoked, day)
    assert not model.authorized(shop, owner, [*chain, _grant(sub, shop, "sell")], date(2027, 1, 2))


def test_every_reason_is_given_and_block_wins_over_review():
    brand = model.BrandFacts(1, "Huamei", True, ("huamei",), 199_900, (), False)
    v = model.gate_verdict(
        draft(title="Huamei P50", product_brand=1, price=80_000),
        [brand],
        model.Intercepted(),
        merchant_serious_points=12,
    )
    assert v.outcome == "block" and v.brand == 1
    assert len(v.reasons) == 3 and "serious points" in v.reasons[-1]  # the review reasons too
    unprotected = model.BrandFacts(1, "Huamei", False, ("huamei",), 199_900, (), False)
    assert model.gate_verdict(draft(title="Huamei"), [unprotected], model.Intercepted()) == (
        model.Verdict("allow", ())
    )
