"""The project's `not_null_columns` generic test (tests/generic/not_null_columns.sql):
one query per model instead of one not_null test per column, so it must fail exactly
when a listed column holds a null, and say which columns and how many rows.

stg_finance__spend lists department, category, amount, currency and spend_date.
Fixture: four spend rows; S2 and S3 have no category, S3 no amount either, and the
channel (not listed: it may be null) is null everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_fixtures import dbt_build, query, write_raw_tables

SELECT = "stg_finance__spend"


def _spend(spend_id: str, **changes: object) -> dict[str, object]:
    row = {
        "spend_id": spend_id,
        "spend_date": "2026-01-05",
        "department": "marketing",
        "category": "media",
        "amount": 100.0,
        "currency": "USD",
        "channel": None,
    }
    return {**row, **changes}


def _stored_failures(db: Path) -> list[dict]:
    (table,) = [
        r["table_name"]
        for r in query(
            db,
            "select table_name from information_schema.tables "
            "where table_schema = 'dbt_test__audit' and table_name like 'not_null_columns_stg_finance_%'",
        )
    ]
    return query(db, f'select column_name, null_rows from dbt_test__audit."{table}" order by column_name')


def test_passes_when_only_unlisted_columns_are_null(tmp_path):
    db = tmp_path / "work.duckdb"
    write_raw_tables(db, {"finance__spend": [_spend("S1"), _spend("S2")]})
    dbt_build(db, tmp_path / "target", select=SELECT)  # raises if any test fails
    assert _stored_failures(db) == []


def test_fails_naming_each_column_with_nulls_and_its_count(tmp_path):
    db = tmp_path / "work.duckdb"
    rows = [
        _spend("S1"),
        _spend("S2", category=None),
        _spend("S3", category=None, amount=None),
        _spend("S4"),
    ]
    write_raw_tables(db, {"finance__spend": rows})
    with pytest.raises(AssertionError, match="not_null_columns_stg_finance_"):
        dbt_build(db, tmp_path / "target", select=SELECT)
    assert _stored_failures(db) == [
        {"column_name": "amount", "null_rows": 1},
        {"column_name": "category", "null_rows": 2},
    ]
