"""Hold the figures a page shows (its `data-figure` elements) against the JSON report."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser

from xinren.report.model import flatten, show


@dataclass(frozen=True)
class Shown:
    path: str
    kind: str
    currency: str | None
    value: str  # the element's data-value (JSON)
    text: str  # what the reader sees


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[Shown] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-figure" in a:
            self._open.append((tag, a, []))

    def handle_data(self, data):
        for _, _, texts in self._open:
            texts.append(data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _, a, texts = self._open.pop()
            self.found.append(
                Shown(
                    a["data-figure"],
                    a["data-kind"],
                    a.get("data-currency"),
                    a["data-value"],
                    "".join(texts),
                )
            )


def figures_in(html: str) -> list[Shown]:
    parser = _Figures()
    parser.feed(html)
    return parser.found


def check(shown: list[Shown], report_json: dict, lang: str) -> set[str]:
    """Every figure shown equals the JSON's and reads as the report formats it; returns the
    paths shown."""
    data = flatten(report_json)
    assert shown, "the page shows no figures"
    for s in shown:
        assert s.path in data, f"{s.path} is not a figure of the JSON report"
        assert json.loads(s.value) == data[s.path], s.path
        assert s.text.strip() == show(data[s.path], s.kind, lang, s.currency), s.path
    return {s.path for s in shown}
