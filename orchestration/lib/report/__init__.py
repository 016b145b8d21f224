"""The metrics report: one self-contained HTML page built from a published file.

`build_report` reads only the published marts (a read-only connection), draws every
chart as inline SVG and writes a single HTML file that needs no network to view.
Publishing writes it beside published.duckdb (`Settings.report_path`); `gtm report`
rebuilds it from any published file.

The report does no metric arithmetic: every number it shows is read from a mart
(the trailing-window figures from the headline marts), and the commercial-ratio bands
are drawn at the thresholds the file was published with (marts.commercial_ratio_bands),
the same that gave each period its published band.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from orchestration.lib.report import fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.context import Context
from orchestration.lib.report.headline import headline
from orchestration.lib.report.sections import SECTION_IDS, build_sections
from orchestration.lib.report.template import Page, render_page

__all__ = ["SECTION_IDS", "ReportResult", "build_report", "render_after_publish",
           "render_report"]


@dataclass(frozen=True)
class ReportResult:
    path: Path
    sections: int  # sections rendered with data
    unavailable: list[str]  # ids of sections whose mart is missing from the file
    seconds: float


def render_report(published_db: Path, now: dt.datetime | None = None) -> tuple[str, list[str]]:
    """The report's HTML for a published file, and the ids of unavailable sections."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with q.open_published(published_db) as db:
        try:
            thresholds = q.band_thresholds(db)
        except q.NotAvailable:
            thresholds = None
        ctx = Context(db=db, thresholds=thresholds, now=now)
        try:
            ctx.publication = q.publication(db)
        except q.NotAvailable:
            ctx.publication = None
        story, kpis = headline(ctx)
        sections = build_sections(ctx)
    banners = _banners(ctx)
    pub = ctx.publication
    meta = [f"as of <b>{fmt.date(ctx.as_of)}</b>"] if ctx.as_of else ["as-of date not recorded"]
    if pub:
        meta.append(f"published {fmt.date(pub.row.get('published_at'))}")
        if pub.checks("passed") is not None:
            meta.append(f"checks: <b>{pub.checks('passed')}</b> passed, <b>{pub.checks('warned')}</b> warned, "
                        f"<b>{pub.checks('failed')}</b> failed")
        meta.append(f"amounts in {escape(ctx.currency)}")
    meta.append(f"report built {fmt.date(now)}")
    meta.append(f"from <code style='color:#e2e8f0'>{escape(str(published_db))}</code>")
    page = Page(
        title="Go-to-market metrics",
        meta=" · ".join(meta),
        story=story,
        kpis=kpis,
        sections=sections,
        banners=banners,
        footer="Built by gtm-warehouse from the published marts (read-only). Every metric is defined in "
        "docs/metrics.md and in the dbt docs (<code>gtm docs</code>); query the same numbers with "
        "<code>gtm sql</code>.",
    )
    return render_page(page), [s.id for s in sections if not s.available]


def build_report(published_db: Path, out: Path, now: dt.datetime | None = None) -> ReportResult:
    """Write the report for `published_db` to `out` (atomically: a reader never sees half a page)."""
    started = time.monotonic()
    html, unavailable = render_report(published_db, now)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    partial.write_text(html, encoding="utf-8")
    os.replace(partial, out)
    return ReportResult(out, len(SECTION_IDS) - len(unavailable), unavailable, time.monotonic() - started)


def render_after_publish(published_db: Path, out: Path, warn: Callable[[str], None]) -> ReportResult | None:
    """Publishing's hook: write the report, but never fail the publication over it."""
    try:
        return build_report(published_db, out)
    except Exception as error:  # a report is a convenience; the publication stands
        warn(f"The metrics report could not be written to {out}: {type(error).__name__}: {error}")
        return None


def _banners(ctx: Context) -> list[tuple[str, str]]:
    pub = ctx.publication
    if pub is None:
        return [("warn", "This file has no publication record (<code>marts.publication</code>): its freshness and "
                 "checks are unknown.")]
    warned, failed = pub.checks("warned"), pub.checks("failed")
    banners = []
    if pub.checks("passed") is None:
        banners.append(("warn", "This publication does not record its checks (published by an older version): "
                        "how many passed or warned is unknown."))
    if failed:
        banners.append(("fail", f"<b>{failed} check(s) failed</b> in this publication. "
                        '<a href="#publication">See the publication record.</a>'))
    if warned:
        banners.append(("warn", f"<b>⚠ {warned} check(s) warned</b> in this publication: the numbers are "
                        "published, but read the warnings before relying on them. "
                        '<a href="#publication">See the publication record.</a>'))
    return banners
