"""The HTML of the metrics report: one self-contained page, styles inline, no script.

Nothing on the page is fetched: charts are inline SVG, fonts are the system's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

STYLE = """
:root { --ink:#1a202c; --muted:#718096; --line:#e2e8f0; --card:#ffffff; --bg:#f7f8fa;
  --bad:#c53030; --ok:#b7791f; --good:#2f855a; --blue:#2b6cb0; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header.top { background:#1a202c; color:#fff; padding:18px 32px 14px; }
header.top h1 { margin:0; font-size:22px; font-weight:650; letter-spacing:.2px; }
header.top .meta { color:#cbd5e0; font-size:13px; margin-top:4px; }
header.top .meta b { color:#fff; font-weight:600; }
main { max-width:1220px; margin:0 auto; padding:16px 28px 48px; }
nav.toc { font-size:12.5px; color:var(--muted); margin:2px 0 14px; }
nav.toc a { color:var(--blue); text-decoration:none; margin-right:12px; white-space:nowrap; }
.story { font-size:16px; line-height:1.5; margin:4px 0 14px; max-width:1100px; }
.story b { font-weight:650; }
.story .verdict { display:block; font-size:21px; font-weight:650; line-height:1.3; margin-bottom:4px; }
.kpis { display:grid; grid-template-columns:repeat(3, 1fr); gap:12px; margin-bottom:14px; }
.kpi { background:var(--card); border:1px solid var(--line); border-left:5px solid var(--muted);
  border-radius:8px; padding:10px 14px 8px; min-height:112px; }
.kpi .label { font-size:12px; text-transform:uppercase; letter-spacing:.5px; color:var(--muted); }
.kpi .value { font-size:30px; font-weight:700; line-height:1.15; margin:2px 0; }
.kpi .value small { font-size:14px; font-weight:600; margin-left:6px; }
.kpi .sub { font-size:12.5px; color:#4a5568; }
.kpi svg.chart { width:100%; max-width:300px; height:auto; display:block; margin-top:4px; }
.pill { display:inline-block; border-radius:10px; padding:0 8px; font-size:12px; font-weight:600;
  vertical-align:middle; }
.banner { border-radius:8px; padding:10px 14px; margin:0 0 14px; font-weight:500; }
.banner.warn { background:#fffbeb; border:1px solid #f6e05e; color:#744210; }
.banner.fail { background:#fff5f5; border:1px solid #feb2b2; color:#822727; }
.banner.ok { background:#f0fff4; border:1px solid #9ae6b4; color:#22543d; }
.banner a { color:inherit; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 20px 18px;
  margin:0 0 16px; }
section h2 { margin:0 0 2px; font-size:18px; }
section .lede { color:#4a5568; margin:0 0 10px; max-width:1000px; }
section.unavailable { border-style:dashed; background:#fafafa; }
section.unavailable .lede { color:var(--muted); }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:18px; }
figure { margin:8px 0 12px; }
figure h3 { font-size:14px; margin:0 0 4px; }
figure svg.chart { width:100%; height:auto; display:block; }
figcaption.guide { font-size:12.5px; color:#4a5568; margin-top:4px; }
figcaption.guide::before { content:"How to read: "; font-weight:600; color:var(--ink); }
.legend { font-size:12px; color:#4a5568; margin:0 0 4px; }
.legend span { margin-right:14px; white-space:nowrap; }
.legend i { display:inline-block; width:12px; height:10px; border-radius:2px; margin-right:5px;
  vertical-align:-1px; box-shadow: inset 0 0 0 1px rgba(0,0,0,.12); }
.legend i.line { height:3px; vertical-align:3px; }
.legend i.dash { height:0; border-top:3px dashed; background:none !important; vertical-align:3px; }
table { border-collapse:collapse; width:100%; font-size:12.5px; margin:6px 0 4px; }
th, td { padding:4px 8px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { color:var(--muted); font-weight:600; font-size:11.5px; text-transform:uppercase; letter-spacing:.3px; }
th:first-child, td:first-child { text-align:left; }
td.text, th.text { text-align:left; white-space:normal; }
tr.total td { font-weight:650; border-top:2px solid var(--line); }
tr.warned td { background:#fffbeb; }
tr.failed td { background:#fff5f5; }
.note { font-size:12px; color:var(--muted); margin:4px 0; }
.defs { font-size:12px; color:#4a5568; margin-top:8px; }
.defs code, .lede code, .note code { font-size:11.5px; background:#edf2f7; padding:0 3px; border-radius:3px; }
dl.kv { display:grid; grid-template-columns:max-content 1fr; gap:3px 16px; margin:6px 0 10px; }
dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; font-weight:550; }
footer { color:var(--muted); font-size:12px; text-align:center; margin-top:24px; }
@media (max-width: 900px) { .kpis { grid-template-columns:1fr 1fr; } .grid2 { grid-template-columns:1fr; } }
@media print { body { background:#fff; } section { break-inside:avoid; } header.top { background:#fff;
  color:#000; } header.top .meta { color:#333; } }
"""


@dataclass
class Section:
    id: str
    title: str
    lede: str = ""  # one paragraph: what the section shows (HTML)
    body: str = ""  # HTML
    available: bool = True
    reason: str = ""  # why not available


@dataclass
class Kpi:
    label: str
    value: str
    sub: str = ""  # HTML
    color: str = "#718096"
    badge: str = ""  # HTML after the value
    extra: str = ""  # HTML below (e.g. a gauge)


@dataclass
class Page:
    title: str
    meta: str  # HTML
    story: str  # HTML
    kpis: list[Kpi]
    sections: list[Section]
    banners: list[tuple[str, str]] = field(default_factory=list)  # (kind, HTML)
    footer: str = ""


def figure(svg: str, guide: str, *, title: str = "", legend: str = "") -> str:
    """A chart with its one-line reading guide."""
    heading = f"<h3>{escape(title)}</h3>" if title else ""
    return f'<figure>{heading}{legend}{svg}<figcaption class="guide">{guide}</figcaption></figure>'


def legend(items: Sequence[tuple[str, str, str]]) -> str:
    """(name, colour, kind) with kind 'box', 'line' or 'dash'."""
    spans = []
    for name, color, kind in items:
        style = f"border-color:{color};" if kind == "dash" else f"background:{color};"
        css = "" if kind == "box" else kind
        spans.append(f'<span><i class="{css}" style="{style}"></i>{escape(name)}</span>')
    return f'<div class="legend">{"".join(spans)}</div>'


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, text_columns: Sequence[int] = (0,),
          row_classes: Sequence[str] | None = None) -> str:
    """A table of already formatted (escaped here) cells."""
    head = "".join(
        f'<th class="text">{escape(h)}</th>' if i in text_columns and i else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        css = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        cells = "".join(
            f'<td class="text">{escape(str(c))}</td>' if i in text_columns and i else f"<td>{escape(str(c))}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def pill(text: str, fg: str, bg: str) -> str:
    return f'<span class="pill" style="color:{fg};background:{bg}">{escape(text)}</span>'


def render_section(section: Section) -> str:
    if not section.available:
        return (
            f'<section id="{section.id}" class="unavailable"><h2>{escape(section.title)}</h2>'
            f'<p class="lede"><b>Not available in this published file.</b> {escape(section.reason)}</p></section>'
        )
    lede = f'<p class="lede">{section.lede}</p>' if section.lede else ""
    return f'<section id="{section.id}"><h2>{escape(section.title)}</h2>{lede}{section.body}</section>'


def render_kpi(kpi: Kpi) -> str:
    return (
        f'<div class="kpi" style="border-left-color:{kpi.color}"><div class="label">{escape(kpi.label)}</div>'
        f'<div class="value">{escape(kpi.value)}{kpi.badge}</div><div class="sub">{kpi.sub}</div>{kpi.extra}</div>'
    )


def render_page(page: Page) -> str:
    toc = " ".join(f'<a href="#{s.id}">{escape(s.title)}</a>' for s in page.sections)
    banners = "".join(f'<div class="banner {kind}">{content}</div>' for kind, content in page.banners)
    kpis = "".join(render_kpi(k) for k in page.kpis)
    sections = "".join(render_section(s) for s in page.sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head><body>"
        f'<header class="top"><h1>{escape(page.title)}</h1><div class="meta">{page.meta}</div></header>'
        f'<main><p class="story" id="story">{page.story}</p>{banners}'
        f'<div class="kpis" id="kpis">{kpis}</div><nav class="toc">{toc}</nav>{sections}'
        f"<footer>{page.footer}</footer></main></body></html>\n"
    )
