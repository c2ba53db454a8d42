"""The catalog's input rules without a database: what a product's facts and a listing's claims
may hold, which codes a batch and a product carry, and a brand's reference price range."""

from __future__ import annotations

from datetime import date

import pytest

from xinren.catalog import model
from xinren.errors import ValidationFailed


def test_facts_and_claims_are_flat_snake_case_names_of_plain_values():
    for bad, field in [
        ({"Storage GB": 1}, "claims.Storage GB"),
        ({"5g": True}, "claims.5g"),  # a name starts with a letter
        ({"storage_gb": [1]}, "claims.storage_gb"),
        ({"weight": float("nan")}, "claims.weight"),
        ({"units": 2**53}, "claims.units"),
        ({"note": "x" * 501}, "claims.note"),
    ]:
        with pytest.raises(ValidationFailed) as e:
            model.check_attributes(bad, "claims")
        assert e.value.field == field
    assert model.check_attributes({"ram_gb": 8, "sealed": True}, "claims") == {
        "ram_gb": 8,
        "sealed": True,
    }


def test_codes_a_product_and_a_batch_carry():
    assert model.check_gtin("06901234567892") == "06901234567892"
    assert model.check_gtin(None) is None
    assert model.check_lot("L2026-01.a_b") == "L2026-01.a_b"
    assert model.check_category("cosmetics") == "cosmetics"
    for check, value, field in [
        (model.check_gtin, "12345", "gtin"),
        (model.check_lot, "lot 1", "lot"),
        (model.check_category, "Food", "category"),
    ]:
        with pytest.raises(ValidationFailed) as e:
            check(value)
        assert e.value.field == field


def test_a_reference_price_range_is_positive_minor_units_low_to_high():
    model.check_price_range(100, 200)
    model.check_price_range(None, 200)
    for low, high, field in [(0, None, "ref_price_min"), (300, 200, "ref_price_min")]:
        with pytest.raises(ValidationFailed) as e:
            model.check_price_range(low, high)
        assert e.value.field == field
    with pytest.raises(ValidationFailed):
        model.check_price_range(None, True)  # type: ignore[arg-type]
    model.check_window(date(2026, 1, 1), date(2026, 1, 1), "validity")
    with pytest.raises(ValidationFailed):
        model.check_window(date(2026, 1, 2), date(2026, 1, 1), "validity")
