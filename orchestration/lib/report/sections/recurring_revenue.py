"""The recurring-revenue sections: MRR movements, retention and renewals."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import Series, Step
from orchestration.lib.report.context import Context
from orchestration.lib.report.palette import BLUE, GREEN, INK, ORANGE, PURPLE, RED, TEAL
from orchestration.lib.report.template import Section, figure, legend, table

MOVEMENTS = (("new_mrr", "new", GREEN), ("reactivation_mrr", "reactivation", TEAL),
             ("expansion_mrr", "expansion", "#68d391"), ("contraction_mrr", "contraction", ORANGE),
             ("churned_mrr", "churn", RED))


def _waterfall(ctx: Context, bridge: dict[str, Any], first: dt.date, last: dt.date, title: str, guide: str) -> str:
    """From starting to ending MRR through the movements of `bridge` (a month, or a sum of months)."""
    steps = [Step(f"start {fmt.month_short(first)}", bridge["starting_mrr"], "total")]
    steps += [Step(name, bridge[key]) for key, name, _ in MOVEMENTS]
    steps.append(Step(f"end {fmt.month_short(last)}", bridge["ending_mrr"], "total"))
    svg = charts.waterfall_chart(steps, ctx.money_axis, label=title, width=560)
    return figure(svg, guide, title=title)


def mrr_section(ctx: Context) -> Section:
    rows = ctx.data("mrr", lambda: q.mrr_movements(ctx.db))
    if not rows:
        return Section("mrr-movements", "MRR movements", lede="No subscription has started yet.")
    complete = [r for r in rows if ctx.as_of is None or r["month"] < ctx.as_of.replace(day=1)] or rows
    latest = complete[-1]
    year = ctx.data("mrr_trailing", lambda: q.mrr_movements_trailing(ctx.db))
    body = ['<div class="grid2">', _waterfall(
        ctx, latest, latest["month"], latest["month"], f"{fmt.month(latest['month'])}",
        "from the month's starting MRR, new and reactivated accounts and expansions add (green), contractions and "
        "churn take away (orange, red), ending at the month's MRR.",
    ), _waterfall(
        ctx, year, year["first_month"], year["last_month"], f"Last {year['months']} months",
        "the same over the last twelve months: the movements summed, from the MRR at the start to the MRR now.",
    ), "</div>"]
    recent = rows[-24:]
    labels = [fmt.month_short(r["month"]) for r in recent]
    net_change: dict[dt.date, float | None] | None = None
    with contextlib.suppress(q.NotAvailable):
        net_change = ctx.data("mrr_net_change", lambda: q.mrr_net_change(ctx.db))
    net = None if net_change is None else [net_change.get(r["month"]) for r in recent]
    svg = charts.stacked_bar_chart(
        labels, [Series(name, [r[key] for r in recent], color) for key, name, color in MOVEMENTS], ctx.money_axis,
        label="MRR movements per month", net=net,
    )
    net_guide, net_legend = ("the black dash is the net change (ending minus starting MRR, "
                             "<code>marts.mrr_net_change_monthly</code>).", [("net change", INK, "line")])
    if net_change is None:
        net_guide, net_legend = "this file does not publish the net change (published by an older version).", []
    body.append(figure(
        svg, f"each month's waterfall side by side: gains stack up from zero, losses down; {net_guide}",
        title=f"Movements per month (last {len(recent)})",
        legend=legend([(name, color, "box") for _, name, color in MOVEMENTS] + net_legend),
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
