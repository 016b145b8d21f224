"""The report's first screen: a one-line verdict, a paragraph of story and six tiles,
each read from the marts (the trailing figures from marts.headline_metrics).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.bands import BAND_NAMES, BAND_STYLES, band_pill
from orchestration.lib.report.context import Context, latest
from orchestration.lib.report.palette import BLUE, GREEN, GREY, ORANGE, PURPLE, TEAL
from orchestration.lib.report.template import Kpi

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
        fy = latest(grains.get("fiscal_year", []), "commercial_ratio")
        ttm_rows = grains.get("ttm", [])
        ttm = latest(ttm_rows, "commercial_ratio")
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
    newest = latest(retention or [], "nrr")
    if newest:
        month = fmt.month(newest["month"])
        recent = retention[-24:]
        kpis.append(Kpi("Net revenue retention", fmt.pct(newest["nrr"]),
                        sub=f"{month}: what the {fmt.count(newest['cohort_customers'])} accounts paying a year "
                            "earlier pay now, expansion included",
                        color=GREEN if newest["nrr"] >= 1 else ORANGE,
                        extra=charts.sparkline([r["nrr"] for r in recent], GREEN, ref=1.0,
                                               label="NRR, last 24 months")))
        kpis.append(Kpi("Gross revenue retention", fmt.pct(newest["grr"]),
                        sub=f"{month}: the same, each account capped at what it paid a year earlier",
                        color=BLUE,
                        extra=charts.sparkline([r["grr"] for r in recent], BLUE, label="GRR, last 24 months")))
        story.append(
            f"Accounts paying a year ago now pay <b>{fmt.pct(newest['nrr'])}</b> of what they did (NRR), "
            f"<b>{fmt.pct(newest['grr'])}</b> without expansion (GRR)."
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
