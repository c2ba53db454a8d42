"""The page's look: the inline style sheet, the language codes the page declares, and the one
script of the file form (the language switch; the report reads without it)."""

from __future__ import annotations

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
