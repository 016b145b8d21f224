"""The pipeline-history section: the open pipeline at each month end by stage, and the
waterfall of the last complete months (marts.pipeline_by_stage and
marts.pipeline_movements_monthly)."""

from __future__ import annotations

from typing import Any

from orchestration.lib.report import charts, fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.charts import Series, Step
from orchestration.lib.report.context import Context
from orchestration.lib.report.palette import BLUE, GREEN, GREY, ORANGE, PURPLE, RED, TEAL
from orchestration.lib.report.template import Section, figure, legend, table

STAGE_COLORS = (GREY, TEAL, BLUE, PURPLE, ORANGE, GREEN, RED)
TABLE_MONTHS = 12
SECTION_ID, TITLE = "pipeline-history", "Pipeline history"


def _by_date(rows: list[dict[str, Any]]) -> tuple[list[Any], list[str], dict[tuple[Any, str], dict[str, Any]]]:
    dates = list(dict.fromkeys(r["snapshot_date"] for r in rows))
    stages = list(dict.fromkeys(r["funnel_stage"] for r in sorted(rows, key=_stage_key)))
    return dates, stages, {(r["snapshot_date"], r["funnel_stage"]): r for r in rows}


def _stage_key(row: dict[str, Any]) -> tuple[int, str]:
    order = row["stage_order"]
    return (order if order is not None else 1_000, row["funnel_stage"] or "")


def _snapshot_figure(ctx: Context, rows: list[dict[str, Any]]) -> str:
    dates, stages, cells = _by_date(rows)
    series = [
        Series(stage or "unmapped", [(cells.get((d, stage)) or {}).get("open_amount") or 0 for d in dates],
               STAGE_COLORS[i % len(STAGE_COLORS)])
        for i, stage in enumerate(stages)
    ]
    labels = [fmt.month_short(d) if d != dates[-1] or ctx.as_of is None or d != ctx.as_of else fmt.date(d)
              for d in dates]  # fmt: skip
    svg = charts.stacked_bar_chart(labels, series, ctx.money_axis, label="Open pipeline by stage at each month end")
    return figure(
        svg, "the amount of the deals open on each month's last day (and on the as-of date, the last bar), stacked "
        "by funnel stage, each valued at that day's rate.",
        title="Open pipeline at each month end, by stage",
        legend=legend([(s.name, s.color, "box") for s in series]),
    )


def _latest_table(ctx: Context, rows: list[dict[str, Any]]) -> str:
    latest = rows[-1]["snapshot_date"]
    current = sorted((r for r in rows if r["snapshot_date"] == latest), key=_stage_key)
    body = [
        [r["funnel_stage"] or "unmapped", fmt.count(r["open_opportunities"]), ctx.money(r["open_amount"]),
         fmt.count(r["overdue_opportunities"]), ctx.money(r["overdue_amount"])]
        for r in current
    ]  # fmt: skip
    return (f'<p class="note">Open on {fmt.date(latest)}, by stage; overdue = close date already passed:</p>'
            + table(["stage", "open deals", "open amount", "overdue deals", "overdue amount"], body))  # fmt: skip


def _waterfall(ctx: Context, month: dict[str, Any]) -> str:
    steps = [
        Step(f"open {fmt.date(month['starting_date'])}", month["starting_amount"], "total"),
        Step("fx", month["fx_revaluation"]),
        Step("added", month["added_amount"]),
        Step("increased", month["increased_amount"]),
        Step("decreased", month["decreased_amount"]),
        Step("won", -month["won_amount"]),
        Step("lost", -month["lost_amount"]),
        Step(f"open {fmt.date(month['ending_date'])}", month["ending_amount"], "total"),
    ]
    svg = charts.waterfall_chart(steps, ctx.money_axis, label=f"Pipeline waterfall {fmt.month(month['month'])}",
                                 width=640)
    return figure(
        svg, "from the pipeline open at the start of the month: currency revaluation, new and reopened deals, "
        "amount changes, then what closed won or lost, to the pipeline open at its end. Only the two month ends "
        "are compared: a deal added and closed within the month shows as added and closed.",
        title=f"Waterfall of {fmt.month(month['month'])} (the last complete month)",
    )


def _months_table(ctx: Context, months: list[dict[str, Any]]) -> str:
    body = [
        [fmt.month(m["month"]), ctx.money(m["starting_amount"]), ctx.money(m["fx_revaluation"]),
         ctx.money(m["added_amount"]), ctx.money(m["increased_amount"]), ctx.money(m["decreased_amount"]),
         ctx.money(m["won_amount"]), ctx.money(m["lost_amount"]), ctx.money(m["ending_amount"]),
         f"{fmt.count(m['slipped_opportunities'])} ({ctx.money(m['slipped_amount'])})"]
        for m in reversed(months[-TABLE_MONTHS:])
    ]  # fmt: skip
    return table(["month", "starting", "fx", "added", "increased", "decreased", "won", "lost", "ending",
                  "slipped deals (amount)"], body)  # fmt: skip


def pipeline_section(ctx: Context) -> Section:
    stages = ctx.data("pipeline_by_stage", lambda: q.pipeline_by_stage(ctx.db))
    movements = ctx.data("pipeline_movements", lambda: q.pipeline_movements(ctx.db))
    if not stages and not movements:
        return Section(SECTION_ID, TITLE, lede="No opportunities extract has landed yet.")
    body = []
    if stages:
        body += [_snapshot_figure(ctx, stages), _latest_table(ctx, stages)]
    complete = [m for m in movements if m["is_complete"]]
    if complete:
        body += [_waterfall(ctx, complete[-1]), '<p class="note">The last complete months:</p>',
                 _months_table(ctx, complete)]  # fmt: skip
    else:
        body.append('<p class="note">No complete month of pipeline history yet (it needs two month ends).</p>')
    return Section(
        SECTION_ID, TITLE,
        lede="Every opportunities extract is a snapshot of the CRM; together they show where the pipeline was at "
        "each month end and where it went (<code>marts.pipeline_by_stage</code>, "
        "<code>marts.pipeline_movements_monthly</code>): starting + fx + added + increased + decreased - won - lost "
        "= ending. Slipped: open deals whose close date fell in the month and moved past its end.",
        body="".join(body),
    )
