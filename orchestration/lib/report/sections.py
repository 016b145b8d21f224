"""The sections of the metrics report: each reads its marts (queries.py), draws its
charts (charts.py) and says in one line how to read each one.

A section whose mart is missing from the published file comes back as "not
available" with the reason; it never stops the rest of the report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

import duckdb

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import Band, HBar, Series, Step
from orchestration.lib.report.template import Kpi, Section, figure, legend, pill, table

METRICS_DOC = "METRICS.md"
INK = "#1a202c"
BLUE, ORANGE, GREEN, PURPLE, RED, TEAL, GREY = (
    "#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#718096",
)  # fmt: skip
# band -> (strong colour, light fill)
BAND_STYLES = {
    "unsustainable": ("#c53030", "#fde8e8"),
    "balanced": ("#b7791f", "#fdf3d8"),
    "efficient": ("#2f855a", "#e3f4e8"),
    "under_invested": ("#2b6cb0", "#e3edfb"),
}
BAND_NAMES = {"unsustainable": "unsustainable", "balanced": "balanced", "efficient": "efficient",
              "under_invested": "under-invested"}


@dataclass
class Context:
    db: q.PublishedFile
    thresholds: tuple[float, float, float] | None  # as published (marts.commercial_ratio_bands); None: not recorded
    now: dt.datetime
    publication: q.Publication | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date | None:
        return self.publication.as_of_date if self.publication else None

    @property
    def currency(self) -> str:
        return self.publication.currency if self.publication else "USD"

    def money(self, value: float | None) -> str:
        return fmt.money(value, self.currency)

    def money_axis(self, value: float | None) -> str:
        return fmt.money(value, self.currency, trim=True)

    def money_full(self, value: float | None) -> str:
        return fmt.money_full(value, self.currency)

    def data(self, name: str, load: Callable[[], Any]) -> Any:
        """Each mart is read once, even when the headline and its section both use it;
        a NotAvailable is remembered too."""
        if name not in self.cache:
            try:
                self.cache[name] = load()
            except q.NotAvailable as error:
                self.cache[name] = error
        value = self.cache[name]
        if isinstance(value, q.NotAvailable):
            raise value
        return value


# -- bands ----------------------------------------------------------------------------


def ratio_bands(thresholds: tuple[float, float, float] | None) -> list[Band]:
    if thresholds is None:
        return []
    t1, t2, t3 = thresholds
    return [
        Band(None, t1, BAND_STYLES["unsustainable"][1], f"unsustainable < {t1:g}"),
        Band(t1, t2, BAND_STYLES["balanced"][1], f"balanced {t1:g}{fmt.DASH}{t2:g}"),
        Band(t2, t3, BAND_STYLES["efficient"][1], f"efficient {t2:g}{fmt.DASH}{t3:g}"),
        Band(t3, None, BAND_STYLES["under_invested"][1], f"under-invested > {t3:g}"),
    ]


def band_legend(thresholds: tuple[float, float, float] | None) -> str:
    if thresholds is None:
        return ""
    return legend([(band.label, band.color, "box") for band in ratio_bands(thresholds)])


def band_pill(band: str | None) -> str:
    if not band:
        return ""
    strong, light = BAND_STYLES.get(band, (GREY, "#edf2f7"))
    return pill(BAND_NAMES.get(band, band), strong, light)


def _why_no_ratio(row: dict[str, Any]) -> str:
    if row["prior_revenue"] is None:
        return "no prior period in the data"
    if not row["is_complete"]:
        return "period not complete yet"
    return "no sales & marketing expense"


def _shift_months(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _latest(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((r for r in reversed(rows) if r.get(key) is not None), None)


def _guard(section_id: str, title: str, build: Callable[[], Section]) -> Section:
    """A section, or its "not available" stand-in when its mart is missing or older."""
    try:
        return build()
    except q.NotAvailable as error:
        return Section(section_id, title, available=False, reason=str(error))
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        first = str(error).strip().splitlines()[0]
        return Section(section_id, title, available=False,
                       reason=f"This published file does not have what this section reads ({first}).")


# -- headline -------------------------------------------------------------------------


VERDICTS = {
    "unsustainable": "growth does not pay for the sales &amp; marketing spend",
    "balanced": "growth and sales &amp; marketing spend are in balance",
    "efficient": "sales &amp; marketing spend is buying growth efficiently",
    "under_invested": "growth would justify more sales &amp; marketing spend",
}


def headline(ctx: Context) -> tuple[str, list[Kpi]]:
    """The first screen: a one-line verdict, a paragraph of story and six tiles."""
    verdict: list[str] = []
    story: list[str] = []
    kpis: list[Kpi] = []
    gauge_colors = [BAND_STYLES[b][0] for b in ("unsustainable", "balanced", "efficient", "under_invested")]
    currency = fmt.symbol(ctx.currency).strip()
    metrics = _try(lambda: ctx.data("headline", lambda: q.headline_metrics(ctx.db)))

    def gauge(ratio: float, label: str) -> str:
        if ctx.thresholds is None:
            return ""
        return charts.band_gauge(ratio, ctx.thresholds, gauge_colors, label=label)

    mrr = _try(lambda: ctx.data("mrr", lambda: q.mrr_movements(ctx.db)))
    if mrr:
        last = mrr[-1]
        arr = (metrics or {}).get("arr", {}).get("value")
        growth = (metrics or {}).get("arr_growth", {}).get("value")
        if arr is not None and growth is not None:
            verdict.append(f"ARR {'up' if growth >= 0 else 'down'} {fmt.pct(abs(growth), 0)} in a year to "
                           f"{ctx.money(arr)}")
        elif arr is not None:
            verdict.append(f"ARR {ctx.money(arr)}")
        story.append(f"{fmt.count(last['customers_end'])} paying accounts ({fmt.month(last['month'])}).")

    grains = _try(lambda: ctx.data("ratio", lambda: q.commercial_ratio(ctx.db)))
    if grains is None:
        kpis.append(_missing_kpi("Commercial ratio (fiscal year)", "commercial_ratio"))
        kpis.append(_missing_kpi("Commercial ratio TTM", "commercial_ratio"))
    else:
        fy = _latest(grains.get("fiscal_year", []), "commercial_ratio")
        ttm_rows = grains.get("ttm", [])
        ttm = _latest(ttm_rows, "commercial_ratio")
        if fy:
            kpis.append(Kpi(
                f"Commercial ratio {fy['period_label']}", fmt.ratio(fy["commercial_ratio"]),
                sub=f"revenue growth {ctx.money(fy['revenue_growth'])} on S&amp;M {ctx.money(fy['sm_expense'])}",
                color=BAND_STYLES.get(fy["band"], (GREY,))[0], badge=" " + band_pill(fy["band"]),
                extra=gauge(fy["commercial_ratio"], f"{fy['period_label']} on the bands"),
            ))
        else:
            kpis.append(Kpi("Commercial ratio (fiscal year)", fmt.MISSING,
                            sub="no complete fiscal year with a prior year yet"))
        if ttm:
            change = (metrics or {}).get("commercial_ratio_ttm_change")
            trend, direction = "", ""
            if change and change["value"] is not None and change["window_end"] == ttm["period_end"]:
                delta, before = change["value"], change["compared_value"]
                arrow = "▲" if delta > 0 else "▼" if delta < 0 else "■"
                trend = f"{arrow} {fmt.signed_ratio(delta)} vs a year earlier ({fmt.ratio(before)})"
                direction = f", {'down' if delta < 0 else 'up'} from {before:.2f} a year earlier"
            kpis.append(Kpi(
                "Commercial ratio TTM", fmt.ratio(ttm["commercial_ratio"]),
                sub=f"12 months to {fmt.month(ttm['period_end'])}" + (f" · {trend}" if trend else ""),
                color=BAND_STYLES.get(ttm["band"], (GREY,))[0], badge=" " + band_pill(ttm["band"]),
                extra=gauge(ttm["commercial_ratio"], f"{ttm['period_label']} on the bands"),
            ))
            if ttm["band"] in VERDICTS:
                text = f"{VERDICTS[ttm['band']]}: TTM commercial ratio {ttm['commercial_ratio']:.2f}{direction}"
                if verdict:
                    verdict[-1] += "," if ttm["band"] == "unsustainable" else ";"
                    text = ("but " if ttm["band"] == "unsustainable" else "") + text
                else:
                    text = text[0].upper() + text[1:]
                verdict.append(text)
            story.append(
                f"Over the 12 months to {fmt.month(ttm['period_end'])} each {currency}1 of sales &amp; marketing "
                f"bought <b>{currency}{ttm['commercial_ratio']:.2f}</b> of new annual revenue: "
                f"<b>{escape(BAND_NAMES.get(ttm['band'], ttm['band'] or ''))}</b>"
                + (" (bands at {:g} / {:g} / {:g}).".format(*ctx.thresholds) if ctx.thresholds else ".")
            )
        else:
            kpis.append(Kpi("Commercial ratio TTM", fmt.MISSING, sub="needs two years of data"))

    retention = _try(lambda: ctx.data("retention", lambda: q.revenue_retention(ctx.db)))
    latest = _latest(retention or [], "nrr")
    if latest:
        month = fmt.month(latest["month"])
        recent = retention[-24:]
        kpis.append(Kpi("Net revenue retention", fmt.pct(latest["nrr"]),
                        sub=f"{month}: what the {fmt.count(latest['cohort_customers'])} accounts paying a year "
                            "earlier pay now, expansion included",
                        color=GREEN if latest["nrr"] >= 1 else ORANGE,
                        extra=charts.sparkline([r["nrr"] for r in recent], GREEN, ref=1.0,
                                               label="NRR, last 24 months")))
        kpis.append(Kpi("Gross revenue retention", fmt.pct(latest["grr"]),
                        sub=f"{month}: the same, each account capped at what it paid a year earlier",
                        color=BLUE,
                        extra=charts.sparkline([r["grr"] for r in recent], BLUE, label="GRR, last 24 months")))
        story.append(
            f"Accounts paying a year ago now pay <b>{fmt.pct(latest['nrr'])}</b> of what they did (NRR), "
            f"<b>{fmt.pct(latest['grr'])}</b> without expansion (GRR)."
        )
    elif retention is not None:
        kpis.append(Kpi("Net revenue retention", fmt.MISSING, sub="needs 13 months of MRR"))
        kpis.append(Kpi("Gross revenue retention", fmt.MISSING, sub="needs 13 months of MRR"))
    else:
        kpis.append(_missing_kpi("Net revenue retention", "revenue_retention"))
        kpis.append(_missing_kpi("Gross revenue retention", "revenue_retention"))

    renewal_rows = _try(lambda: ctx.data("renewals", lambda: q.renewals(ctx.db)))
    logo = (metrics or {}).get("logo_renewal_rate")
    if renewal_rows is None:
        kpis.append(_missing_kpi("Logo renewal rate", "renewals"))
    elif metrics is None:
        kpis.append(_missing_kpi("Logo renewal rate", "headline_metrics"))
    elif logo and logo["window_end"] is not None:
        window = fmt.months_between(logo["window_start"], logo["window_end"])
        renewed, expiring = fmt.count(logo["numerator"]), fmt.count(logo["denominator"])
        mature = [r["logo_renewal_rate"] for r in renewal_rows if r["is_mature"]][-24:]
        kpis.append(Kpi("Logo renewal rate", fmt.pct(logo["value"]),
                        sub=f"{renewed} of {expiring} accounts with contracts expiring {window} renewed",
                        color=PURPLE,
                        extra=charts.sparkline(mature, PURPLE, label="Logo renewal rate by expiry month")))
        story.append(f"<b>{fmt.pct(logo['value'], 0)}</b> of expiring accounts renewed.")
    else:
        kpis.append(Kpi("Logo renewal rate", fmt.MISSING, sub="no mature expiry month yet"))

    funnel = _try(lambda: ctx.data("lead_funnel", lambda: q.lead_funnel(ctx.db)))
    if funnel is not None:
        if funnel.first:
            total = funnel.total
            window = fmt.months_between(funnel.first, funnel.last)
            kpis.append(Kpi("Lead-to-won rate", fmt.pct(total["lead_to_won_rate"], 2),
                            sub=f"{fmt.count(total['won'])} won of {fmt.count(total['leads'])} leads in the mature "
                                f"cohorts {window}",
                            color=TEAL,
                            extra=charts.sparkline(funnel.trend, TEAL, label="Lead-to-won rate by mature cohort")))
            best = funnel.channels[0] if funnel.channels else None
            if best and best["lead_to_won_rate"] is not None:
                story.append(
                    f"<b>{fmt.pct(total['lead_to_won_rate'], 2)}</b> of leads end up won; "
                    f"{escape(best['channel'])} converts best ({fmt.pct(best['lead_to_won_rate'], 1)})."
                )
        else:
            kpis.append(Kpi("Lead-to-won rate", fmt.MISSING, sub="no mature lead cohort yet"))
    else:
        kpis.append(_missing_kpi("Lead-to-won rate", "lead_funnel"))
    if not story and not verdict:
        story.append("This published file has too little data for a headline yet; the sections below say why.")
    head = f'<span class="verdict">{" ".join(verdict)}.</span> ' if verdict else ""
    return head + " ".join(story), kpis


def _missing_kpi(label: str, mart: str) -> Kpi:
    return Kpi(label, fmt.MISSING, sub=f"not available: marts.{mart} is not in this published file")


def _try(load: Callable[[], Any]) -> Any:
    try:
        return load()
    except q.NotAvailable:
        return None


# -- commercial ratio -------------------------------------------------------------------


def commercial_ratio_section(ctx: Context) -> Section:
    grains = ctx.data("ratio", lambda: q.commercial_ratio(ctx.db))
    bands = ratio_bands(ctx.thresholds)
    include = [0.0, ctx.thresholds[2] * 1.15] if ctx.thresholds else [0.0]
    body: list[str] = []

    ttm = grains.get("ttm", [])
    # Start where the ratio does: the first two years of data have no prior twelve months.
    with_ratio = [i for i, r in enumerate(ttm) if r["commercial_ratio"] is not None]
    if with_ratio:
        ttm = ttm[with_ratio[0] : with_ratio[-1] + 1]
    svg = charts.line_chart(
        [fmt.month_short(r["period_end"]) for r in ttm],
        [Series("TTM commercial ratio", [r["commercial_ratio"] for r in ttm], INK)],
        fmt.ratio, label="Commercial ratio, trailing twelve months", bands=bands, include=include, height=280,
    )
    body.append(figure(
        svg, "each point is the last 12 months' revenue growth (over the 12 months before) divided by the last 12 "
        "months' sales &amp; marketing expense; the shaded band it sits in is its verdict. The line starts once "
        "two full years of data exist and ends at the last complete month.",
        title="Trailing twelve months, month by month", legend=band_legend(ctx.thresholds),
    ))

    def bars(rows: list[dict[str, Any]], title: str, guide: str) -> str:
        svg = charts.bar_chart(
            [r["period_label"] for r in rows],
            [Series("commercial ratio", [r["commercial_ratio"] for r in rows], INK)],
            fmt.ratio, label=f"Commercial ratio by {title.lower()}", bands=bands, include=include,
            bar_colors=[BAND_STYLES.get(r["band"], (None,))[0] for r in rows],
            missing_notes=[_why_no_ratio(r) for r in rows], width=560, height=250,
        )
        return figure(svg, guide, title=title, legend=band_legend(ctx.thresholds))

    body.append('<div class="grid2">' + bars(
        grains.get("fiscal_year", []), "Fiscal years",
        "one bar per fiscal year, coloured by its band; n/a means no prior year in the data or the year is not over.",
    ) + bars(
        grains.get("fiscal_quarter", [])[-12:], "Fiscal quarters (last 12)",
        "growth over the quarter before &times;4 (annualised) divided by the quarter's S&amp;M expense, so the "
        "same bands apply; single quarters swing more than years.",
    ) + "</div>")

    rows = [
        [r["period_label"], ctx.money(r["revenue"]), ctx.money(r["prior_revenue"]), ctx.money(r["revenue_growth"]),
         ctx.money(r["marketing_expense"]), ctx.money(r["sales_expense"]), ctx.money(r["sm_expense"]),
         fmt.ratio(r["commercial_ratio"]), BAND_NAMES.get(r["band"], r["band"] or fmt.MISSING),
         "yes" if r["is_complete"] else "in progress"]
        for r in grains.get("fiscal_year", [])
    ]
    body.append(table(["fiscal year", "revenue", "prior revenue", "growth", "marketing", "sales", "S&M expense",
                       "ratio", "band", "complete"], rows, text_columns=(0, 8, 9)))

    if ctx.thresholds:
        t1, t2, t3 = ctx.thresholds
        body.append(f'<p class="note">Bands at {t1:g} / {t2:g} / {t3:g}: the thresholds this file was published with '
                    "(<code>marts.commercial_ratio_bands</code>), which gave each period its band.</p>")
        reading = (f" Below {t1:g} the growth does not pay for the spend; above {t3:g} the company could afford to "
                   "spend more.")
    else:
        body.append('<p class="note">This file does not record its band thresholds (published by an older '
                    "version): the bands are not drawn; the band names in the table are the ones published.</p>")
        reading = ""
    return Section(
        "commercial-ratio", "Commercial ratio",
        lede="Revenue growth divided by the sales &amp; marketing expense that produced it (<code>marts."
        f"commercial_ratio</code>, {METRICS_DOC} “Commercial ratio”).{reading}",
        body="".join(body),
    )


def growth_section(ctx: Context) -> Section:
    grains = ctx.data("ratio", lambda: q.commercial_ratio(ctx.db))
    ttm = [r for r in grains.get("ttm", []) if r["is_complete"] and r["revenue_growth"] is not None]
    body: list[str] = []
    labels = [fmt.month_short(r["period_end"]) for r in ttm]
    svg = charts.line_chart(
        labels,
        [Series("revenue growth (TTM vs prior TTM)", [r["revenue_growth"] for r in ttm], GREEN),
         Series("S&M expense (TTM)", [r["sm_expense"] for r in ttm], ORANGE, dashed=True)],
        ctx.money_axis, label="TTM revenue growth against TTM sales and marketing expense", height=260,
    )
    body.append(figure(
        svg, "where the green line (new annual revenue) runs above the orange one (what sales &amp; marketing "
        "cost over the same 12 months) the ratio is above 1; the gap between them is the story of the ratio.",
        title="Revenue growth against sales & marketing expense, trailing twelve months",
        legend=legend([("revenue growth", GREEN, "line"), ("S&M expense", ORANGE, "dash")]),
    ))
    quarters = grains.get("fiscal_quarter", [])[-8:]
    complete = [r for r in quarters if r["is_complete"]]
    svg = charts.bar_chart(
        [r["period_label"] for r in complete],
        [Series(f"revenue growth {fmt.TIMES}4 (annualised)",
                [None if r["revenue_growth"] is None else 4 * r["revenue_growth"] for r in complete], GREEN),
         Series("S&M expense", [r["sm_expense"] for r in complete], ORANGE)],
        ctx.money_axis, label="Quarterly annualised revenue growth and S&M expense", height=240, value_labels=False,
    )
    body.append(figure(
        svg, "per fiscal quarter, growth over the quarter before &times;4 (green) beside the quarter's S&amp;M expense "
        "(orange); where green is taller the quarter's ratio is above 1. Complete quarters only.",
        title="By fiscal quarter",
        legend=legend([(f"revenue growth {fmt.TIMES}4", GREEN, "box"), ("S&M expense", ORANGE, "box")]),
    ))
    rows = [
        [r["period_label"], ctx.money(r["revenue"]), ctx.money(r["revenue_growth"]), ctx.money(r["marketing_expense"]),
         ctx.money(r["sales_expense"]), fmt.ratio(r["commercial_ratio"]),
         "yes" if r["is_complete"] else "in progress"]
        for r in quarters
    ]
    body.append(table(["quarter", "revenue", "growth", "marketing", "sales", "ratio", "complete"], rows,
                      text_columns=(0, 6)))
    return Section(
        "growth-vs-spend", "Revenue growth against sales & marketing expense",
        lede="The two halves of the commercial ratio: recognized revenue growth and the marketing and sales "
        "spend dated in the same period (<code>marts.commercial_ratio</code>).",
        body="".join(body),
    )


# -- funnels ----------------------------------------------------------------------------


def lead_funnel_section(ctx: Context) -> Section:
    funnel: q.LeadFunnel = ctx.data("lead_funnel", lambda: q.lead_funnel(ctx.db))
    if not funnel.first:
        return Section("lead-funnel", "Lead funnel and conversion by channel",
                       lede="No lead cohort is mature yet (<code>is_mature</code>): come back once the first cohort "
                       "is old enough.")
    window = fmt.months_between(funnel.first, funnel.last)
    total = funnel.total
    bars = []
    previous = None
    for key, name in q.FUNNEL_STAGES:
        note = ""
        if previous is not None:
            note = f"{fmt.pct(total[q.STAGE_RATES[key]])} of {dict(q.FUNNEL_STAGES)[previous]}"
        bars.append(HBar(name, total[key], TEAL, note))
        previous = key
    funnel_svg = charts.hbar_chart(bars, fmt.count, label="Lead funnel, mature cohorts", width=560,
                                   label_width=90)
    channel_svg = charts.hbar_chart(
        [HBar(c["channel"], c["lead_to_won_rate"], BLUE, f"{fmt.count(c['won'])} of {fmt.count(c['leads'])}")
         for c in funnel.channels],
        lambda v: fmt.pct(v, 2), label="Lead-to-won rate by channel", width=560, label_width=110,
    )
    body = ['<div class="grid2">', figure(
        funnel_svg, "how many leads reached each stage (a later stage counts the earlier ones); the note is the "
        "share of the stage before that made it.", title="From lead to won",
    ), figure(
        channel_svg, "the share of each channel's leads that ended in a won deal; the note is won of leads.",
        title="Lead-to-won rate by channel",
    ), "</div>"]
    rows = [
        [c["channel"], fmt.count(c["leads"]), fmt.pct(c["mql_rate"]), fmt.pct(c["sql_rate"]),
         fmt.pct(c["opportunity_rate"]), fmt.pct(c["win_rate"]), fmt.pct(c["lead_to_won_rate"], 2),
         ctx.money(c["won_amount"])]
        for c in funnel.channels
    ]
    rows.append(["all channels", fmt.count(total["leads"]), fmt.pct(total["mql_rate"]), fmt.pct(total["sql_rate"]),
                 fmt.pct(total["opportunity_rate"]), fmt.pct(total["win_rate"]),
                 fmt.pct(total["lead_to_won_rate"], 2), ctx.money(total["won_amount"])])
    body.append(table(["channel", "leads", "lead→MQL", "MQL→SQL", "SQL→opp", "opp→won", "lead→won", "won amount"],
                      rows, row_classes=[""] * (len(rows) - 1) + ["total"]))
    return Section(
        "lead-funnel", "Lead funnel and conversion by channel",
        lede=f"Leads created in the {funnel.cohort_months} latest mature cohort months ({window}; a cohort is mature "
        "once it is <code>funnel_maturity_days</code> old), all segments, from <code>marts.lead_funnel_trailing"
        f"</code>. Rates are recomputed from the summed counts, as {METRICS_DOC} “Lead funnel” defines them.",
        body="".join(body),
    )


def opportunity_funnel_section(ctx: Context) -> Section:
    mature: tuple[dt.date, dt.date] | None = None
    with contextlib.suppress(q.NotAvailable):
        lead_funnel = ctx.data("lead_funnel", lambda: q.lead_funnel(ctx.db))
        mature = (lead_funnel.first, lead_funnel.last) if lead_funnel.first else None
    funnel = q.opportunity_funnel(ctx.db, mature, ctx.as_of)
    if not funnel.stages:
        return Section("opportunity-funnel", "Opportunity stages: conversion and time in stage",
                       lede="No opportunity cohort is old enough yet.")
    window = fmt.months_between(*funnel.cohorts)
    names = [s["stage"] for s in funnel.stages]
    svg = charts.bar_chart(
        names,
        [Series("entered", [s["entered"] for s in funnel.stages], "#a0aec0"),
         Series("advanced", [s["advanced"] for s in funnel.stages], BLUE)],
        fmt.count, label="Opportunities entering and advancing from each stage", width=560, height=250,
    )
    days_svg = charts.hbar_chart(
        [HBar(s["stage"], s["typical_days"], PURPLE, f"→ {fmt.pct(s['conversion_rate'], 0)} advance")
         for s in funnel.stages],
        fmt.days, label="Typical days to the next stage", width=560, label_width=110,
    )
    body = ['<div class="grid2">', figure(
        svg, "grey is how many opportunities reached a stage, blue how many went on to the next (for the last "
        "stage: won); the smaller the step down, the better the stage converts.",
        title="Entered and advanced, per stage",
        legend=legend([("entered", "#a0aec0", "box"), ("advanced", BLUE, "box")]),
    ), figure(
        days_svg, "the typical number of days from first entering a stage to entering the next (the median of "
        "the cohort groups' medians); long bars are where deals wait.",
        title="Time in stage",
    ), "</div>"]
    headers = ["stage", "entered", "advanced", "conversion", "won", "lost", "open", "typical days"]
    headers += [f"conv. {t.replace('_', ' ')}" for t in funnel.types]
    rows = []
    for s in funnel.stages:
        row = [s["stage"], fmt.count(s["entered"]), fmt.count(s["advanced"]), fmt.pct(s["conversion_rate"]),
               fmt.count(s["won"]), fmt.count(s["lost"]), fmt.count(s["open"]), fmt.days(s["typical_days"])]
        row += [fmt.pct(funnel.by_type[t].get(s["stage_order"])) for t in funnel.types]
        rows.append(row)
    body.append(table(headers, rows))
    return Section(
        "opportunity-funnel", "Opportunity stages: conversion and time in stage",
        lede=f"Opportunities created in {window} (the same mature cohorts as the lead funnel), all segments, from "
        "<code>marts.opportunity_funnel</code>: conversion = advanced / entered per stage of the stage mapping.",
        body="".join(body),
    )


def win_rates_section(ctx: Context) -> Section:
    wins = q.win_rates(ctx.db)
    if not wins.months:
        return Section("win-rates", "Win rates", lede="No opportunity has closed yet.")
    labels = [fmt.month_short(m) for m in wins.months]
    colors = [ORANGE, GREEN, PURPLE, TEAL, RED]
    series = [Series("all opportunities (month)", wins.overall, INK)]
    series += [Series(f"{kind.replace('_', ' ')} (3 months)", values, colors[i % len(colors)], dashed=True,
                      markers=False)
               for i, (kind, values) in enumerate(wins.by_type.items())]
    svg = charts.line_chart(labels, series, lambda v: fmt.pct(v, 0), label="Win rate by close month",
                            domain=(0.0, 1.0), height=250, point_fmt=fmt.pct)
    body = [figure(
        svg, "of the opportunities closed in a month, the share won (won / (won + lost)); the dashed lines split "
        "it by opportunity type, each over the three months to date because single months of one type are few.",
        title="Win rate by month of close",
        legend=legend([(s.name, s.color, "dash" if s.dashed else "line") for s in series]),
    )]
    window = fmt.months_between(*wins.window)
    rows = [
        [s["segment"], fmt.count(s["won"]), fmt.count(s["lost"]), fmt.pct(s["win_rate"]), ctx.money(s["won_amount"]),
         ctx.money(s["avg_won_amount"]), fmt.days(s["median_sales_cycle_days"]) if wins.exact_cycle else fmt.MISSING]
        for s in wins.segments
    ]
    body.append(f'<p class="note">Closed {window}, by segment:</p>')
    body.append(table(["segment", "won", "lost", "win rate", "won amount", "average deal", "median sales cycle"],
                      rows))
    return Section(
        "win-rates", "Win rates",
        lede="Closed opportunities by month of close_date (<code>marts.win_rates</code>); the sales cycle is "
        "close_date minus created_at over won deals (<code>marts.fct_opportunities</code>).",
        body="".join(body),
    )


def channel_section(ctx: Context) -> Section:
    eff = q.channel_efficiency(ctx.db, ctx.as_of)
    if not eff.channels:
        return Section("channel-efficiency", "Channel efficiency", lede="No complete fiscal quarter yet.")
    first, last = eff.quarters[0], eff.quarters[-1]
    window = fmt.months_between(first, _shift_months(last, 2))
    ros = charts.hbar_chart(
        [HBar(c["channel"], c["return_on_spend"], GREEN,
              f"{ctx.money(c['won_amount'])} on {ctx.money(c['spend'])}") for c in eff.channels],
        lambda v: f"{v:.2f}{fmt.TIMES}", label="Return on spend by channel", width=560, label_width=110,
    )
    by_cost = sorted(eff.channels, key=lambda c: (c["cost_per_win"] is None, c["cost_per_win"] or 0))
    cpw = charts.hbar_chart(
        [HBar(c["channel"], c["cost_per_win"], ORANGE, f"{fmt.count(c['won'])} won") for c in by_cost],
        ctx.money_axis, label="Cost per win by channel", width=560, label_width=110,
    )
    body = ['<div class="grid2">', figure(
        ros, "won amount per unit of spend: above 1&times; the channel's leads won more than the channel cost. "
        "Leads of the latest quarters may still convert.", title="Return on spend",
    ), figure(
        cpw, "spend divided by the leads won; n/a where nothing was won or nothing spent.", title="Cost per win",
    ), "</div>"]
    rows = [
        [c["channel"], ctx.money(c["spend"]), fmt.count(c["leads"]), fmt.count(c["opportunities"]),
         fmt.count(c["won"]), ctx.money(c["won_amount"]), ctx.money(c["cost_per_lead"]),
         ctx.money(c["cost_per_opportunity"]), ctx.money(c["cost_per_win"]),
         fmt.MISSING if c["return_on_spend"] is None else f"{c['return_on_spend']:.2f}{fmt.TIMES}"]
        for c in eff.channels
    ]
    body.append(table(["channel", "spend", "leads", "opps", "won", "won amount", "per lead", "per opp", "per win",
                       "return"], rows))
    return Section(
        "channel-efficiency", "Channel efficiency",
        lede=f"The last {len(eff.quarters)} complete fiscal quarters ({window}) of <code>marts.channel_efficiency"
        "</code>: all marketing and sales spend by channel (salaries and other spend without a channel are "
        "“(unattributed)”), against the leads created in those quarters and their outcomes to date.",
        body="".join(body),
    )


# -- MRR, retention, renewals ----------------------------------------------------------

MOVEMENTS = (("new_mrr", "new", GREEN), ("reactivation_mrr", "reactivation", TEAL),
             ("expansion_mrr", "expansion", "#68d391"), ("contraction_mrr", "contraction", ORANGE),
             ("churned_mrr", "churn", RED))


def _waterfall(ctx: Context, rows: list[dict[str, Any]], title: str, guide: str) -> str:
    steps = [Step(f"start {fmt.month_short(rows[0]['month'])}", rows[0]["starting_mrr"], "total")]
    steps += [Step(name, sum(r[key] for r in rows)) for key, name, _ in MOVEMENTS]
    steps.append(Step(f"end {fmt.month_short(rows[-1]['month'])}", rows[-1]["ending_mrr"], "total"))
    svg = charts.waterfall_chart(steps, ctx.money_axis, label=title, width=560)
    return figure(svg, guide, title=title)


def mrr_section(ctx: Context) -> Section:
    rows = ctx.data("mrr", lambda: q.mrr_movements(ctx.db))
    if not rows:
        return Section("mrr-movements", "MRR movements", lede="No subscription has started yet.")
    complete = [r for r in rows if ctx.as_of is None or r["month"] < ctx.as_of.replace(day=1)] or rows
    latest = complete[-1:]
    year = rows[-12:]
    body = ['<div class="grid2">', _waterfall(
        ctx, latest, f"{fmt.month(latest[0]['month'])}",
        "from the month's starting MRR, new and reactivated accounts and expansions add (green), contractions and "
        "churn take away (orange, red), ending at the month's MRR.",
    ), _waterfall(
        ctx, year, f"Last {len(year)} months",
        "the same over the last twelve months: the movements summed, from the MRR at the start to the MRR now.",
    ), "</div>"]
    recent = rows[-24:]
    labels = [fmt.month_short(r["month"]) for r in recent]
    svg = charts.stacked_bar_chart(
        labels, [Series(name, [r[key] for r in recent], color) for key, name, color in MOVEMENTS], ctx.money_axis,
        label="MRR movements per month", net=[r["ending_mrr"] - r["starting_mrr"] for r in recent],
    )
    body.append(figure(
        svg, "each month's waterfall side by side: gains stack up from zero, losses down; the black dash is the "
        "net change (ending minus starting MRR).",
        title=f"Movements per month (last {len(recent)})",
        legend=legend([(name, color, "box") for _, name, color in MOVEMENTS] + [("net change", INK, "line")]),
    ))
    table_rows = [
        [fmt.month(r["month"]), ctx.money(r["starting_mrr"]), ctx.money(r["new_mrr"]), ctx.money(r["reactivation_mrr"]),
         ctx.money(r["expansion_mrr"]), ctx.money(r["contraction_mrr"]), ctx.money(r["churned_mrr"]),
         ctx.money(r["ending_mrr"]), fmt.count(r["customers_end"])]
        for r in reversed(rows[-12:])
    ]
    body.append(table(["month", "starting", "new", "reactivation", "expansion", "contraction", "churn", "ending",
                       "accounts"], table_rows))
    note = "" if ctx.as_of is None else (
        f" The month of the as-of date ({fmt.month(ctx.as_of.replace(day=1))}) is measured on the as-of date.")
    return Section(
        "mrr-movements", "MRR movements",
        lede="Monthly recurring revenue (sum of ARR/12 of the subscriptions active on each month's last day) and "
        "what moved it, from <code>marts.mrr_movements</code>: starting + new + reactivation + expansion + "
        f"contraction + churn = ending.{note}",
        body="".join(body),
    )


def retention_section(ctx: Context) -> Section:
    rows = ctx.data("retention", lambda: q.revenue_retention(ctx.db))
    if not rows:
        return Section("retention", "GRR, NRR and logo retention",
                       lede="Retention needs 13 months of MRR; not yet.")
    labels = [fmt.month_short(r["month"]) for r in rows]
    series = [Series("NRR", [r["nrr"] for r in rows], GREEN), Series("GRR", [r["grr"] for r in rows], BLUE),
              Series("logo retention", [r["logo_retention"] for r in rows], PURPLE, dashed=True)]
    svg = charts.line_chart(labels, series, lambda v: fmt.pct(v, 0), label="Revenue and logo retention",
                            include=[1.0], ref_lines=[(1.0, "100%")], height=260, point_fmt=fmt.pct)
    body = [figure(
        svg, "each month compares the accounts that paid twelve months earlier with what they pay now: NRR with "
        "expansion (above 100% means the base grows by itself), GRR capped per account (churn and contraction "
        "only), logo retention counting accounts.",
        title="Retention over time",
        legend=legend([("NRR", GREEN, "line"), ("GRR", BLUE, "line"), ("logo retention", PURPLE, "dash")]),
    )]
    table_rows = [
        [fmt.month(r["month"]), fmt.count(r["cohort_customers"]), ctx.money(r["starting_mrr"]),
         fmt.count(r["retained_customers"]), fmt.pct(r["grr"]), fmt.pct(r["nrr"]), fmt.pct(r["logo_retention"])]
        for r in reversed(rows[-6:])
    ]
    body.append(table(["month", "cohort accounts", "cohort MRR a year earlier", "still paying", "GRR", "NRR",
                       "logo retention"], table_rows))
    return Section(
        "retention", "GRR, NRR and logo retention",
        lede="From <code>marts.revenue_retention</code>: the cohort of month M is the accounts with MRR in M-12; "
        "GRR = Σ min(MRR now, MRR then) / MRR then, NRR = Σ MRR now / MRR then, logo retention = accounts still "
        "paying / cohort accounts.",
        body="".join(body),
    )


def renewals_section(ctx: Context) -> Section:
    rows = ctx.data("renewals", lambda: q.renewals(ctx.db))
    if not rows:
        return Section("renewals", "Renewals", lede="No contract has expired yet.")
    recent = rows[-24:]
    labels = [fmt.month_short(r["expiry_month"]) for r in recent]
    hollow = [not r["is_mature"] for r in recent]
    logo = charts.bar_chart(
        labels, [Series("logo renewal rate", [r["logo_renewal_rate"] for r in recent], PURPLE)],
        lambda v: fmt.pct(v, 0), label="Logo renewal rate by expiry month", domain=(0.0, 1.0),
        bar_colors=["#d6bcfa" if h else PURPLE for h in hollow], width=560, height=240, value_labels=False,
    )
    arr = charts.line_chart(
        labels,
        [Series("gross renewal rate", [r["gross_renewal_rate"] for r in recent], BLUE, hollow=hollow),
         Series("net renewal rate", [r["net_renewal_rate"] for r in recent], GREEN, dashed=True, hollow=hollow)],
        lambda v: fmt.pct(v, 0), label="ARR renewal rates by expiry month", include=[0.0, 1.0],
        ref_lines=[(1.0, "100%")], width=560, height=240, point_fmt=fmt.pct,
    )
    body = ['<div class="grid2">', figure(
        logo, "of the accounts whose contracts expired in a month, the share that renewed; pale bars are months "
        "whose renewal window is still open.", title="Accounts renewed",
    ), figure(
        arr, "of the ARR expiring in a month, the share kept (gross, blue, at most 100%) and the ARR signed in "
        "successors (net, green, may pass 100%); hollow points: window still open.", title="ARR renewed",
        legend=legend([("gross renewal", BLUE, "line"), ("net renewal", GREEN, "dash")]),
    ), "</div>"]
    metrics: dict[str, dict[str, Any]] = {}
    with contextlib.suppress(q.NotAvailable):
        metrics = ctx.data("headline", lambda: q.headline_metrics(ctx.db))
    logo, gross, net = (metrics.get(m) for m in ("logo_renewal_rate", "gross_renewal_rate", "net_renewal_rate"))
    if logo and gross and net and logo["window_end"] is not None:
        body.append(
            f'<p class="note">Last 12 mature months ({fmt.months_between(logo["window_start"], logo["window_end"])}): '
            f'{fmt.count(logo["numerator"])} of {fmt.count(logo["denominator"])} accounts renewed '
            f'({fmt.pct(logo["value"])}); {ctx.money(gross["numerator"])} of '
            f'{ctx.money(gross["denominator"])} expiring ARR kept ({fmt.pct(gross["value"])}), '
            f'{ctx.money(net["numerator"])} signed ({fmt.pct(net["value"])}).</p>'
        )
    table_rows = [
        [fmt.month(r["expiry_month"]), fmt.count(r["accounts_expiring"]), fmt.count(r["accounts_renewed"]),
         fmt.pct(r["logo_renewal_rate"]), ctx.money(r["expiring_arr"]), ctx.money(r["renewed_arr"]),
         ctx.money(r["successor_arr"]), fmt.pct(r["gross_renewal_rate"]), fmt.pct(r["net_renewal_rate"]),
         "yes" if r["is_mature"] else "window open"]
        for r in reversed(rows[-12:])
    ]
    body.append(table(["expiry month", "expiring", "renewed", "logo rate", "expiring ARR", "renewed ARR",
                       "successor ARR", "gross rate", "net rate", "mature"], table_rows, text_columns=(0, 9)))
    return Section(
        "renewals", "Renewals",
        lede="Contracts by month of expiry (<code>marts.renewals</code>): an account renewed when another of its "
        "subscriptions starts within <code>renewal_window_days</code> of the expiring end date.",
        body="".join(body),
    )


# -- publication ----------------------------------------------------------------------


def publication_section(ctx: Context) -> Section:
    pub = ctx.publication
    if pub is None:
        raise q.NotAvailable("marts.publication is not in this published file.")
    row = pub.row
    published_at = row.get("published_at")
    as_of = pub.as_of_date
    facts = [("As-of date", fmt.date(as_of)), ("Published at", fmt.date(published_at)),
             ("Run", str(row.get("run_id") or fmt.MISSING)), ("Reporting currency", pub.currency)]
    if published_at is not None and as_of is not None:
        lag = (published_at.date() - as_of).days
        facts.append(("Freshness", f"published {lag} day(s) after the as-of date; the report was built "
                      f"{_age(ctx.now - published_at)} after publishing"))
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    passed, warned, failed = pub.checks("passed"), pub.checks("warned"), pub.checks("failed")
    checks = (
        pill(f"{fmt.count(passed)} passed", GREEN, "#e3f4e8") + " "
        + pill(f"{fmt.count(warned)} warned", "#975a16" if warned else GREY, "#fefcbf" if warned else "#edf2f7") + " "
        + pill(f"{fmt.count(failed)} failed", RED if failed else GREY, "#fed7d7" if failed else "#edf2f7")
    ) if passed is not None else "not recorded in this file"
    body = [f'<dl class="kv">{dl}<dt>Checks</dt><dd>{checks}</dd></dl>']
    if warned:
        body.append(
            f'<p class="note"><b>{warned} check(s) warned.</b> A warning does not block publishing: the numbers '
            "are published, but look at what warned (the run's validation report, Data Docs, or the Dagster run) "
            "before relying on the affected figures.</p>"
        )
    results = q.check_results(ctx.db, row.get("run_id"))
    if results:
        body.append(_check_results_table(*results))
    sources = pub.sources()
    if sources:
        source_rows = [
            [entity, fmt.count(loaded), fmt.count(quarantined),
             fmt.pct(q._rate(quarantined, (loaded or 0) + (quarantined or 0)), 2)]
            for entity, loaded, quarantined in sources
        ]
        source_rows.append(["all sources", fmt.count(row.get("rows_loaded")), fmt.count(row.get("rows_quarantined")),
                            fmt.pct(q._rate(row.get("rows_quarantined"),
                                            (row.get("rows_loaded") or 0) + (row.get("rows_quarantined") or 0)), 2)])
        body.append(table(["source", "rows loaded", "quarantined", "quarantined share"], source_rows,
                          row_classes=[""] * len(sources) + ["total"]))
    history = [
        [fmt.date(h.get("published_at")), fmt.date(h.get("as_of_date")), fmt.count(h.get("rows_loaded")),
         fmt.count(h.get("rows_quarantined")), fmt.count(h.get("checks_passed")), fmt.count(h.get("checks_warned")),
         fmt.count(h.get("checks_failed"))]
        for h in pub.history[:10]
    ]
    body.append(f'<p class="note">Publications, newest first ({len(pub.history)} in all):</p>')
    warned_rows = ["warned" if (h.get("checks_warned") or 0) else "" for h in pub.history[:10]]
    body.append(table(["published at", "as of", "rows loaded", "quarantined", "passed", "warned", "failed"],
                      history, row_classes=warned_rows))
    return Section(
        "publication", "Publication record",
        lede="How fresh and how trustworthy these numbers are (<code>marts.publication</code>): one row per "
        "publication; a file is only published after every blocking check has passed. Quarantined rows are in no "
        "metric.",
        body="".join(body),
    )


def _check_results_table(name: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f'<p class="note">No rows for this run in <code>{escape(name)}</code>.</p>'
    preferred = ["status", "severity", "suite", "asset", "expectation", "check_name", "unexpected_count",
                 "observed_value", "description"]
    columns = [c for c in preferred if c in rows[0]] or list(rows[0])[:8]
    problems = [r for r in rows if str(r.get("status", "")).lower() not in ("passed", "success", "ok")]
    shown = problems[:50] if "status" in rows[0] else rows[:50]
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.get("status", "?"))] = counts.get(str(r.get("status", "?")), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    classes = [str(r.get("status", "")).lower() if str(r.get("status", "")).lower() in ("warned", "failed") else ""
               for r in shown]
    cells = [[fmt.MISSING if r.get(c) is None else str(r.get(c))[:160] for c in columns] for r in shown]
    head = (f'<p class="note">Check results in <code>{escape(name)}</code> ({escape(summary)}); '
            f"{'those that did not pass' if problems else 'every check passed'}:</p>")
    if not shown:
        return head
    return head + table(columns, cells, text_columns=tuple(range(len(columns))), row_classes=classes)


def _age(delta: dt.timedelta) -> str:
    seconds = max(delta.total_seconds(), 0)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


SECTIONS: tuple[tuple[str, str, Callable[[Context], Section]], ...] = (
    ("commercial-ratio", "Commercial ratio", commercial_ratio_section),
    ("growth-vs-spend", "Revenue growth against sales & marketing expense", growth_section),
    ("lead-funnel", "Lead funnel and conversion by channel", lead_funnel_section),
    ("opportunity-funnel", "Opportunity stages: conversion and time in stage", opportunity_funnel_section),
    ("win-rates", "Win rates", win_rates_section),
    ("channel-efficiency", "Channel efficiency", channel_section),
    ("mrr-movements", "MRR movements", mrr_section),
    ("retention", "GRR, NRR and logo retention", retention_section),
    ("renewals", "Renewals", renewals_section),
    ("publication", "Publication record", publication_section),
)
SECTION_IDS = tuple(s[0] for s in SECTIONS)


def build_sections(ctx: Context) -> list[Section]:
    return [_guard(section_id, title, lambda build=build: build(ctx)) for section_id, title, build in SECTIONS]


