"""The semantic layer (issue 17): every MetricFlow metric, queried at the grain of its
published mart, equals the mart on the demo company; the README's examples run; the
published file is only ever read.

The expected side of each case is the mart's own column (the schema of record), read
with plain SQL from the published file; the actual side goes through `gtm metrics`'
MetricFlow engine. Where MetricFlow cannot express a mart's null rules (the commercial
ratio's incomplete periods and first data month), the metric has its own name and is
compared on the rows where the rule does not apply.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from orchestration.cli import main as gtm_cli
from orchestration.lib import metrics_layer
from orchestration.lib.metrics_layer import MetricsError, open_metrics_layer
from orchestration.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"


@dataclass(frozen=True)
class Case:
    metric: str
    mart_sql: str  # key columns, then the mart's value of the metric
    group_by: tuple[str, ...]  # MetricFlow's names for the same keys, in the same order
    zero_when_missing: bool = True  # a sum MetricFlow has no row for is the mart's 0

    @property
    def id(self) -> str:
        return self.metric


FY, FQ = "period_grain = 'fiscal_year'", "period_grain = 'fiscal_quarter'"
TTM_MONTH = "date_trunc('month', period_end)::date"
LEAD_KEYS = ("metric_time__month", "lead_cohort__channel", "lead_cohort__segment")
WIN_KEYS = ("metric_time__month", "opportunity__segment", "opportunity__opportunity_type")
MONTH = ("metric_time__month",)


def _ratio(column: str, where: str, grain: str) -> str:
    return f"select period_start, {column} from marts.commercial_ratio where {grain} and {where}"


CASES = [
    # finance: the demo's fiscal years start in January, so metric_time__year/quarter are fiscal
    Case("revenue", f"select period_start, revenue from marts.commercial_ratio where {FY}", ("metric_time__year",)),
    Case("sm_expense", f"select period_start, sm_expense from marts.commercial_ratio where {FQ}",
         ("metric_time__quarter",)),
    Case("marketing_expense", f"select period_start, marketing_expense from marts.commercial_ratio where {FY}",
         ("metric_time__year",)),
    Case("sales_expense", f"select period_start, sales_expense from marts.commercial_ratio where {FQ}",
         ("metric_time__quarter",)),
    Case("revenue_ttm", f"select {TTM_MONTH}, revenue from marts.commercial_ratio where period_grain = 'ttm'", MONTH),
    Case("sm_expense_ttm", f"select {TTM_MONTH}, sm_expense from marts.commercial_ratio where period_grain = 'ttm'",
         MONTH),
    Case("revenue_growth_yoy", _ratio("revenue_growth", "prior_revenue is not null", FY), ("metric_time__year",),
         zero_when_missing=False),
    Case("revenue_growth_qoq", _ratio("revenue_growth", "prior_revenue is not null", FQ), ("metric_time__quarter",),
         zero_when_missing=False),
    Case("revenue_growth_ttm", f"select {TTM_MONTH}, revenue_growth from marts.commercial_ratio "
         "where period_grain = 'ttm' and prior_revenue is not null", MONTH, zero_when_missing=False),
    Case("commercial_ratio_yoy", _ratio("commercial_ratio", "commercial_ratio is not null", FY),
         ("metric_time__year",), zero_when_missing=False),
    Case("commercial_ratio_qoq", _ratio("commercial_ratio", "commercial_ratio is not null", FQ),
         ("metric_time__quarter",), zero_when_missing=False),
    Case("commercial_ratio_ttm", f"select {TTM_MONTH}, commercial_ratio from marts.commercial_ratio "
         "where period_grain = 'ttm' and commercial_ratio is not null", MONTH, zero_when_missing=False),
    # funnel
    *[Case(metric, f"select cohort_month, channel, segment, {column} from marts.lead_funnel", LEAD_KEYS)
      for metric, column in (("leads", "leads"), ("mqls", "mqls"), ("sqls", "sqls"),
                             ("opportunities", "opportunities"), ("leads_won", "won"))],
    Case("mql_rate", "select cohort_month, channel, segment, mql_rate from marts.lead_funnel", LEAD_KEYS, False),
    Case("lead_to_won_rate", "select cohort_month, channel, segment, lead_to_won_rate from marts.lead_funnel",
         LEAD_KEYS, False),
    *[Case(metric, f"select close_month, segment, opportunity_type, {column} from marts.win_rates", WIN_KEYS)
      for metric, column in (("won", "won"), ("lost", "lost"), ("won_amount", "won_amount"),
                             ("closed_opportunities", "won + lost"))],
    Case("win_rate", "select close_month, segment, opportunity_type, win_rate from marts.win_rates", WIN_KEYS, False),
    # retention
    *[Case(metric, f"select month, {column} from marts.mrr_movements", MONTH)
      for metric, column in (("mrr", "ending_mrr"), ("arr", "12 * ending_mrr"), ("starting_mrr", "starting_mrr"),
                             ("new_mrr", "new_mrr"), ("reactivation_mrr", "reactivation_mrr"),
                             ("expansion_mrr", "expansion_mrr"), ("contraction_mrr", "contraction_mrr"),
                             ("churned_mrr", "churned_mrr"), ("customers", "customers_end"),
                             ("new_customers", "new_customers"), ("churned_customers", "churned_customers"))],
    *[Case(metric, f"select month, {column} from marts.revenue_retention", MONTH, zero_when_missing=metric not in ("grr", "nrr"))
      for metric, column in (("grr", "grr"), ("nrr", "nrr"), ("cohort_starting_mrr", "starting_mrr"),
                             ("gross_retained_mrr", "gross_retained_mrr"), ("net_retained_mrr", "net_retained_mrr"))],
    *[Case(metric, f"select expiry_month, {metric} from marts.renewals", MONTH, zero_when_missing=not metric.endswith("rate"))
      for metric in ("logo_renewal_rate", "gross_renewal_rate", "net_renewal_rate", "accounts_expiring",
                     "accounts_renewed", "expiring_arr", "renewed_arr", "successor_arr")],
]  # fmt: skip


@pytest.fixture(scope="module")
def published(published_demo) -> Path:
    return published_demo / "published.duckdb"


@pytest.fixture(scope="module")
def layer(published):
    with open_metrics_layer(published) as opened:
        yield opened


def _mart(published: Path, sql: str) -> dict[tuple, object]:
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        return {tuple(row[:-1]): row[-1] for row in con.execute(sql).fetchall()}


def _close(expected, actual) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-6)


def _metricflow(layer, case: Case) -> dict[tuple, object]:
    result = layer.query([case.metric], case.group_by)
    assert result.columns == [*case.group_by, case.metric]
    return {tuple(row[:-1]): row[-1] for row in result.rows}


def test_every_metric_has_a_case():
    names = {m["name"] for m in metrics_layer.semantic_manifest_json()["metrics"]}
    assert names == {case.metric for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_metric_equals_its_mart_at_the_mart_grain(layer, published, case):
    expected = _mart(published, case.mart_sql)
    actual = _metricflow(layer, case)
    assert expected, f"the demo publishes no rows for {case.metric}: the comparison would prove nothing"
    # MetricFlow has no row for a key without source rows (the mart then holds 0), and rows
    # for keys the mart leaves out (an open opportunity has no close month; rows the
    # metric's own name says differ, such as a ratio of an incomplete period).
    for key, value in expected.items():
        got = actual.get(key, 0 if case.zero_when_missing else None)
        assert _close(value, got), f"{case.metric} at {key}: mart {value}, MetricFlow {got}"


def test_rates_of_a_coarser_grain_divide_the_summed_counts(layer, published):
    """win_rate by quarter and segment (the issue's example) is sum(won) / sum(won + lost) of
    the mart's months, never an average of the monthly rates."""
    expected = _mart(published, """
        select date_trunc('quarter', close_month)::date, segment, sum(won) / sum(won + lost)
        from marts.win_rates group by all""")
    actual = _metricflow(layer, Case("win_rate", "", ("metric_time__quarter", "opportunity__segment")))
    assert expected and {k: v for k, v in actual.items() if k[0] is not None}.keys() == expected.keys()
    for key, value in expected.items():
        assert _close(value, actual[key]), key


def test_mrr_of_a_quarter_is_its_last_months_balance(layer, published):
    expected = _mart(published, """
        select date_trunc('quarter', month)::date, arg_max(ending_mrr, month) from marts.mrr_movements group by all""")
    actual = _metricflow(layer, Case("mrr", "", ("metric_time__quarter",)))
    assert expected and actual.keys() == expected.keys()
    for key, value in expected.items():
        assert _close(value, actual[key]), key


def test_a_plain_dimension_name_resolves_to_the_one_the_metrics_have(layer):
    assert layer.resolve_group_by(["win_rate"], ["segment", "metric_time__quarter"]) == [
        "opportunity__segment", "metric_time__quarter"]
    assert layer.resolve_group_by(["leads"], ["channel"]) == ["lead_cohort__channel"]
    with pytest.raises(MetricsError, match="--group-by colour: unknown for win_rate"):
        layer.resolve_group_by(["win_rate"], ["colour"])
    with pytest.raises(MetricsError, match=r"unknown metric.*win_ratio"):
        layer.query(["win_ratio"])


def test_the_time_spine_spans_its_meta_bounds_and_is_not_published(published):
    spines = metrics_layer._time_spines()
    assert [alias for alias, _ in spines] == ["metricflow_time_spine"]
    with closing(duckdb.connect()) as con:
        first, last, days = con.execute(f"select min(date_day), max(date_day), count(*) from ({spines[0][1]})").fetchone()
    assert (first, last, days) == (dt.date(2000, 1, 1), dt.date(2050, 12, 31), 18628)  # 51 years, 13 of them leap
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        tables = {name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()}
    assert "metricflow_time_spine" not in tables


def test_queries_leave_the_published_file_untouched(published, tmp_path):
    copy = tmp_path / "published.duckdb"
    copy.write_bytes(published.read_bytes())
    before = copy.stat().st_mtime_ns, copy.read_bytes()
    with open_metrics_layer(copy) as opened:
        opened.query(["revenue"], ["metric_time__year"])
    assert (copy.stat().st_mtime_ns, copy.read_bytes()) == before
    assert not Path(f"{copy}.wal").exists()


def test_a_file_that_is_not_a_publication_is_refused(tmp_path):
    plain = tmp_path / "work.duckdb"
    with closing(duckdb.connect(str(plain))) as con:
        con.execute("create table t as select 1 as x")
    with pytest.raises(MetricsError, match=r"work.duckdb is not a published file .*marts.publication"), \
            open_metrics_layer(plain):
        pass
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    with pytest.raises(MetricsError, match=r"notes\.txt is not a DuckDB file"), open_metrics_layer(text):
        pass
    with pytest.raises(MetricsError, match="No published file at"), open_metrics_layer(tmp_path / "missing.duckdb"):
        pass


def _readme_metric_examples() -> list[list[str]]:
    lines = re.findall(r"^\.venv/bin/gtm (metrics query .*)$", README.read_text(), re.MULTILINE)
    return [shlex.split(line) for line in lines]


def test_the_readme_shows_three_metric_queries_and_each_runs(published):
    examples = _readme_metric_examples()
    assert len(examples) >= 3
    for args in examples:
        done = CliRunner().invoke(gtm_cli, [*args, "--published", str(published)])
        assert done.exit_code == 0, f"{args}: {done.output}"
        assert len(done.output.splitlines()) >= 4, done.output  # header, rule, a row, the count


def test_the_win_rate_example_prints_the_marts_numbers(published):
    done = CliRunner().invoke(gtm_cli, ["metrics", "query", "--metrics", "win_rate,won", "--group-by",
                                        "metric_time__quarter,segment", "--format", "csv", "--published",
                                        str(published)])
    assert done.exit_code == 0, done.output
    header, *rows = done.output.splitlines()
    assert header == "metric_time__quarter,opportunity__segment,win_rate,won"
    expected = _mart(published, """
        select date_trunc('quarter', close_month)::date, segment, sum(won) from marts.win_rates group by all""")
    printed = {(dt.date.fromisoformat(q), s): int(w) for q, s, _, w in (r.split(",") for r in rows) if q}
    assert printed == expected


def test_the_commercial_ratio_near_miss_is_why_it_has_its_own_name(layer, published):
    """FY2026 is not complete on 2026-11-26: the mart's ratio is null, MetricFlow's is a
    number. Published as `commercial_ratio` it would contradict the mart."""
    mart = _mart(published, f"select period_start, commercial_ratio from marts.commercial_ratio where {FY}")
    assert mart[(dt.date(2026, 1, 1),)] is None
    yoy = _metricflow(layer, Case("commercial_ratio_yoy", "", ("metric_time__year",)))
    assert yoy[(dt.date(2026, 1, 1),)] is not None
    names = {m["name"] for m in metrics_layer.semantic_manifest_json()["metrics"]}
    assert {"commercial_ratio", "revenue_growth"} & names == set()


def test_relations_resolve_against_the_published_file_read_only(layer):
    sql = layer.sql(["revenue"], ["calendar_date__fiscal_year"])
    assert '"published"."marts"."fct_revenue_monthly"' in sql and '"published"."marts"."dim_dates"' in sql
    assert '"work"' not in sql
    with pytest.raises(MetricsError, match="read-only"):
        metrics_layer.DuckDbSqlClient(duckdb.connect()).execute("create table x (a int)")


def test_the_fiscal_calendar_groups_any_metric(layer, published):
    """A fiscal year is named by the calendar year it ends in (marts.dim_dates)."""
    expected = _mart(published, f"""
        select year(period_end)::integer, revenue from marts.commercial_ratio where {FY} and revenue <> 0""")
    actual = _metricflow(layer, Case("revenue", "", ("calendar_date__fiscal_year",)))
    assert expected and actual.keys() == expected.keys()
    for key, value in expected.items():
        assert _close(value, actual[key]), key
