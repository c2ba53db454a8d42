"""The report as one self-contained HTML document: inline CSS and SVG bar charts, no script,
font or image from anywhere else, so it reads offline and prints.

Two forms from one renderer: the file `xinren report` writes (both languages inside, a switch
between them, Chinese shown first) and the public `/transparency` page (one language, the
switch and the period form as plain links and a GET form, no script needed). Every figure on
either carries `data-figure` (its path in the JSON report), `data-value` (its JSON value) and
`data-kind`, so a test can hold what is shown against the JSON.

The look is `style`, the building blocks `blocks`, what each section shows `sections`; this
module assembles the two forms.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from xinren.report import model
from xinren.report.html.sections import Body
from xinren.report.html.style import CSS, HTML_LANG, SWITCH_SCRIPT
from xinren.report.model import LANGS, Report, label


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
    doc = Body(report, lang)
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
        f'<div class="lang" lang="{HTML_LANG[code]}">{Body(report, code).body()}</div>'
        for code in LANGS
    )
    title = f"{label('title', lang)} / {label('title', 'en' if lang == 'zh' else 'zh')} "
    title += f"{p.first.isoformat()} – {p.last.isoformat()}"
    return _document(HTML_LANG[lang], title, switch + bodies, lang, SWITCH_SCRIPT)
