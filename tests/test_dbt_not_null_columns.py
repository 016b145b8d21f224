"""The project's `not_null_columns` generic test (tests/generic/not_null_columns.sql):
one query per model instead of one not_null test per column, so it must fail exactly
when a listed column holds a null, and say which columns and how many rows.

stg_crm__opportunities_snapshots lists opportunity_id, account_id, opportunity_type,
stage, is_closed, is_won, amount, currency, created_at, close_date and source_file.
Fixture: four versions of opportunities in one extract; O2 and O3 have no stage, O3 no
amount either, and lead_id (not listed: it may be null) is null everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt_fixtures import dbt_build, query, write_raw_tables

SELECT = "stg_crm__opportunities_snapshots"
SNAPSHOTS = "crm__opportunities_snapshots"


def _version(opportunity_id: str, **changes: object) -> dict[str, object]:
    row = {
        "opportunity_id": opportunity_id,
        "account_id": "A1",
        "lead_id": None,
        "opportunity_type": "new_business",
        "stage": "Discovery",
        "is_closed": False,
        "is_won": False,
        "amount": 100.0,
        "currency": "USD",
        "created_at": "2026-01-05 10:00:00",
        "close_date": "2026-03-31",
        "_source_file": "crm/opportunities/2026-01-06.csv",
        "_extract_date": "2026-01-06",
    }
    return {**row, **changes}


def _stored_failures(db: Path) -> list[dict] | None:
    """The failing rows kept for the test (None: no table, the test passed)."""
    # A test with a long name is kept under dbt's alias: its first 30 characters and a hash.
    tables = [
        r["table_name"]
        for r in query(
            db,
            "select table_name from information_schema.tables "
            "where table_schema = 'dbt_test__audit' and table_name like 'not_null_columns_stg_crm__oppo%'",
        )
    ]
    if not tables:
        return None
    (table,) = tables
    return query(db, f'select column_name, null_rows from dbt_test__audit."{table}" order by column_name')


def test_passes_when_only_unlisted_columns_are_null(tmp_path):
    db = tmp_path / "work.duckdb"
    write_raw_tables(db, {SNAPSHOTS: [_version("O1"), _version("O2")]})
    dbt_build(db, tmp_path / "target", select=SELECT)  # raises if any test fails
    assert _stored_failures(db) is None


def test_fails_naming_each_column_with_nulls_and_its_count(tmp_path):
    db = tmp_path / "work.duckdb"
    rows = [
        _version("O1"),
        _version("O2", stage=None),
        _version("O3", stage=None, amount=None),
        _version("O4"),
    ]
    write_raw_tables(db, {SNAPSHOTS: rows})
    with pytest.raises(AssertionError, match="not_null_columns_stg_crm__opportunities_snapshots_"):
        dbt_build(db, tmp_path / "target", select=SELECT)
    assert _stored_failures(db) == [
        {"column_name": "amount", "null_rows": 1},
        {"column_name": "stage", "null_rows": 2},
    ]
