"""The merchant's letter, pure: the decision a statement of reasons reports (`rules.statement`),
as a short plain letter in English or Chinese: what, why, on what evidence, what it costs, the
running points and the next ladder step, and how to appeal."""

from __future__ import annotations

from collections.abc import Mapping

from xinren.errors import ValidationFailed
from xinren.rules.model import Rule, Rulebook, SanctionKind, SanctionRecord, ViolationRecord
from xinren.rules.statement import _applied, _money

K = SanctionKind

_KINDS: dict[str, dict[SanctionKind, str]] = {
    "en": {
        K.WARNING: "warning",
        K.LISTING_REMOVAL: "listing removed",
        K.TRAFFIC_RESTRICTION: "less visibility in search and recommendations",
        K.NEW_LISTING_BAN: "no new listings",
        K.SETTLEMENT_FREEZE: "settlements frozen",
        K.PENALTY_PAYMENT: "penalty deducted from your deposit",
        K.SUSPENSION: "shop suspended",
        K.CLEARANCE: "shop closed for good",
    },
    "zh": {
        K.WARNING: "警告",
        K.LISTING_REMOVAL: "商品下架",
        K.TRAFFIC_RESTRICTION: "限制流量（降低搜索和推荐中的曝光）",
        K.NEW_LISTING_BAN: "禁止发布新商品",
        K.SETTLEMENT_FREEZE: "冻结结算",
        K.PENALTY_PAYMENT: "从保证金中扣除违约金",
        K.SUSPENSION: "暂停店铺经营",
        K.CLEARANCE: "清退店铺",
    },
}
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "head": "Decision on violation {id}",
        "decided": (
            "On {decided} we decided that your conduct on {conduct} broke rule {rule} "
            '"{title}" of rulebook {version}, the version in force at the time.'
        ),
        "facts": "What we found: {facts}",
        "evidence": "Evidence we relied on: {evidence}",
        "points": "Points for this violation: {points} ({severity}).",
        "totals": "Your points now add up to: {totals}.",
        "total": "{severity} {points}",
        "next": "At {points} {severity} points: {sanctions}{days}.",
        "for_days": " for {days} days",
        "measures": "What we decided:",
        "measure": "- {label}: {dates}",
        "detail": " ({})",
        "none": "- no measure beyond the points",
        "on": "on {start}",
        "from": "from {start}, with no end date",
        "until": "from {start} until {end}",
        "appeal": (
            "How to appeal: you may appeal within {days} days of this decision, until "
            "{deadline}. An appeal is free of charge and is reviewed by someone who took no "
            "part in this decision; you will have the outcome within {decision_days} days. "
            "After that you may still turn to out-of-court dispute settlement or the courts."
        ),
        "serious": "serious",
        "general": "general",
        "sep": ", ",
    },
    "zh": {
        "head": "违规处理决定（编号 {id}）",
        "decided": (
            "我们于 {decided} 认定，贵店于 {conduct} 的行为违反了规则库 {version}"
            "（行为发生时有效的版本）中的规则 {rule}「{title}」。"
        ),
        "facts": "认定事实：{facts}",
        "evidence": "所依据的证据：{evidence}",
        "points": "记分：本次违规记 {points} 分（{severity}）。",
        "totals": "目前累计记分：{totals}。",
        "total": "{severity} {points} 分",
        "next": "累计达到 {points} 分（{severity}）时：{sanctions}{days}。",
        "for_days": "，为期 {days} 天",
        "measures": "处理措施：",
        "measure": "- {label}：{dates}",
        "detail": "（{}）",
        "none": "- 除记分外无其他处理措施",
        "on": "{start}",
        "from": "自 {start} 起，无期限",
        "until": "{start} 至 {end}",
        "appeal": (
            "申诉方式：您可以在本决定作出之日起 {days} 天内（截至 {deadline}）提出申诉。"
            "申诉免费，由未参与本决定的人员复核，我们将在 {decision_days} 天内给出结果。"
            "对结果仍有异议的，可以申请庭外争议解决或向法院起诉。"
        ),
        "serious": "严重违规",
        "general": "一般违规",
        "sep": "，",
    },
}


def _dates(s: SanctionRecord, t: Mapping[str, str]) -> str:
    start = s.starts_at.date().isoformat()
    if s.ends_at is None:
        return t["from"].format(start=start)
    if s.ends_at.date() == s.starts_at.date():
        return t["on"].format(start=start)
    return t["until"].format(start=start, end=s.ends_at.date().isoformat())


def _totals(book: Rulebook, totals: Mapping[str, int], lang: str) -> list[str]:
    """The running totals, and for each the next ladder threshold still ahead."""
    t, kinds = _TEXT[lang], _KINDS[lang]
    parts = [t["total"].format(severity=t.get(k, k), points=n) for k, n in totals.items()]
    lines = [t["totals"].format(totals=t["sep"].join(parts))]
    for severity, steps in book.ladder.items():
        if severity.value not in totals:
            continue
        step = next((s for s in steps if s.points > totals[severity.value]), None)
        if step is not None:
            lines.append(
                t["next"].format(
                    points=step.points,
                    severity=t[severity.value],
                    sanctions=t["sep"].join(kinds[k] for k in step.sanctions),
                    days=t["for_days"].format(days=step.days) if step.days else "",
                )
            )
    return lines


def plain_text(
    v: ViolationRecord,
    rule: Rule,
    book: Rulebook,
    lang: str = "en",
    *,
    totals: Mapping[str, int] | None = None,
) -> str:
    """The decision as a short letter to the merchant, in "en" or "zh": what, why, on what
    evidence, what it costs and how to appeal. Reversed sanctions are left out, as in the
    statement of reasons. `totals` maps severity to the merchant's running points."""
    if lang not in _TEXT:
        raise ValidationFailed(f"lang is one of {', '.join(_TEXT)}, not {lang!r}", field="lang")
    t, kinds = _TEXT[lang], _KINDS[lang]
    measures = []
    for s in _applied(v):
        label = kinds[s.kind]
        if s.target.startswith("listing:"):
            label += t["detail"].format(s.target)
        if s.amount and s.kind in (K.PENALTY_PAYMENT, K.SETTLEMENT_FREEZE):
            label += t["detail"].format(_money(s.amount, book.currency))
        measures.append(t["measure"].format(label=label, dates=_dates(s, t)))
    lines = [
        t["head"].format(id=v.id),
        "",
        t["decided"].format(
            decided=v.decided_at.date().isoformat(),
            rule=rule.id,
            title=rule.title_en if lang == "en" else rule.title_zh,
            version=v.rule_version,
            conduct=v.conduct_at.date().isoformat(),
        ),
        "",
        t["facts"].format(facts=v.facts.strip()),
        t["evidence"].format(evidence=t["sep"].join(v.evidence)),
        t["points"].format(points=v.points, severity=t[v.severity.value]),
        *(_totals(book, totals, lang) if totals is not None else []),
        "",
        t["measures"],
        *(measures or [t["none"]]),
        "",
        t["appeal"].format(
            days=book.appeal_window.days,
            deadline=(v.decided_at + book.appeal_window).date().isoformat(),
            decision_days=book.appeal_decision.days,
        ),
    ]
    return "\n".join(lines)
