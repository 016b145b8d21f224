"""The win-rates section: win rate by close month and type, and by segment."""

from __future__ import annotations

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import Series
from orchestration.lib.report.context import Context
from orchestration.lib.report.palette import GREEN, INK, ORANGE, PURPLE, RED, TEAL
from orchestration.lib.report.template import Section, figure, legend, table


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
         ctx.money(s["avg_won_amount"]), fmt.days(s["median_sales_cycle_days"])]
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
