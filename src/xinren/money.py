"""Money in integer minor units with an ISO 4217 currency.

Floats are refused on purpose: 0.1 + 0.2 != 0.3 is not a rounding question a ledger may ask.
Mixing currencies is an error, never a silent conversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xinren.errors import CurrencyMismatch, InvalidAmount, UnknownCurrency

_ZERO_DECIMALS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DECIMALS = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMALS = "CLF UYW"
_TWO_DECIMALS = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD "
    "KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD "
    "NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
    "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED "
    "VES WST XCD XCG YER ZAR ZMW ZWG"
)

#: ISO 4217 code -> number of minor-unit digits.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMALS.split(), 2),
    **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
    **dict.fromkeys(_FOUR_DECIMALS.split(), 4),
}

_SYMBOLS = {"CNY": "¥", "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "HKD": "HK$", "KRW": "₩"}


def check_currency(code: Any, field: str = "currency") -> str:
    """Return `code` if it is an ISO 4217 code we know, else raise naming the field."""
    if not isinstance(code, str) or code not in MINOR_UNITS:
        raise UnknownCurrency(
            f"{code!r} is not an ISO 4217 currency code (e.g. 'CNY', 'USD')", field=field
        )
    return code


#: The largest amount any one request may name, in minor units: ten trillion yuan, above any
#: platform's yearly turnover, and far enough below 2**63 that the ledger's running totals
#: (64-bit columns) cannot be carried past their limit by a handful of requests.
MAX_AMOUNT = 10**15


def check_amount(
    value: Any, field: str = "amount", *, positive: bool = False, bounded: bool = True
) -> int:
    """Return `value` if it is an integer number of minor units, else raise naming the field.

    Amounts in requests are at most `MAX_AMOUNT` either way (``bounded``); a `Money` that is a
    total or a difference computed from stored figures is not bounded.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        kind = type(value).__name__
        raise InvalidAmount(
            f"amounts are integers in minor units (fen), got {kind} {value!r}; "
            "send 19990 for ¥199.90",
            field=field,
        )
    if positive and value <= 0:
        raise InvalidAmount(f"amount must be greater than zero, got {value}", field=field)
    if bounded and abs(value) > MAX_AMOUNT:
        raise InvalidAmount(
            f"{field} is at most {MAX_AMOUNT} minor units (¥10,000,000,000,000.00), got {value}",
            field=field,
        )
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount of one currency, in integer minor units (fen for CNY)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        check_amount(self.amount, bounded=False)
        check_currency(self.currency)

    @classmethod
    def of(cls, major: str | int | Decimal, currency: str) -> Money:
        """Build from major units given exactly, e.g. ``Money.of("1999.00", "CNY")``."""
        if isinstance(major, float):
            raise InvalidAmount("floats are not exact; pass a str or Decimal", field="amount")
        digits = MINOR_UNITS[check_currency(currency)]
        scaled = Decimal(major).scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise InvalidAmount(
                f"{major} has more than {digits} decimal places for {currency}", field="amount"
            )
        return cls(int(scaled), currency)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} and {other.currency}; convert explicitly first"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int; round explicitly first")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def format(self) -> str:
        """Human form: ``¥1,999.00``; codes without a symbol print as ``1,999.00 CHF``."""
        digits = MINOR_UNITS[self.currency]
        sign = "-" if self.amount < 0 else ""
        major = Decimal(abs(self.amount)).scaleb(-digits)
        text = f"{major:,.{digits}f}"
        symbol = _SYMBOLS.get(self.currency)
        return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {self.currency}"

    def __str__(self) -> str:
        return self.format()
