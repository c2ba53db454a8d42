"""The report as one self-contained HTML document: inline CSS and SVG bar charts, no script,
font or image from anywhere else, so it reads offline and prints.

Two forms from one renderer: the file `xinren report` writes (both languages inside, a switch
between them, Chinese shown first) and the public `/transparency` page (one language, the
switch and the period form as plain links and a GET form, no script needed). Every figure on
either carries `data-figure` (its path in the JSON report), `data-value` (its JSON value) and
`data-kind`, so a test can hold what is shown against the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from xinren.report import model
from xinren.report.model import LANGS, Report, label, show

CSS = """
:root { --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --accent: #b4232a;
  --bar: #c8453d; --bg: #fbfaf7; --card: #ffffff; }
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--ink); }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei",
  "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; margin: 0 auto; max-width: 980px;
  padding: 24px 28px 48px; line-height: 1.5; font-size: 15px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 30px; margin: 0; letter-spacing: 0.02em; }
h1 small { font-size: 15px; color: var(--muted); font-weight: normal; margin-left: 10px; }
.subtitle { color: var(--muted); margin: 4px 0 0; }
.meta { color: var(--muted); font-size: 13px; margin-top: 6px; }
nav.controls { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin: 12px 0;
  font-size: 14px; }
nav.controls form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
nav.controls input, nav.controls button { font: inherit; padding: 3px 6px; }
nav.controls a, .switch button { color: var(--accent); }
.switch a[aria-current="true"], .switch button[aria-pressed="true"] { font-weight: bold;
  color: var(--ink); text-decoration: none; }
.switch button { background: none; border: 1px solid var(--line); border-radius: 4px;
  cursor: pointer; padding: 2px 10px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 14px 20px 10px; margin: 16px 0; break-inside: avoid; }
h2 { font-size: 20px; margin: 0 0 10px; border-left: 4px solid var(--accent); padding-left: 8px; }
h3 { font-size: 15px; margin: 14px 0 6px; color: var(--muted); }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.kpi { border: 1px solid var(--line); border-radius: 5px; padding: 8px 10px; }
.kpi .num { display: block; font-size: 24px; font-weight: bold; color: var(--accent);
  font-variant-numeric: tabular-nums; }
.kpi .num.na { color: var(--muted); font-weight: normal; }
.kpi .lbl { display: block; font-size: 13px; color: var(--muted); }
.headline .kpi .num { font-size: 32px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 4px 0 8px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: 13px; margin: 8px 0 4px; }
.empty { color: var(--muted); font-style: italic; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 4px 0 6px; }
svg.chart text { font-size: 13px; fill: var(--ink); }
svg.chart .bar { fill: var(--bar); }
svg.chart .axis { stroke: var(--line); }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
html[data-lang="zh"] .lang:not([lang="zh-CN"]) { display: none; }
html[data-lang="en"] .lang:not([lang="en"]) { display: none; }
@media print {
  html, body { background: #fff; }
  body { max-width: none; padding: 0; font-size: 12px; }
  nav.controls, .switch, .no-print { display: none !important; }
  section { border: none; padding: 0; margin: 10px 0; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 16mm 14mm; }
}
"""

HTML_LANG = {"zh": "zh-CN", "en": "en"}
# switching the language of the file: the only script in it, and the report reads without it
SWITCH_SCRIPT = (
    "function xrLang(l){document.documentElement.dataset.lang=l;"
    "document.querySelectorAll('.switch button').forEach(function(b){"
    "b.setAttribute('aria-pressed',String(b.dataset.lang===l));});}"
)


class _Doc:
    """One language's body; `fig` marks every figure with its JSON path."""

    def __init__(self, report: Report, lang: str) -> None:
        self.report = report
        self.lang = lang
        self.data = model.flatten(report.as_dict())

    def t(self, key: str) -> str:
        return escape(label(key, self.lang))

    def fig(self, path: str, kind: str, currency: str | None = None, tag: str = "span") -> str:
        value = self.data[path]
        attrs = self.marks(path, kind)
        if currency:
            attrs += f' data-currency="{escape(currency)}"'
        cls = "num na" if value is None else "num"
        return (
            f'<{tag} class="{cls}" {attrs}>{escape(show(value, kind, self.lang, currency))}</{tag}>'
        )

    def marks(self, path: str, kind: str) -> str:
        """The attributes that tie a shown figure to its JSON path and value (the browser test
        holds every marked figure against the JSON)."""
        value = json.dumps(self.data[path])
        return f'data-figure="{escape(path)}" data-kind="{kind}" data-value=\'{escape(value)}\''

    def kpis(self, items: Sequence[tuple[str, str, str]], cls: str = "kpis") -> str:
        """(label key, figure path, kind) as a row of cards."""
        cards = "".join(
            f'<div class="kpi">{self.fig(path, kind)}<span class="lbl">{self.t(key)}</span></div>'
            for key, path, kind in items
        )
        return f'<div class="{cls}">{cards}</div>'

    def chart(self, title_key: str, rows: Sequence[tuple[str, str]], kind: str = "count") -> str:
        """A horizontal bar chart: (label text, figure path) per bar."""
        title = label(title_key, self.lang)
        label_w, bar_w, value_w, row_h = 250, 380, 110, 26
        width = label_w + bar_w + value_w
        height = row_h * len(rows) + 6
        values = [float(self.data[path] or 0) for _, path in rows]
        top = max(values, default=0.0) or 1.0
        parts = [
            f'<svg class="chart" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            'xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(title)}</title>",
            f'<line class="axis" x1="{label_w}" y1="0" x2="{label_w}" y2="{height}"/>',
        ]
        for i, ((text, path), value) in enumerate(zip(rows, values, strict=True)):
            y = 3 + i * row_h
            w = bar_w * value / top
            shown = escape(show(self.data[path], kind, self.lang))
            parts.append(
                f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(text)}</text>'
                f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w:.1f}" '
                f'height="{row_h - 8}" rx="2"/>'
                f'<text x="{label_w + w + 6:.1f}" y="{y + 17}" {self.marks(path, kind)}>'
                f"{shown}</text>"
            )
        parts.append("</svg>")
        return f"<h3>{escape(title)}</h3>" + "".join(parts)

    def table(self, heads: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> str:
        """`heads`: (label key, numeric?); `rows`: cells already rendered."""
        if not rows:
            return f'<p class="empty">{self.t("none_in_period")}</p>'
        th = "".join(
            f'<th class="n">{self.t(k)}</th>' if n else f"<th>{self.t(k)}</th>" for k, n in heads
        )
        body = "".join(
            "<tr>"
            + "".join(
                f'<td class="n">{c}</td>' if heads[i][1] else f"<td>{c}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    def note(self, key: str) -> str:
        return f'<p class="note">{self.t(key)}</p>'

    def section(self, ident: str, title_key: str, *parts: str) -> str:
        head = f'<section id="{self.lang}-{ident}"><h2>{self.t(title_key)}</h2>'
        return head + "".join(parts) + "</section>"

    # --- the sections ---

    def headline(self) -> str:
        return self.section(
            "headline",
            "headline",
            self.kpis(
                [
                    ("hl_cleared", "enforcement.merchants_cleared", "count"),
                    ("hl_sanctioned", "enforcement.merchants_sanctioned", "count"),
                    ("hl_intercepted", "gate.listings_intercepted", "count"),
                    ("hl_buyers_paid", "compensation.buyers_paid", "count"),
                    ("hl_complaints", "complaints.decided", "count"),
                    ("hl_reviews", "reviews.excluded", "count"),
                ],
                "kpis headline",
            ),
        )

    def enforcement(self) -> str:
        e = self.report.enforcement
        rules = [
            [
                f"{escape(r.rule)} {escape(r.title_zh if self.lang == 'zh' else r.title_en)}",
                self._name("category", r.category),
                self.fig(f"enforcement.by_rule.{r.rule}.merchants_sanctioned", "count"),
                self.fig(f"enforcement.by_rule.{r.rule}.merchants_cleared", "count"),
            ]
            for r in e.by_rule
        ]
        categories = [
            [
                self._name("category", c.category),
                self.fig(f"enforcement.by_category.{c.category}.merchants_sanctioned", "count"),
                self.fig(f"enforcement.by_category.{c.category}.merchants_cleared", "count"),
            ]
            for c in e.by_category
        ]
        return self.section(
            "enforcement",
            "sec_enforcement",
            self.kpis(
                [
                    ("merchants_sanctioned", "enforcement.merchants_sanctioned", "count"),
                    ("merchants_cleared", "enforcement.merchants_cleared", "count"),
                    ("statements_of_reasons", "enforcement.statements_of_reasons", "count"),
                ]
            ),
            f"<h3>{self.t('by_rule')}</h3>",
            self.table(
                [
                    ("col_rule", False),
                    ("col_category", False),
                    ("col_sanctioned", True),
                    ("col_cleared", True),
                ],
                rules,
            ),
            f"<h3>{self.t('by_category')}</h3>",
            self.table(
                [("col_category", False), ("col_sanctioned", True), ("col_cleared", True)],
                categories,
            ),
            self.chart(
                "by_sanction",
                [
                    (label(f"sanction_{k}", self.lang), f"enforcement.by_sanction.{k}")
                    for k in e.by_sanction
                ],
            ),
            self.note("note_enforcement"),
        )

    def _name(self, prefix: str, key: str) -> str:
        full = f"{prefix}_{key}"
        return self.t(full) if full in model.LABELS else escape(key)

    def _plain(self, prefix: str, key: str) -> str:
        full = f"{prefix}_{key}"
        return label(full, self.lang) if full in model.LABELS else key

    def gate(self) -> str:
        return self.section(
            "gate",
            "sec_gate",
            self.kpis(
                [
                    ("listings_intercepted", "gate.listings_intercepted", "count"),
                    ("listings_held_for_review", "gate.listings_held_for_review", "count"),
                    ("merchants_intercepted", "gate.merchants_intercepted", "count"),
                ]
            ),
            self.chart(
                "by_reason",
                [
                    (self._plain("reason", k), f"gate.by_reason.{k}")
                    for k in self.report.gate.by_reason
                ],
            ),
            self.note("note_gate"),
        )

    def violations(self) -> str:
        return self.section(
            "violations",
            "sec_violations",
            self.kpis(
                [
                    ("violations_decided", "violations.decided", "count"),
                    ("fully_automated", "violations.fully_automated", "count"),
                    ("partly_automated", "violations.partly_automated", "count"),
                    ("share_automated", "violations.share_automated", "rate"),
                ]
            ),
            self.chart(
                "sec_violations",
                [
                    (self._plain("source", k), f"violations.by_source.{k}")
                    for k in self.report.violations.by_source
                ],
            ),
            self.note("note_violations"),
        )

    def appeals(self) -> str:
        return self.section(
            "appeals",
            "sec_appeals",
            self.kpis(
                [
                    ("appeals_filed", "appeals.filed", "count"),
                    ("appeals_decided", "appeals.decided", "count"),
                    ("appeals_upheld", "appeals.upheld", "count"),
                    ("appeals_reduced", "appeals.reduced", "count"),
                    ("appeals_overturned", "appeals.overturned", "count"),
                    ("overturn_rate", "appeals.overturn_rate", "rate"),
                    ("median_days_to_decide", "appeals.median_days_to_decide", "days"),
                    ("automated_decisions", "appeals.automated_decisions", "count"),
                    ("automated_overturned", "appeals.automated_overturned", "count"),
                    ("automated_error_rate", "appeals.automated_error_rate", "rate"),
                ]
            ),
            self.note("note_appeals"),
        )

    def notices(self) -> str:
        return self.section(
            "notices",
            "sec_notices",
            self.kpis(
                [
                    ("notices_received", "notices.received", "count"),
                    ("from_trusted_flaggers", "notices.from_trusted_flaggers", "count"),
                    ("notices_decided", "notices.decided", "count"),
                    ("founded_share", "notices.founded_share", "rate"),
                    ("reporters_warned", "notices.reporters_warned", "count"),
                    ("reporters_suspended", "notices.reporters_suspended", "count"),
                ]
            ),
            self.chart(
                "notice_outcomes",
                [
                    (label("notices_founded", self.lang), "notices.founded"),
                    (label("notices_unfounded", self.lang), "notices.unfounded"),
                    (
                        label("notices_manifestly_unfounded", self.lang),
                        "notices.manifestly_unfounded",
                    ),
                    (label("notices_not_processed", self.lang), "notices.not_processed"),
                    (label("notices_open", self.lang), "notices.open"),
                ],
            ),
            self.note("note_notices"),
        )

    def complaints(self) -> str:
        return self.section(
            "complaints",
            "sec_complaints",
            self.kpis(
                [
                    ("complaints_filed", "complaints.filed", "count"),
                    ("complaints_decided", "complaints.decided", "count"),
                    ("share_for_buyer", "complaints.share_for_buyer", "rate"),
                    ("median_hours", "complaints.median_hours_to_decision", "hours"),
                    ("p90_hours", "complaints.p90_hours_to_decision", "hours"),
                    ("complaints_by_default", "complaints.decided_by_default", "count"),
                ]
            ),
            self.chart(
                "complaints_decided",
                [
                    (label("complaints_for_buyer", self.lang), "complaints.for_buyer"),
                    (label("complaints_partly", self.lang), "complaints.partly_for_buyer"),
                    (label("complaints_for_merchant", self.lang), "complaints.for_merchant"),
                ],
            ),
            self.chart(
                "by_kind",
                [
                    (self._plain("complaint", k), f"complaints.by_kind.{k}")
                    for k in self.report.complaints.by_kind
                ],
            ),
            self.note("note_complaints"),
        )

    def compensation(self) -> str:
        c = self.report.compensation
        paid = [
            [
                self._name("payer", p.payer),
                self.fig(f"compensation.paid.{p.currency}.{p.payer}.refund", "money", p.currency),
                self.fig(
                    f"compensation.paid.{p.currency}.{p.payer}.compensation", "money", p.currency
                ),
            ]
            for p in c.paid
        ]
        recovery = []
        for r in c.recovery:
            base = f"compensation.recovery.{r.currency}.{r.creditor}.{r.debtor}"
            recovery.append(
                [
                    self._name("payer", r.creditor),
                    self._name("payer", r.debtor),
                    self.fig(f"{base}.claims", "count"),
                    *(
                        self.fig(f"{base}.{k}", "money", r.currency)
                        for k in ("amount", "recovered", "written_off", "outstanding")
                    ),
                ]
            )
        return self.section(
            "compensation",
            "sec_compensation",
            self.kpis([("buyers_paid", "compensation.buyers_paid", "count")]),
            f"<h3>{self.t('paid_by_payer')}</h3>",
            self.table(
                [("col_payer", False), ("col_refund", True), ("col_compensation", True)], paid
            ),
            f"<h3>{self.t('recovery')}</h3>",
            self.table(
                [
                    ("col_creditor", False),
                    ("col_debtor", False),
                    ("col_claims", True),
                    ("col_amount", True),
                    ("col_recovered", True),
                    ("col_written_off", True),
                    ("col_outstanding", True),
                ],
                recovery,
            ),
            self.note("note_compensation"),
        )

    def recalls(self) -> str:
        return self.section(
            "recalls",
            "sec_recalls",
            self.kpis(
                [
                    ("recalls", "recalls.recalls", "count"),
                    ("affected_buyers", "recalls.affected_buyers", "count"),
                    ("remedied_buyers", "recalls.remedied_buyers", "count"),
                    ("share_remedied", "recalls.share_remedied", "rate"),
                ]
            ),
            self.note("note_recalls"),
        )

    def reviews(self) -> str:
        rows = []
        for i in range(len(self.report.reviews.rating_changes)):
            base = f"reviews.rating_changes.{i}"
            rows.append(
                [
                    self.fig(f"{base}.merchant", "text"),
                    self.fig(f"{base}.reviews", "count"),
                    self.fig(f"{base}.excluded", "count"),
                    self.fig(f"{base}.raw_rating", "rating"),
                    self.fig(f"{base}.rating_without_excluded", "rating"),
                    self.fig(f"{base}.change", "change"),
                ]
            )
        return self.section(
            "reviews",
            "sec_reviews",
            self.kpis(
                [
                    ("reviews_received", "reviews.received", "count"),
                    ("reviews_excluded", "reviews.excluded", "count"),
                    ("share_excluded", "reviews.share_excluded", "rate"),
                    ("merchants_affected", "reviews.merchants_affected", "count"),
                ]
            ),
            f"<h3>{self.t('rating_changes')}</h3>",
            self.table(
                [
                    ("col_merchant", False),
                    ("col_reviews", True),
                    ("col_excluded", True),
                    ("col_raw", True),
                    ("col_honest", True),
                    ("col_change", True),
                ],
                rows,
            ),
            self.note("note_reviews"),
        )

    def header(self) -> str:
        p = self.report.period
        when = label("period_note", self.lang).format(
            first=p.first.isoformat(), last=p.last.isoformat(), tz=p.tz
        )
        other = "en" if self.lang == "zh" else "zh"
        return (
            '<header class="top">'
            f"<h1>{self.t('title')}<small>{escape(label('title', other))}</small></h1>"
            f'<p class="subtitle">{self.t("subtitle")}</p>'
            f'<p class="meta">{self.t("period")}: <span data-period="{p.first}/{p.last}">'
            f"{escape(when)}</span> · {self.t('generated')}: "
            f"{escape(self.report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
            "</header>"
        )

    def body(self) -> str:
        return "".join(
            (
                self.header(),
                self.headline(),
                self.enforcement(),
                self.gate(),
                self.violations(),
                self.appeals(),
                self.notices(),
                self.complaints(),
                self.compensation(),
                self.recalls(),
                self.reviews(),
                f"<footer>{self.t('footer')}</footer>",
            )
        )


def _page_controls(report: Report, lang: str) -> str:
    """The served page's language switch and period form: plain links and a GET form."""
    p = report.period
    links = []
    for code in LANGS:
        query = urlencode(
            {"from": p.first.isoformat(), "to": p.last.isoformat(), "tz": p.tz, "lang": code}
        )
        current = ' aria-current="true"' if code == lang else ""
        links.append(
            f'<a href="{escape("/transparency?" + query)}" hreflang="{HTML_LANG[code]}" '
            f'data-lang-switch="{code}"{current}>{escape(label(f"lang_{code}", code))}</a>'
        )
    json_query = urlencode({"from": p.first.isoformat(), "to": p.last.isoformat(), "tz": p.tz})
    return (
        '<nav class="controls">'
        f'<span class="switch">{escape(label("language", lang))}: {" | ".join(links)}</span>'
        '<form method="get" action="/transparency" id="period">'
        f'<label>{escape(label("from", lang))} <input type="date" name="from" '
        f'value="{p.first.isoformat()}" required></label>'
        f'<label>{escape(label("to", lang))} <input type="date" name="to" '
        f'value="{p.last.isoformat()}" required></label>'
        f'<input type="hidden" name="lang" value="{lang}">'
        f'<input type="hidden" name="tz" value="{escape(p.tz)}">'
        f'<button type="submit">{escape(label("show_period", lang))}</button></form>'
        f'<a href="{escape("/v1/transparency?" + json_query)}" id="json">'
        f"{escape(label('json_link', lang))}</a>"
        "</nav>"
    )


def _document(lang_attr: str, title: str, body: str, data_lang: str, script: str = "") -> str:
    head_script = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html>"
        f'<html lang="{lang_attr}" data-lang="{data_lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style>{head_script}</head>"
        f"<body>{body}</body></html>"
    )


def page(report: Report, lang: str) -> str:
    """The public `/transparency` page in one language."""
    model.check_lang(lang)
    doc = _Doc(report, lang)
    p = report.period
    title = f"{label('title', lang)} {p.first.isoformat()} – {p.last.isoformat()}"
    return _document(HTML_LANG[lang], title, _page_controls(report, lang) + doc.body(), lang)


def document(report: Report, lang: str = "zh") -> str:
    """The file: both languages, `lang` shown first, a switch between them, printable."""
    model.check_lang(lang)
    p = report.period
    buttons = "".join(
        f'<button type="button" data-lang="{code}" aria-pressed="{str(code == lang).lower()}" '
        f"onclick=\"xrLang('{code}')\">{escape(label(f'lang_{code}', code))}</button>"
        for code in LANGS
    )
    switch = f'<nav class="controls"><span class="switch">{buttons}</span></nav>'
    bodies = "".join(
        f'<div class="lang" lang="{HTML_LANG[code]}">{_Doc(report, code).body()}</div>'
        for code in LANGS
    )
    title = f"{label('title', lang)} / {label('title', 'en' if lang == 'zh' else 'zh')} "
    title += f"{p.first.isoformat()} – {p.last.isoformat()}"
    return _document(HTML_LANG[lang], title, switch + bodies, lang, SWITCH_SCRIPT)
