"""`ExpectNoUnexpectedRows`: a SQL expectation that reports a count and a few example rows.

Foreign keys, cross-table rules and settings-dependent rules are written as a SQL
query that returns the offending rows; the expectation passes when it returns none.
It is GX's own `UnexpectedRowsExpectation` (same `unexpected_rows_query` field, same
rendering in Data Docs) with one metric of ours instead of GX's two:

- the query runs once, inside DuckDB, as
  `select *, count(*) over () from (<query>) limit 5`, so Python only ever receives
  the total and five example rows, however many rows fail (GX's own
  `unexpected_rows_query.table` metric fetches every unexpected row);
- `{batch}` always stands for the batch as a parenthesised subquery, so every query
  aliases it the same way (`from {batch} as o ... join ...`), with or without a join
  (GX's metric adds its own `AS subselect` unless the query has a JOIN);
- SUMMARY and BASIC results carry the row count as `observed_value` and the example
  rows (as dicts) as `details.unexpected_rows`, the shape of GX's own COMPLETE result.

This module imports GX; import it only where GX is used (it is slow to import).
Importing it registers the expectation type `expect_no_unexpected_rows` and its metric.
"""

from __future__ import annotations

from typing import Any, ClassVar

from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.result_format import ResultFormat
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider
from great_expectations.util import convert_to_json_serializable

EXAMPLE_ROWS = 5
METRIC_NAME = "gtm_unexpected_rows.count_and_examples"
_TOTAL_COLUMN = "__gtm_unexpected_total"


def batch_subquery_sql(batch_selectable: Any, execution_engine: SqlAlchemyExecutionEngine) -> str:
    """The batch as SQL text in parentheses, without an alias."""
    import sqlalchemy as sa

    if isinstance(batch_selectable, sa.Table):
        return f"(select * from {batch_selectable.fullname})"
    element = getattr(batch_selectable, "element", batch_selectable)  # Subquery -> Select
    compiled = element.compile(dialect=execution_engine.engine.dialect, compile_kwargs={"literal_binds": True})
    return f"({compiled})"


def count_and_examples_sql(query: str, batch_sql: str, limit: int = EXAMPLE_ROWS) -> str:
    substituted = QueryMetricProvider._format_query(query, batch=batch_sql)
    return (
        f"select *, count(*) over () as {_TOTAL_COLUMN} from (\n{substituted}\n) as unexpected_rows limit {int(limit)}"
    )


class UnexpectedRowsCountAndExamples(QueryMetricProvider):
    """{"count": total rows the query returns, "examples": up to EXAMPLE_ROWS of them}."""

    metric_name = METRIC_NAME
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: dict[str, Any],
        runtime_configuration: dict,
    ) -> dict[str, Any]:
        import sqlalchemy as sa

        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        sql = count_and_examples_sql(query, batch_subquery_sql(batch_selectable, execution_engine))
        rows = [row._asdict() for row in execution_engine.execute_query(sa.text(sql)).fetchall()]
        total = int(rows[0][_TOTAL_COLUMN]) if rows else 0
        examples = [{k: convert_to_json_serializable(v) for k, v in row.items() if k != _TOTAL_COLUMN} for row in rows]
        return {"count": total, "examples": examples}


class ExpectNoUnexpectedRows(UnexpectedRowsExpectation):
    """Expect a SQL query over the batch (`{batch}`) to return no rows.

    Each returned row is one unexpected case; its columns say what is wrong (the key,
    the offending value, counts). The result gives how many rows the query returned
    and the first few of them.
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = (METRIC_NAME,)

    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine: Any = None,
    ) -> dict[str, Any]:
        value = metrics[METRIC_NAME]
        success = value["count"] == 0
        result_format = self._get_result_format(runtime_configuration=runtime_configuration)
        if isinstance(result_format, dict):
            result_format = result_format.get("result_format", ResultFormat.SUMMARY)
        if result_format == ResultFormat.BOOLEAN_ONLY:
            return {"success": success}
        return {
            "success": success,
            # As GX's UnexpectedRowsExpectation reports it (observed_value: the rows
            # returned; details.unexpected_rows: the rows), examples only.
            "result": {
                "observed_value": value["count"],
                "details": {"unexpected_rows": value["examples"]},
            },
        }
