"""What the report counts by: the languages, sources, sanctions, categories, gate reasons and
payers it names, how a record is put in one of them, and a rate or mean that is None over
nothing (never a division by zero)."""

from __future__ import annotations

import re

from xinren.cases.model import KINDS as COMPLAINT_KINDS
from xinren.rules.model import SanctionKind, Source

LANGS = ("zh", "en")
SOURCES = tuple(s.value for s in Source)
SANCTIONS = tuple(k.value for k in SanctionKind)
#: the rulebook's categories, the weightiest first
CATEGORIES = (
    "counterfeit",
    "prohibited_goods",
    "misrepresentation",
    "rating_manipulation",
    "after_sales_refusal",
    "late_fulfilment",
    "missing_trader_information",
    "abusive_reporting",
)
COMPLAINTS = tuple(COMPLAINT_KINDS)
GATE_REASONS = (
    "unauthorized_brand",
    "price_below_reference",
    "image_match",
    "similar_text",
    "merchant_record",
    "other",
)
#: Who paid a buyer: the order's escrow (the buyer's own payment returned), the seller, its
#: host, an upstream supplier or manufacturer, or the platform's guarantee fund (先行赔付).
PAYERS = ("escrow", "merchant", "host", "supplier", "guarantee_fund", "other")
ALWAYS_SHOWN_PAYERS = ("escrow", "merchant", "supplier", "guarantee_fund")
TOP_RATING_CHANGES = 10


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to take a share of."""
    return part / whole if whole else None


def mean(total: int, count: int) -> float | None:
    return total / count if count else None


_GATE_PATTERNS = (
    ("unauthorized_brand", re.compile(r"without a valid authorization chain")),
    ("price_below_reference", re.compile(r"reference minimum")),
    ("image_match", re.compile(r"matches .* official images")),
    ("similar_text", re.compile(r"close to a listing intercepted")),
    ("merchant_record", re.compile(r"serious points")),
)


def gate_reason(text: str) -> str:
    """The kind of one of the gate's reasons (it records them as sentences)."""
    for kind, pattern in _GATE_PATTERNS:
        if pattern.search(text):
            return kind
    return "other"


def party_class(ref: str) -> str:
    """Which of `PAYERS` a party (or "platform", the guarantee fund) is."""
    if ref == "platform" or ref.startswith("platform:"):
        return "guarantee_fund"
    kind = ref.split(":", 1)[0]
    if kind in ("merchant", "host"):
        return kind
    if kind in ("supplier", "manufacturer", "brand_owner"):
        return "supplier"
    return "other"


def payer_class(source: str, paid_by: str) -> str:
    """Who a remedy payment came from: its source account, then the party behind it."""
    if source == "escrow":
        return "escrow"
    if source == "guarantee_fund":
        return "guarantee_fund"
    return party_class(paid_by)
