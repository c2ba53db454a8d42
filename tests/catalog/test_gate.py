"""The counterfeit gate is the catalog's: every listing write runs it, so a Python caller of
`catalog.service.create_listing` / `change_listing` meets it exactly as an HTTP caller does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.detect.grey import GREY, fake_p50, grey_seller
from xinren.api.app import create_app
from xinren.catalog import service as catalog
from xinren.catalog.tables import interceptions
from xinren.clock import FakeClock
from xinren.db import unit_of_work
from xinren.errors import Conflict, ValidationFailed
from xinren.events.tables import outbox


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 7, 20, tzinfo=UTC))


def _intercepted(factory, merchant: str) -> list[tuple[str, str | None, str | None]]:
    with factory() as s:
        rows = s.execute(
            select(interceptions)
            .where(interceptions.c.merchant == merchant)
            .order_by(interceptions.c.id)
        ).all()
    return [(r.outcome, r.rule_id, r.draft_key) for r in rows]


def test_the_library_path_blocks_a_counterfeit_listing_and_records_the_interception(
    factory, clock, tmp_path
):
    case, _, product = grey_seller(factory, clock, tmp_path / "d", "gl")
    with pytest.raises(Conflict) as refused, unit_of_work(factory) as s:
        catalog.create_listing(s, clock, **fake_p50(product, case.batch_id))
    assert refused.value.keep and refused.value.field == "listing"
    assert refused.value.detail.startswith("the listing was blocked at the counterfeit gate: ")
    assert any("authorization chain" in r for r in refused.value.extra["reasons"])
    # the unit of work kept the interception although the call failed; no listing was made
    assert _intercepted(factory, GREY) == [("block", "CF-1", None)]
    with factory() as s:
        assert catalog.list_listings(s, merchant=GREY) == []
        topics = list(s.execute(select(outbox.c.topic)).scalars())
    assert topics.count("listing.intercepted") == 1


def test_the_library_path_runs_the_gate_on_a_change_and_needs_the_store_for_photos(
    factory, clock, tmp_path
):
    case, _, _ = grey_seller(factory, clock, tmp_path / "d", "gc")
    with factory() as s:
        listing = catalog.list_listings(s, merchant=case.refs["shop"])[0]
        with pytest.raises(Conflict) as refused:  # a tenth of the brand's reference price
            catalog.change_listing(s, clock, listing.id, price=listing.price // 10)
        assert "reference minimum" in refused.value.detail
        assert catalog.get_listing(s, listing.id).price == listing.price  # unchanged
        with pytest.raises(ValidationFailed) as e:  # photos are hashed from their bytes
            catalog.change_listing(s, clock, listing.id, images=["a" * 64])
        assert e.value.field == "images"


def test_the_http_answer_is_the_gate_s_and_a_retry_is_intercepted_once(factory, clock, tmp_path):
    case, key, product = grey_seller(factory, clock, tmp_path / "d", "gh")
    client = TestClient(create_app(clock=clock, sessions=factory))
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "l1"}
    body = fake_p50(product, case.batch_id)
    first = client.post("/v1/catalog/listings", headers=headers, json=body)
    retry = client.post("/v1/catalog/listings", headers=headers, json=body)
    assert first.status_code == retry.status_code == 409
    problem = first.json()
    assert problem["type"].endswith("/conflict") and problem["status"] == 409
    assert problem["detail"] == (
        "the listing was blocked at the counterfeit gate: " + "; ".join(problem["reasons"])
    )
    assert problem["errors"] == [{"field": "listing", "detail": problem["detail"]}]
    assert any("authorization chain" in r for r in problem["reasons"])
    # the retry meets the gate again (its text is now close to one intercepted before) but is
    # the same draft: intercepted once
    [(outcome, rule, draft)] = _intercepted(factory, GREY)  # the retry is the same draft
    assert (
        (outcome, rule) == ("block", "CF-1")
        and draft is not None
        and draft.startswith(f"create:{GREY}:")
    )
