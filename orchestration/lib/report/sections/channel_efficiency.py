"""The channel-efficiency section: spend against leads and wins per channel."""

from __future__ import annotations

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import HBar
from orchestration.lib.report.context import Context
from orchestration.lib.report.palette import GREEN, ORANGE
from orchestration.lib.report.template import Section, figure, table


def channel_section(ctx: Context) -> Section:
    eff = q.channel_efficiency(ctx.db)
    if not eff.channels:
        return Section("channel-efficiency", "Channel efficiency", lede="No complete fiscal quarter yet.")
    window = fmt.months_between(eff.first, eff.last)
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
        lede=f"The last {eff.quarters} complete fiscal quarters ({window}) of <code>marts.channel_efficiency"
        "</code> (summed in <code>marts.channel_efficiency_trailing</code>): all marketing and sales spend by "
        "channel (salaries and other spend without a channel are "
        "“(unattributed)”), against the leads created in those quarters and their outcomes to date.",
        body="".join(body),
    )

