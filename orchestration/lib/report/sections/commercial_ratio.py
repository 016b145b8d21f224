"""The commercial-ratio sections: the ratio on its bands, and its two halves (revenue
growth against sales & marketing expense).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.bands import BAND_NAMES, BAND_STYLES, band_legend, ratio_bands
from orchestration.lib.report.charts import Series
from orchestration.lib.report.context import METRICS_DOC, Context
from orchestration.lib.report.palette import GREEN, INK, ORANGE
from orchestration.lib.report.template import Section, figure, legend, table


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
    annualised: dict[dt.date, float | None] = {}
    missing = ""
    try:
        annualised = ctx.data("quarter_growth", lambda: q.annualised_quarter_growth(ctx.db))
    except q.NotAvailable:
        missing = " This file does not publish the annualised growth (published by an older version): no green bars."
    svg = charts.bar_chart(
        [r["period_label"] for r in complete],
        [Series(f"revenue growth {fmt.TIMES}4 (annualised)", [annualised.get(r["period_start"]) for r in complete],
                GREEN),
         Series("S&M expense", [r["sm_expense"] for r in complete], ORANGE)],
        ctx.money_axis, label="Quarterly annualised revenue growth and S&M expense", height=240, value_labels=False,
    )
    body.append(figure(
        svg, "per fiscal quarter, growth over the quarter before &times;4 (green, <code>marts.revenue_growth_"
        "quarterly</code>) beside the quarter's S&amp;M expense (orange); where green is taller the quarter's ratio "
        f"is above 1. Complete quarters only.{missing}",
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


def _why_no_ratio(row: dict[str, Any]) -> str:
    if row["prior_revenue"] is None:
        return "no prior period in the data"
    if not row["is_complete"]:
        return "period not complete yet"
    return "no sales & marketing expense"
