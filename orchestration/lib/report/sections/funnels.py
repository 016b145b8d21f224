"""The funnel sections: leads to won by channel, and opportunity stage conversion."""

from __future__ import annotations

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import HBar, Series
from orchestration.lib.report.context import METRICS_DOC, Context
from orchestration.lib.report.palette import BLUE, PURPLE, TEAL
from orchestration.lib.report.template import Section, figure, legend, table


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
    funnel = q.opportunity_funnel(ctx.db)
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
        [HBar(s["stage"], s["typical_days_to_next"], PURPLE, f"→ {fmt.pct(s['conversion_rate'], 0)} advance")
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
               fmt.count(s["won"]), fmt.count(s["lost"]), fmt.count(s["open"]), fmt.days(s["typical_days_to_next"])]
        row += [fmt.pct(funnel.by_type[t].get(s["stage_order"])) for t in funnel.types]
        rows.append(row)
    body.append(table(headers, rows))
    return Section(
        "opportunity-funnel", "Opportunity stages: conversion and time in stage",
        lede=f"Opportunities created in {window} (the same mature cohorts as the lead funnel), all segments, from "
        "<code>marts.opportunity_funnel</code>: conversion = advanced / entered per stage of the stage mapping.",
        body="".join(body),
    )
