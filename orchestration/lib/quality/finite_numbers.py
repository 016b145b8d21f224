"""Every number of a mart is finite: an error-severity expectation added to each mart suite.

Two amounts of 1e308 are finite each and infinite summed; NaN and infinity pass every
`expect_column_values_to_be_between` (infinity is >= 0). Checked here, in DuckDB, over
every floating-point column of the mart (its types read from the work database), and
reported with the suite's own outcomes. It is not one of the suite files' expectations,
so it is not in the Data Docs; it is in audit.check_results and the check's metadata.

All marts of a gate step are checked through one read-only connection: opening the work
database costs ~15 ms of CPU (its catalog is read), more than a mart's two queries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration.lib.quality.suites import Severity, SuiteTarget
from orchestration.lib.typing_rules import quote_identifier

EXPECTATION_ID = "finite_numbers"
EXPECTATION_TYPE = "gtm_every_number_is_finite"
DESCRIPTION = "Every number is finite (no NaN, no infinity)."
EXAMPLE_ROWS = 5
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def non_finite_rows(con: duckdb.DuckDBPyConnection, target: SuiteTarget) -> tuple[int, list[dict[str, object]]]:
    """(rows with a non-finite number, a few of them as {column: value}) of the mart."""
    columns = [
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? and data_type in ? order by ordinal_position",
            [target.schema, target.table, list(FLOAT_TYPES)],
        ).fetchall()
    ]
    if not columns:
        return 0, []
    table = f"{quote_identifier(target.schema)}.{quote_identifier(target.table)}"
    condition = " or ".join(f"not isfinite({quote_identifier(c)})" for c in columns)
    (count,) = con.execute(f"select count(*) from {table} where {condition}").fetchone()
    cursor = con.execute(f"select * from {table} where {condition} limit {EXAMPLE_ROWS}")
    names = [d[0] for d in cursor.description]
    examples = [dict(zip(names, (str(v) for v in row), strict=True)) for row in cursor.fetchall()]
    return count, examples


def outcome_fields(work_db: Path, targets: Sequence[SuiteTarget]) -> dict[str, dict[str, object]]:
    """The fields of the expectation's outcome (gate.ExpectationOutcome), by suite, for
    every mart of `targets` (all read through one connection)."""
    if not targets:
        return {}
    fields: dict[str, dict[str, object]] = {}
    with contextlib.closing(duckdb.connect(str(work_db), read_only=True)) as con:
        for target in targets:
            count, examples = non_finite_rows(con, target)
            fields[target.suite] = {
                "suite": target.suite,
                "asset": "/".join(target.asset_path),
                "expectation_id": EXPECTATION_ID,
                "expectation_type": EXPECTATION_TYPE,
                "description": DESCRIPTION,
                "severity": Severity.ERROR,
                "status": "failed" if count else "passed",
                "unexpected_count": count,
                "examples": examples,
            }
    return fields
