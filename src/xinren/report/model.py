"""The transparency report, pure: the period, the figures, the arithmetic behind them (rates,
medians, percentiles), how a figure is shown, and every label in Chinese and English.

Nothing here reads the clock or the database: `figures.py` counts, this module holds and shows.
A rate over nothing is None (shown "n/a"), never a division by zero and never a made-up 0%.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from xinren.cases.model import KINDS as COMPLAINT_KINDS
from xinren.errors import ValidationFailed
from xinren.money import Money
from xinren.rules.model import SanctionKind, Source
from xinren.stats import median, percentile

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


# --- the period ---


def parse_day(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValidationFailed(
            f"{name} is a day written YYYY-MM-DD, e.g. 2026-01-01; got {value!r}", field=name
        )
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{name} {value!r} is not a calendar day", field=name) from None


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or a clear error naming the field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"tz is an IANA time zone such as UTC or Asia/Shanghai; got {name!r}", field="tz"
        ) from None


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, both included, in the time zone `tz` (an IANA name; UTC by default, and
    e.g. Asia/Shanghai for a Chinese platform's calendar year): `first` 00:00 up to midnight
    after `last`, local time."""

    first: date
    last: date
    tz: str = "UTC"

    def __post_init__(self) -> None:
        zone(self.tz)
        if self.last >= date.max:
            raise ValidationFailed("to is at most 9999-12-30", field="to")
        if self.first > self.last:
            raise ValidationFailed(
                f"to ({self.last.isoformat()}) is before from ({self.first.isoformat()}): the "
                "period runs from its first day to its last, both included",
                field="to",
            )

    @classmethod
    def parse(cls, first: str | date, last: str | date, tz: str = "UTC") -> Period:
        return cls(parse_day(first, "from"), parse_day(last, "to"), tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), zone(self.tz)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day, local time (as a UTC instant)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), zone(self.tz)).astimezone(
            UTC
        )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def at_most(self, days: int) -> Period:
        """Refuse a period longer than `days` (the public page computes every figure anew on
        each anonymous request; the command line may ask for any period)."""
        if self.days > days:
            raise ValidationFailed(
                f"the period is {self.days:,} days; the public report covers at most {days:,} "
                "(use `xinren report` for longer ones)",
                field="from",
            )
        return self

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.tz}


# --- arithmetic ---


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to take a share of."""
    return part / whole if whole else None


def mean(total: int, count: int) -> float | None:
    return total / count if count else None


# --- classifying records ---

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


# --- the figures ---


@dataclass(frozen=True, slots=True)
class RuleRow:
    rule: str
    category: str
    title_zh: str
    title_en: str
    sanctioned: int  # merchants with a sanction under the rule in the period
    cleared: int  # merchants cleared (清退) by a decision under the rule


@dataclass(frozen=True, slots=True)
class CategoryRow:
    category: str
    sanctioned: int
    cleared: int


@dataclass(frozen=True, slots=True)
class Enforcement:
    merchants_sanctioned: int
    merchants_cleared: int
    statements: int  # statements of reasons for the period's decisions
    by_rule: tuple[RuleRow, ...]
    by_category: tuple[CategoryRow, ...]
    by_sanction: Mapping[str, int]  # sanction kind -> merchants

    def as_dict(self) -> dict[str, Any]:
        return {
            "merchants_sanctioned": self.merchants_sanctioned,
            "merchants_cleared": self.merchants_cleared,
            "statements_of_reasons": self.statements,
            "by_rule": {
                r.rule: {
                    "category": r.category,
                    "title": {"zh": r.title_zh, "en": r.title_en},
                    "merchants_sanctioned": r.sanctioned,
                    "merchants_cleared": r.cleared,
                }
                for r in self.by_rule
            },
            "by_category": {
                c.category: {"merchants_sanctioned": c.sanctioned, "merchants_cleared": c.cleared}
                for c in self.by_category
            },
            "by_sanction": dict(self.by_sanction),
        }


@dataclass(frozen=True, slots=True)
class Gate:
    intercepted: int  # listings blocked
    held_for_review: int
    merchants: int  # merchants with a listing blocked
    by_reason: Mapping[str, int]  # over blocked listings; one listing may have several reasons

    def as_dict(self) -> dict[str, Any]:
        return {
            "listings_intercepted": self.intercepted,
            "listings_held_for_review": self.held_for_review,
            "merchants_intercepted": self.merchants,
            "by_reason": dict(self.by_reason),
        }


@dataclass(frozen=True, slots=True)
class Violations:
    decided: int
    by_source: Mapping[str, int]
    fully_automated: int
    partly_automated: int

    @property
    def share_automated(self) -> float | None:
        return rate(self.fully_automated + self.partly_automated, self.decided)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decided": self.decided,
            "by_source": dict(self.by_source),
            "fully_automated": self.fully_automated,
            "partly_automated": self.partly_automated,
            "share_automated": self.share_automated,
        }


@dataclass(frozen=True, slots=True)
class Appeals:
    filed: int
    upheld: int
    reduced: int
    overturned: int
    days_to_decide: tuple[float, ...]  # of each appeal decided in the period
    automated_decisions: int  # the period's decisions taken fully or partly by automation
    automated_overturned: int  # ... of them overturned on appeal

    @property
    def decided(self) -> int:
        return self.upheld + self.reduced + self.overturned

    def as_dict(self) -> dict[str, Any]:
        return {
            "filed": self.filed,
            "decided": self.decided,
            "upheld": self.upheld,
            "reduced": self.reduced,
            "overturned": self.overturned,
            "overturn_rate": rate(self.overturned, self.decided),
            "median_days_to_decide": median(self.days_to_decide),
            "automated_decisions": self.automated_decisions,
            "automated_overturned": self.automated_overturned,
            "automated_error_rate": rate(self.automated_overturned, self.automated_decisions),
        }


@dataclass(frozen=True, slots=True)
class Notices:
    received: int
    from_trusted_flaggers: int
    founded: int
    unfounded: int
    manifestly_unfounded: int
    not_processed: int  # filed while the reporter was suspended
    reporters_warned: int
    reporters_suspended: int

    @property
    def decided(self) -> int:
        return self.founded + self.unfounded + self.manifestly_unfounded

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "from_trusted_flaggers": self.from_trusted_flaggers,
            "decided": self.decided,
            "founded": self.founded,
            "unfounded": self.unfounded,
            "manifestly_unfounded": self.manifestly_unfounded,
            "not_processed": self.not_processed,
            "open": self.received - self.decided - self.not_processed,
            "founded_share": rate(self.founded, self.decided),
            "reporters_warned": self.reporters_warned,
            "reporters_suspended": self.reporters_suspended,
        }


@dataclass(frozen=True, slots=True)
class Complaints:
    filed: int
    by_kind: Mapping[str, int]  # complaints filed in the period, by type
    for_buyer: int  # decisions in the period, fully for the buyer
    partly_for_buyer: int
    for_merchant: int
    by_default: int  # ... of them by the default rule (the merchant missed its deadline)
    hours_to_decision: tuple[float, ...]

    @property
    def decided(self) -> int:
        return self.for_buyer + self.partly_for_buyer + self.for_merchant

    def as_dict(self) -> dict[str, Any]:
        return {
            "filed": self.filed,
            "by_kind": dict(self.by_kind),
            "decided": self.decided,
            "for_buyer": self.for_buyer,
            "partly_for_buyer": self.partly_for_buyer,
            "for_merchant": self.for_merchant,
            "decided_by_default": self.by_default,
            "share_for_buyer": rate(self.for_buyer + self.partly_for_buyer, self.decided),
            "median_hours_to_decision": median(self.hours_to_decision),
            "p90_hours_to_decision": percentile(self.hours_to_decision, 90),
        }


@dataclass(frozen=True, slots=True)
class PaidRow:
    currency: str
    payer: str  # one of PAYERS
    refund: int
    compensation: int


@dataclass(frozen=True, slots=True)
class RecoveryRow:
    currency: str
    creditor: str  # party class of who paid first and recovers: guarantee_fund, merchant, ...
    debtor: str  # party class of who owes it
    claims: int
    amount: int
    recovered: int
    written_off: int

    @property
    def outstanding(self) -> int:
        return self.amount - self.recovered - self.written_off


@dataclass(frozen=True, slots=True)
class Compensation:
    buyers_paid: int  # buyers who received a remedy in the period
    paid: tuple[PaidRow, ...]
    recovery: tuple[RecoveryRow, ...]  # claims opened in the period, as they stand now

    def as_dict(self) -> dict[str, Any]:
        paid: dict[str, dict[str, dict[str, int]]] = {}
        for p in self.paid:
            paid.setdefault(p.currency, {})[p.payer] = {
                "refund": p.refund,
                "compensation": p.compensation,
            }
        recovery: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
        for r in self.recovery:
            recovery.setdefault(r.currency, {}).setdefault(r.creditor, {})[r.debtor] = {
                "claims": r.claims,
                "amount": r.amount,
                "recovered": r.recovered,
                "written_off": r.written_off,
                "outstanding": r.outstanding,
            }
        return {"buyers_paid": self.buyers_paid, "paid": paid, "recovery": recovery}


@dataclass(frozen=True, slots=True)
class Recalls:
    recalls: int
    affected_buyers: int
    remedied_buyers: int  # every remedy task of theirs paid

    def as_dict(self) -> dict[str, Any]:
        return {
            "recalls": self.recalls,
            "affected_buyers": self.affected_buyers,
            "remedied_buyers": self.remedied_buyers,
            "share_remedied": rate(self.remedied_buyers, self.affected_buyers),
        }


@dataclass(frozen=True, slots=True)
class RatingChange:
    merchant: str
    reviews: int
    excluded: int
    rating_sum: int
    kept_sum: int  # ratings of the reviews not excluded

    @property
    def raw(self) -> float | None:
        return mean(self.rating_sum, self.reviews)

    @property
    def honest(self) -> float | None:
        return mean(self.kept_sum, self.reviews - self.excluded)

    @property
    def change(self) -> float | None:
        raw, honest = self.raw, self.honest
        return None if raw is None or honest is None else honest - raw

    def as_dict(self) -> dict[str, Any]:
        return {
            "merchant": self.merchant,
            "reviews": self.reviews,
            "excluded": self.excluded,
            "raw_rating": self.raw,
            "rating_without_excluded": self.honest,
            "change": self.change,
        }


def biggest_changes(
    rows: Sequence[RatingChange], top: int = TOP_RATING_CHANGES
) -> tuple[RatingChange, ...]:
    """The `top` merchants whose rating moved most once fake reviews were excluded; one left
    with no genuine review at all moved most of all."""

    def key(r: RatingChange) -> tuple[float, str]:
        change = r.change
        return (-math.inf if change is None else -abs(change), r.merchant)

    return tuple(sorted((r for r in rows if r.excluded), key=key)[:top])


@dataclass(frozen=True, slots=True)
class Reviews:
    received: int  # reviews written in the period
    excluded: int  # ... of them excluded as fake
    merchants_affected: int
    rating_changes: tuple[RatingChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "excluded": self.excluded,
            "share_excluded": rate(self.excluded, self.received),
            "merchants_affected": self.merchants_affected,
            "rating_changes": [r.as_dict() for r in self.rating_changes],
        }


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    generated_at: datetime
    enforcement: Enforcement
    gate: Gate
    violations: Violations
    appeals: Appeals
    notices: Notices
    complaints: Complaints
    compensation: Compensation
    recalls: Recalls
    reviews: Reviews

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON: counts, rates (0..1, or null over nothing), amounts in minor
        units under their currency."""
        return {
            "period": self.period.as_dict(),
            "generated_at": self.generated_at.isoformat(),
            "enforcement": self.enforcement.as_dict(),
            "gate": self.gate.as_dict(),
            "violations": self.violations.as_dict(),
            "appeals": self.appeals.as_dict(),
            "notices": self.notices.as_dict(),
            "complaints": self.complaints.as_dict(),
            "compensation": self.compensation.as_dict(),
            "recalls": self.recalls.as_dict(),
            "reviews": self.reviews.as_dict(),
        }


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value under its dotted path ("gate.by_reason.image_match"); list
    items under their index. The page marks each figure it shows with its path."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            out |= flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list | tuple):
        for i, v in enumerate(data):
            out |= flatten(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        out[prefix] = data
    return out


# --- showing a figure ---

KINDS = ("count", "rate", "hours", "days", "money", "rating", "change", "text")


def show(value: Any, kind: str, lang: str, currency: str | None = None) -> str:
    """A figure as the report prints it, e.g. 63,000 / 12.5% / 30.0 h / ¥1,234.56 / n/a."""
    if value is None:
        return label("n_a", lang)
    if kind == "count":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{100 * float(value):.1f}%"
    if kind == "hours":
        return f"{float(value):,.1f} {label('unit_hours', lang)}"
    if kind == "days":
        return f"{float(value):,.1f} {label('unit_days', lang)}"
    if kind == "money":
        return Money(int(value), currency or "CNY").format()
    if kind == "rating":
        return f"{float(value):.2f}"
    if kind == "change":
        return f"{float(value):+.2f}"
    if kind == "text":
        return str(value)
    raise ValueError(f"unknown figure kind {kind!r}")


# --- labels: every word the report prints, in both languages ---

LABELS: dict[str, tuple[str, str]] = {
    # page
    "title": ("信任建设报告", "Trust report"),
    "subtitle": (
        "本期交易保障、依规处罚、先行赔付与打假的数据，全部由系统记录实时计算",
        "What the platform did in the period to keep trade honest, computed from its own records",
    ),
    "period": ("报告期", "Period"),
    "period_note": (
        "{first} 至 {last}（含首尾两日，{tz}）",
        "{first} to {last} (both days included, {tz})",
    ),
    "generated": ("生成时间", "Generated"),
    "from": ("起始日", "From"),
    "to": ("截止日", "To"),
    "show_period": ("查看", "Show"),
    "language": ("语言", "Language"),
    "lang_zh": ("中文", "中文"),
    "lang_en": ("English", "English"),
    "json_link": ("本报告的 JSON 数据", "This report as JSON"),
    "print": ("打印", "Print"),
    "n_a": ("不适用", "n/a"),
    "unit_hours": ("小时", "h"),
    "unit_days": ("天", "days"),
    "none_in_period": ("本期无记录", "None in this period"),
    "footer": (
        "所有数字均在生成时由数据库记录计算得出，没有缓存，也没有手工填写。分母为零的比率显示为"
        "“不适用”。",
        "Every figure is computed from the database's records when the report is generated; "
        "nothing is cached or typed in. A rate over nothing is shown as n/a.",
    ),
    # headline
    "headline": ("本期要点", "At a glance"),
    "hl_cleared": ("清退商家", "merchants cleared"),
    "hl_sanctioned": ("受处罚商家", "merchants sanctioned"),
    "hl_intercepted": ("拦截商品", "listings intercepted"),
    "hl_buyers_paid": ("获赔买家", "buyers paid"),
    "hl_complaints": ("处理投诉", "complaints decided"),
    "hl_reviews": ("剔除虚假评价", "fake reviews excluded"),
    # enforcement
    "sec_enforcement": ("清退与处罚", "Merchants cleared and sanctioned"),
    "merchants_sanctioned": ("受处罚商家", "Merchants sanctioned"),
    "merchants_cleared": ("清退商家", "Merchants cleared (清退)"),
    "statements_of_reasons": ("处理决定说明（DSA）", "Statements of reasons (DSA)"),
    "by_rule": ("按规则", "By rule"),
    "by_category": ("按违规类别", "By category"),
    "by_sanction": ("按处罚措施（商家数）", "By measure (merchants)"),
    "col_rule": ("规则", "Rule"),
    "col_category": ("类别", "Category"),
    "col_sanctioned": ("受处罚商家", "Merchants sanctioned"),
    "col_cleared": ("清退商家", "Merchants cleared"),
    "note_enforcement": (
        "本期开始执行的处罚（申诉撤销的不计），按商家去重；清退指因该规则的违规累计扣分达到清退"
        "门槛或直接清退。",
        "Sanctions that started in the period, each merchant counted once; sanctions reversed on "
        "appeal are not counted. Cleared: the merchant's points under the rule reached clearance, "
        "or the rule cleared it directly.",
    ),
    # gate
    "sec_gate": ("上架拦截", "Listings intercepted at the gate"),
    "listings_intercepted": ("拦截的商品", "Listings blocked"),
    "listings_held_for_review": ("转人工审核的商品", "Listings held for review"),
    "merchants_intercepted": ("涉及商家", "Merchants concerned"),
    "by_reason": ("拦截原因（一件商品可有多个原因）", "Why (a listing may have several reasons)"),
    "note_gate": (
        "商品发布时运行的防伪闸门拦下的商品（关联规则 CF-1）。",
        "Listings the counterfeit gate blocked when they were created (linked to rule CF-1).",
    ),
    # violations
    "sec_violations": ("违规来源", "Violations by source"),
    "violations_decided": ("认定的违规", "Violations decided"),
    "fully_automated": ("完全自动化决定", "Decided fully by automation"),
    "partly_automated": ("部分自动化决定", "Decided partly by automation"),
    "share_automated": ("自动化决定占比", "Share of decisions automated"),
    "note_violations": (
        "本期作出的违规认定，按发现来源分类；可信举报人的举报单独列出。",
        "Violation decisions taken in the period, by how they came to light; a trusted "
        "flagger's notice is its own source.",
    ),
    # appeals
    "sec_appeals": ("申诉", "Appeals"),
    "appeals_filed": ("提出的申诉", "Appeals filed"),
    "appeals_decided": ("作出决定的申诉", "Appeals decided"),
    "appeals_upheld": ("维持原决定", "Upheld"),
    "appeals_reduced": ("减轻处罚", "Reduced"),
    "appeals_overturned": ("撤销原决定", "Overturned"),
    "overturn_rate": ("撤销率", "Overturn rate"),
    "median_days_to_decide": ("申诉处理时间中位数", "Median time to decide"),
    "automated_decisions": ("自动化决定", "Automated decisions"),
    "automated_overturned": ("其中被申诉撤销", "of them overturned on appeal"),
    "automated_error_rate": ("自动化决定错误率", "Error rate of automated decisions"),
    "note_appeals": (
        "申诉由未参与原决定的人员处理。自动化决定的错误率 = 本期完全或部分自动化的决定中被申诉"
        "撤销的比例。",
        "Appeals are decided by a person who took no part in the decision. The error rate of "
        "automated decisions is the share of the period's fully or partly automated decisions "
        "that were overturned on appeal.",
    ),
    # notices
    "sec_notices": ("举报", "Notices"),
    "notices_received": ("收到的举报", "Notices received"),
    "from_trusted_flaggers": ("来自可信举报人", "from trusted flaggers"),
    "notices_decided": ("已处理", "Decided"),
    "notice_outcomes": ("处理结果", "Outcomes"),
    "notices_founded": ("成立", "Founded"),
    "notices_unfounded": ("不成立", "Unfounded"),
    "notices_manifestly_unfounded": ("明显不成立", "Manifestly unfounded"),
    "notices_not_processed": ("未受理（举报人被暂停）", "Not processed (reporter suspended)"),
    "notices_open": ("待处理", "Open"),
    "founded_share": ("成立比例", "Founded share"),
    "reporters_warned": ("被警告的举报人", "Reporters warned"),
    "reporters_suspended": ("被暂停举报的举报人", "Reporters suspended"),
    "note_notices": (
        "本期收到的举报及其处理结果；频繁提交明显不成立举报的举报人先被警告，再被暂停。",
        "Notices received in the period and how they were decided; reporters who often send "
        "manifestly unfounded notices are warned, then suspended.",
    ),
    # complaints
    "sec_complaints": ("买家投诉", "Buyer complaints"),
    "complaints_filed": ("收到的投诉", "Complaints filed"),
    "complaints_decided": ("作出决定的投诉", "Complaints decided"),
    "complaints_for_buyer": ("支持买家", "For the buyer"),
    "complaints_partly": ("部分支持买家", "Partly for the buyer"),
    "complaints_for_merchant": ("支持商家", "For the merchant"),
    "complaints_by_default": ("商家逾期未答复按默认规则处理", "By the default rule (no answer)"),
    "share_for_buyer": ("支持买家（全部或部分）比例", "Decided for the buyer (fully or partly)"),
    "median_hours": ("处理时间中位数", "Median time to decision"),
    "p90_hours": ("处理时间第 90 百分位", "90th percentile time to decision"),
    "by_kind": ("按投诉类型", "By type"),
    "note_complaints": (
        "类型按本期收到的投诉统计；处理时间和结果按本期作出的决定统计。",
        "Types count the complaints filed in the period; times and outcomes count the "
        "decisions taken in it.",
    ),
    # compensation
    "sec_compensation": ("赔付与追偿", "Compensation and recovery"),
    "buyers_paid": ("获得退款或赔偿的买家", "Buyers refunded or compensated"),
    "paid_by_payer": ("按付款方", "Paid to buyers, by payer"),
    "col_payer": ("付款方", "Payer"),
    "col_refund": ("退款", "Refunds"),
    "col_compensation": ("赔偿", "Compensation"),
    "recovery": (
        "追偿（本期开立的追偿，截至生成时）",
        "Recovery (claims opened in the period, as they stand now)",
    ),
    "col_creditor": ("追偿方", "Recovered by"),
    "col_debtor": ("被追偿方", "From"),
    "col_claims": ("笔数", "Claims"),
    "col_amount": ("金额", "Amount"),
    "col_recovered": ("已追回", "Recovered"),
    "col_written_off": ("已核销", "Written off"),
    "col_outstanding": ("仍欠", "Still owed"),
    "note_compensation": (
        "本期支付给买家的款项：先从订单担保资金退回，再由先行赔付方支付，不足时由平台保障基金"
        "先行赔付，并向责任方追偿。",
        "What buyers were paid in the period: first from the order's escrow, then by whoever "
        "pays first; where that fell short the platform's guarantee fund paid first and "
        "recovers from whoever is liable.",
    ),
    # recalls
    "sec_recalls": ("召回", "Recalls"),
    "recalls": ("召回批次", "Batches recalled"),
    "affected_buyers": ("受影响买家（每次召回分别计）", "Buyers affected (once per recall)"),
    "remedied_buyers": ("已获补救的买家", "of them remedied"),
    "share_remedied": ("补救比例", "Share of affected buyers remedied"),
    "note_recalls": (
        "本期发起的召回；买家在该次召回中的全部补救均已支付才算已获补救。",
        "Recalls decided in the period; a buyer counts as remedied once every remedy the recall "
        "owes them has been paid.",
    ),
    # reviews
    "sec_reviews": ("虚假评价", "Fake reviews"),
    "reviews_received": ("本期评价", "Reviews written in the period"),
    "reviews_excluded": ("判定为虚假并剔除", "Excluded as fake"),
    "share_excluded": ("剔除比例", "Share excluded"),
    "merchants_affected": ("涉及商家", "Merchants concerned"),
    "rating_changes": ("评分变化最大的商家", "Merchants whose ratings changed most"),
    "col_merchant": ("商家", "Merchant"),
    "col_reviews": ("评价数", "Reviews"),
    "col_excluded": ("剔除", "Excluded"),
    "col_raw": ("原始评分", "Raw rating"),
    "col_honest": ("剔除后评分", "Without excluded"),
    "col_change": ("变化", "Change"),
    "note_reviews": (
        "原始评分为本期全部评价的平均分，剔除后评分为未被剔除评价的平均分；全部被剔除的商家排在"
        "最前。",
        "Raw rating: the mean of all the period's reviews; without excluded: the mean of those "
        "not excluded. A merchant left with no genuine review is listed first.",
    ),
    # sources
    "source_automated_detection": ("自动检测", "Automated detection"),
    "source_notice": ("用户举报", "Notice"),
    "source_trusted_flagger": ("可信举报人", "Trusted flagger"),
    "source_complaint": ("买家投诉", "Complaint"),
    "source_inspection": ("抽检", "Inspection"),
    "source_own_initiative": ("平台主动调查", "Own initiative"),
    # rule categories
    "category_counterfeit": ("假冒商品", "Counterfeit"),
    "category_misrepresentation": ("描述不符", "Misrepresentation"),
    "category_rating_manipulation": ("虚假评价与刷单", "Rating manipulation"),
    "category_late_fulfilment": ("延迟发货", "Late fulfilment"),
    "category_after_sales_refusal": ("拒绝售后", "After-sales refusal"),
    "category_prohibited_goods": ("禁售商品", "Prohibited goods"),
    "category_missing_trader_information": ("经营者信息缺失", "Missing trader information"),
    "category_abusive_reporting": ("恶意举报", "Abusive reporting"),
    # sanctions
    "sanction_warning": ("警告", "Warning"),
    "sanction_listing_removal": ("商品下架", "Listing removed"),
    "sanction_traffic_restriction": ("限制流量", "Traffic restricted"),
    "sanction_new_listing_ban": ("禁止发布新商品", "No new listings"),
    "sanction_settlement_freeze": ("冻结结算", "Settlements frozen"),
    "sanction_penalty_payment": ("扣除违约金", "Penalty from the deposit"),
    "sanction_suspension": ("暂停经营", "Suspended"),
    "sanction_clearance": ("清退", "Cleared"),
    # gate reasons
    "reason_unauthorized_brand": ("无有效品牌授权链", "Protected brand without authorization"),
    "reason_price_below_reference": (
        "价格远低于品牌参考价",
        "Price far below the brand's reference",
    ),
    "reason_image_match": ("图片与品牌官方图片相同", "Image matches the brand's official images"),
    "reason_similar_text": ("文字与已拦截商品相近", "Text close to an intercepted listing"),
    "reason_merchant_record": ("商家严重违规扣分较多", "Merchant's serious points"),
    "reason_other": ("其他", "Other"),
    # complaint kinds
    "complaint_not_as_described": ("描述不符", "Not as described"),
    "complaint_counterfeit": ("假冒", "Counterfeit"),
    "complaint_quality_defect": ("质量问题", "Quality defect"),
    "complaint_safety_hazard": ("安全隐患", "Safety hazard"),
    "complaint_non_delivery": ("未发货", "Non-delivery"),
    "complaint_after_sales_refusal": ("拒绝售后", "After-sales refusal"),
    "complaint_scam": ("欺诈", "Scam"),
    # payers
    "payer_escrow": ("订单担保资金（退回买家货款）", "Order escrow (the buyer's own payment)"),
    "payer_merchant": ("商家", "Merchant"),
    "payer_host": ("主播", "Host"),
    "payer_supplier": ("供应商或生产商", "Supplier or manufacturer"),
    "payer_guarantee_fund": ("平台保障基金（先行赔付）", "Platform guarantee fund (pays first)"),
    "payer_other": ("其他", "Other"),
}


def label(key: str, lang: str) -> str:
    """The label `key` in `lang` ("zh" or "en")."""
    if lang not in LANGS:
        raise ValidationFailed(f"lang is zh or en, not {lang!r}", field="lang")
    zh, en = LABELS[key]
    return zh if lang == "zh" else en


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValidationFailed(f"lang is zh or en, not {lang!r}", field="lang")
    return lang
