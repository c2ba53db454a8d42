"""The shared kernel: Money, Clock, ids and the problem+json error mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from xinren.clock import FakeClock, SystemClock
from xinren.errors import (
    CurrencyMismatch,
    IdempotencyKeyReused,
    InvalidAmount,
    LimitExceeded,
    NotFound,
    UnknownCurrency,
    ValidationFailed,
)
from xinren.ids import check_idempotency_key, payload_hash
from xinren.money import Money


def test_money_formats_with_symbol_and_grouping():
    assert Money(199_900, "CNY").format() == "¥1,999.00"
    assert str(Money(-5, "CNY")) == "-¥0.05"
    assert Money(1999, "JPY").format() == "¥1,999"
    assert Money(1_234_567, "CHF").format() == "12,345.67 CHF"
    assert Money(1500, "KWD").format() == "1.500 KWD"


def test_money_refuses_floats_and_bools():
    with pytest.raises(InvalidAmount, match="integers in minor units"):
        Money(19.99, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(True, "CNY")
    with pytest.raises(InvalidAmount, match="floats are not exact"):
        Money.of(19.99, "CNY")  # type: ignore[arg-type]


def test_money_of_major_units_exactly():
    assert Money.of("1999.00", "CNY") == Money(199_900, "CNY")
    assert Money.of(Decimal("0.1"), "CNY") == Money(10, "CNY")
    with pytest.raises(InvalidAmount, match="more than 2 decimal places"):
        Money.of("0.001", "CNY")


def test_money_refuses_unknown_currency_and_mixing():
    with pytest.raises(UnknownCurrency):
        Money(1, "RMB")
    with pytest.raises(CurrencyMismatch, match="CNY and USD"):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "CNY") < Money(2, "USD")


def test_money_arithmetic():
    a, b = Money(150, "CNY"), Money(50, "CNY")
    assert a + b == Money(200, "CNY")
    assert a - b == Money(100, "CNY")
    assert 3 * b == Money(150, "CNY")
    assert -a == Money(-150, "CNY")
    assert b < a
    with pytest.raises(TypeError):
        a * 1.5  # type: ignore[operator]


def test_fake_clock_moves_only_forward():
    clock = FakeClock(datetime(2026, 5, 3, tzinfo=UTC))
    assert clock.now() == datetime(2026, 5, 3, tzinfo=UTC)
    assert clock.advance(days=10) == datetime(2026, 5, 13, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))  # naive


def test_system_clock_is_utc():
    assert SystemClock().now().tzinfo is UTC


def test_idempotency_keys_and_payload_hash():
    assert check_idempotency_key("order-1001-pay") == "order-1001-pay"
    for bad in ("", "has space", "x" * 129, 42):
        with pytest.raises(ValidationFailed):
            check_idempotency_key(bad)
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationFailed("x", field="f"), 422),
        (NotFound("x"), 404),
        (LimitExceeded("x"), 409),
        (IdempotencyKeyReused("x"), 409),
    ],
)
def test_errors_render_rfc9457(error, status):
    body = error.problem("/v1/x")
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert {"title", "detail", "instance"} <= body.keys()
    if error.field:
        assert body["errors"] == [{"field": "f", "detail": "x"}]
