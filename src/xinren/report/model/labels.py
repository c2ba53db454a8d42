"""How a figure is shown (63,000 / 12.5% / 30.0 h / ¥1,234.56 / n/a) and every word the report
prints, in Chinese and English."""

from __future__ import annotations

from typing import Any

from xinren.errors import ValidationFailed
from xinren.money import Money
from xinren.report.model.classify import LANGS

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
