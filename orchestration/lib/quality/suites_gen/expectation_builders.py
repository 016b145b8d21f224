"""The expectation dicts every suite is made of, in the layout GX writes them."""

from __future__ import annotations

from typing import Any

from orchestration.lib.quality.suites import SQL_EXPECTATION_TYPE, Severity

ERROR, WARN = Severity.ERROR, Severity.WARN


def expectation(type_: str, kwargs: dict[str, Any], severity: Severity, description: str) -> dict[str, Any]:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"severity": severity.value},
        "severity": severity.gx_severity,
        "description": description,
    }


def sql_expectation(query: str, severity: Severity, description: str) -> dict[str, Any]:
    """An `expect_no_unexpected_rows`: `query` returns one row per problem (whitespace
    collapsed, so the file holds it on one line)."""
    return expectation(
        SQL_EXPECTATION_TYPE,
        {"unexpected_rows_query": " ".join(query.split())},
        severity,
        description,
    )


def unique(columns: tuple[str, ...], severity: Severity, description: str) -> dict[str, Any]:
    if len(columns) == 1:
        return expectation("expect_column_values_to_be_unique", {"column": columns[0]}, severity, description)
    return expectation("expect_compound_columns_to_be_unique", {"column_list": list(columns)}, severity, description)


def columns_and_types(expected: list[tuple[str, str | None]], description: str) -> dict[str, Any]:
    """One row per expected column that is missing or has another DuckDB type (a column
    expected with type None only has to exist)."""
    values = ", ".join(f"('{name}', {_text_or_null(type_)})" for name, type_ in expected)
    return sql_expectation(
        f"""select e.column_name, e.expected_type, d.column_type as actual_type
            from (values {values}) as e(column_name, expected_type)
            left join (describe select * from {{batch}} as b) as d on d.column_name = e.column_name
            where d.column_name is null
               or (e.expected_type is not null and d.column_type is distinct from e.expected_type)""",
        ERROR,
        description,
    )


def _text_or_null(value: str | None) -> str:
    return f"'{value}'" if value else "NULL"
