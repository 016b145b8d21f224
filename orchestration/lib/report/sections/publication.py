"""The publication-record section: freshness, checks and rows loaded per source."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

from orchestration.lib.report import fmt
from orchestration.lib.report import queries as q
from orchestration.lib.report.context import Context
from orchestration.lib.report.palette import GREEN, GREY, RED
from orchestration.lib.report.template import Section, pill, table


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
        lag = pub.days_after_as_of
        published = "not recorded how many days after the as-of date it was published" if lag is None else (
            f"published {lag} day(s) after the as-of date")
        facts.append(("Freshness", f"{published}; the report was built {_age(ctx.now - published_at)} after "
                      "publishing"))
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
            [entity, fmt.count(loaded), fmt.count(quarantined), _share(pub, entity)]
            for entity, loaded, quarantined in sources
        ]
        source_rows.append(["all sources", fmt.count(row.get("rows_loaded")), fmt.count(row.get("rows_quarantined")),
                            _share(pub, "rows")])
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


def _share(pub: q.Publication, entity: str) -> str:
    """The quarantined share publishing recorded (lib/publish.py), or that an older file did not."""
    if not pub.recorded(f"{entity}_quarantined_share"):
        return "not recorded"
    return fmt.pct(pub.quarantined_share(entity), 2)
