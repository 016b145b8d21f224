"""A public mart's suite: the published contract its dbt yml declares, read from the manifest.

What the published table must hold for an analyst: every column of the model with its
contract type (`data_type`; a column without one only has to exist), each column's
range (`meta: {range: fraction | non_negative | non_positive}`), the period column
(`config: meta: {period_column: ...}`) a DATE on the first day of its period and never
after as_of_date, plus the published completeness rules of two marts (`EXTRA_RULES`).

Nothing here is also a dbt test: the grain (unique, not null), accepted values, the
MRR identity and the revenue reconciliation are dbt tests of the model (see
docs/data-quality.md). A mart suite reads its own table only, never raw.*.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestration.lib.dbt_manifest import Mart
from orchestration.lib.quality.suites_gen.expectation_builders import (
    ERROR,
    columns_and_types,
    expectation,
    sql_expectation,
)

# meta.range of a mart column -> the bounds it keeps and how the description says it.
RANGES: dict[str, tuple[dict[str, Any], str]] = {
    "fraction": ({"min_value": 0, "max_value": 1}, "is a fraction in [0, 1] (or null)."),
    "non_negative": ({"min_value": 0}, "is not negative (or null)."),
    "non_positive": ({"max_value": 0}, "is not positive (or null)."),
}

# dbt lets a contract spell a type several ways; DuckDB's DESCRIBE shows one.
_DUCKDB_TYPE_NAMES = {"TEXT": "VARCHAR", "STRING": "VARCHAR", "INT": "INTEGER", "INT8": "BIGINT", "FLOAT8": "DOUBLE"}


def duckdb_type(data_type: str | None) -> str | None:
    if not data_type:
        return None
    upper = data_type.strip().upper()
    return _DUCKDB_TYPE_NAMES.get(upper, upper)


class MartRuleError(ValueError):
    """A mart's yml asks for something the generator does not know."""


def _range(mart: Mart, column: str, range_name: str) -> dict[str, Any]:
    if range_name not in RANGES:
        raise MartRuleError(f"marts.{mart.name}.{column}: meta.range {range_name!r} is not one of {sorted(RANGES)}")
    bounds, meaning = RANGES[range_name]
    return expectation("expect_column_values_to_be_between", {"column": column, **bounds}, ERROR, f"{column} {meaning}")


def _period_rules(period: str) -> list[dict[str, Any]]:
    return [
        sql_expectation(
            f"select b.{period}, typeof(b.{period}) as type, count(*) as rows "
            f"from {{batch}} as b where typeof(b.{period}) <> 'DATE' "
            f"or date_trunc('month', b.{period}) <> b.{period} group by all",
            ERROR,
            f"{period} is a DATE holding the first day of its period.",
        ),
        sql_expectation(
            f"select b.{period}, count(*) as rows from {{batch}} as b "
            f"where b.{period} > {{as_of_date}} group by b.{period}",
            ERROR,
            f"No row is for a period that starts after as_of_date ({period}).",
        ),
    ]


def _mrr_months() -> list[dict[str, Any]]:
    return [
        sql_expectation(
            """select min(m.month) as first_month, max(m.month) as last_month, count(*) as months
               from {batch} as m
               having count(*) > 0
                  and (count(*) <> date_diff('month', min(m.month), max(m.month)) + 1
                       or max(m.month) <> cast(date_trunc('month', {as_of_date}) as date))""",
            ERROR,
            "One row for every month from the first month with MRR to the month of as_of_date, without a gap.",
        )
    ]


def _commercial_ratio_complete_flag() -> list[dict[str, Any]]:
    return [
        sql_expectation(
            """select c.period_grain, c.period_start, c.period_end, c.is_complete, c.commercial_ratio
               from {batch} as c
               where c.is_complete is distinct from (c.period_end <= {as_of_date})
                  or (not c.is_complete and c.commercial_ratio is not null)""",
            ERROR,
            "is_complete is true exactly when period_end <= as_of_date, and an "
            "incomplete period has no commercial_ratio.",
        )
    ]


# Published rules of one mart that its yml cannot say as data; each reads the mart alone.
EXTRA_RULES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "mrr_movements": _mrr_months,
    "commercial_ratio": _commercial_ratio_complete_flag,
}


def mart_expectations(mart: Mart) -> list[dict[str, Any]]:
    out = [
        columns_and_types(
            [(c.name, duckdb_type(c.data_type)) for c in mart.columns],
            f"Every column of marts.{mart.name} in its dbt yml exists, with its contract type "
            "(one row per missing or mistyped column).",
        )
    ]
    for column in mart.columns:
        range_name = column.meta.get("range")
        if range_name:
            out.append(_range(mart, column.name, range_name))
    period = mart.meta.get("period_column")
    if period:
        if period not in mart.column_names:
            raise MartRuleError(f"marts.{mart.name}: meta.period_column {period!r} is not one of its columns")
        out.extend(_period_rules(period))
    out.extend(EXTRA_RULES.get(mart.name, list)())
    return out
