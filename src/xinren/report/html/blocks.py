"""The building blocks of the page, in one language: a figure marked with its JSON path, value
and kind (so a test can hold what is shown against the JSON), cards, bar charts, tables, notes
and sections. The sections themselves are in `sections`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from xinren.report import model
from xinren.report.model import Report, label, show


class Blocks:
    """One language's building blocks; `fig` marks every figure with its JSON path."""

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

    def _name(self, prefix: str, key: str) -> str:
        full = f"{prefix}_{key}"
        return self.t(full) if full in model.LABELS else escape(key)

    def _plain(self, prefix: str, key: str) -> str:
        full = f"{prefix}_{key}"
        return label(full, self.lang) if full in model.LABELS else key
