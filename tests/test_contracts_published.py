"""Published types are the dbt model contracts' types (issue 12, items 2 and 9).

Every mart under dbt_project/models/marts/ has an enforced contract with a data type on
every column (its yml is the schema of record, read through dbt_manifest.py); a small
demo company, refreshed and published as a user runs it, publishes exactly those
columns with exactly those types, and nothing published (the publication record and
the check results included) is a HUGEINT or DECIMAL, which pandas turns into floats and
many JDBC/ODBC drivers cannot read. The raw tables the ingest step writes carry the
types the dbt sources state.
"""

from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import dbt_manifest
from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME
from tests.support import published_fixture

# The published types: counts BIGINT (INTEGER for small ordinals such as a fiscal year
# or a month number), amounts and rates DOUBLE, dates DATE, text VARCHAR, flags BOOLEAN,
# timestamps TIMESTAMP.
PUBLISHABLE_TYPES = {"BIGINT", "INTEGER", "DOUBLE", "DATE", "VARCHAR", "BOOLEAN", "TIMESTAMP"}
# Written by the publish step itself, not by dbt: no contract, but no wide types either.
NOT_DBT = {"publication", "check_results"}
UNREADABLE_PREFIXES = ("HUGEINT", "UHUGEINT", "DECIMAL", "NUMERIC")


def _columns(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = ? order by table_name, ordinal_position",
        [schema],
    ).fetchall():
        tables.setdefault(table, []).append((column, data_type))
    return tables


@pytest.fixture(scope="module")
def marts() -> dict[str, dbt_manifest.Mart]:
    return dbt_manifest.marts()


@pytest.fixture(scope="module")
def demo(published_demo) -> Path:
    """A tiny demo company refreshed and published (once per session, tests/conftest.py);
    the warehouse folder."""
    return published_demo


def test_every_mart_has_an_enforced_contract_with_a_type_per_column(marts):
    assert marts, "no marts in the manifest"
    assert [name for name, mart in marts.items() if not mart.contract_enforced] == []
    untyped = [f"{name}.{c.name}" for name, mart in marts.items() for c in mart.columns if not c.data_type]
    assert untyped == []
    unpublishable = [
        f"{name}.{c.name}: {c.data_type}"
        for name, mart in marts.items()
        for c in mart.columns
        if c.data_type and c.data_type not in PUBLISHABLE_TYPES
    ]
    assert unpublishable == []


def test_published_columns_have_the_contract_types(demo, marts):
    with closing(duckdb.connect(str(demo / "published.duckdb"), read_only=True)) as con:
        published = _columns(con, "marts")
    assert set(published) - NOT_DBT == set(marts)
    for name, mart in marts.items():
        assert published[name] == [(c.name, c.data_type) for c in mart.columns], name


def test_nothing_published_is_hugeint_or_decimal(demo):
    with closing(duckdb.connect(str(demo / "published.duckdb"), read_only=True)) as con:
        published = _columns(con, "marts")
    assert set(published) >= NOT_DBT
    wide = [
        f"{table}.{column}: {data_type}"
        for table, columns in published.items()
        for column, data_type in columns
        if data_type.startswith(UNREADABLE_PREFIXES)
    ]
    assert wide == []


def test_raw_tables_have_the_types_the_sources_state(demo):
    manifest = dbt_manifest.load_manifest()
    stated = {
        source["identifier"]: [(c, (d.get("data_type") or "").upper()) for c, d in source["columns"].items()]
        for source in manifest["sources"].values()
    }
    with closing(duckdb.connect(str(demo / "work.duckdb"), read_only=True)) as con:
        raw = _columns(con, "raw")
    for name, entity in ENTITIES_BY_NAME.items():
        landed = [(c, t) for c, t in raw[name] if not c.startswith("_")]  # _source_file, _loaded_at, ...
        assert landed == stated[name], name
        assert landed == [(c.name, DUCKDB_TYPES[c.type]) for c in entity.columns], name


def test_the_hand_made_published_file_has_the_contract_columns(tmp_path, marts):
    path = published_fixture.write_published(tmp_path / "published.duckdb")
    with closing(duckdb.connect(str(path), read_only=True)) as con:
        written = _columns(con, "marts")
    for name in published_fixture.MARTS:
        assert written[name] == [(c.name, c.data_type) for c in marts[name].columns], name


def test_a_fixture_row_that_does_not_fit_the_contract_is_refused():
    columns = ("expiry_month", "accounts_expiring")
    assert published_fixture._values("renewals", columns, {"accounts_expiring": 4}) == [None, 4]
    with pytest.raises(ValueError, match=r"a marts\.renewals row has 1 values for the 2 columns of its contract"):
        published_fixture._values("renewals", columns, (4,))
    with pytest.raises(KeyError, match=r"marts\.renewals has no column"):
        published_fixture._values("renewals", columns, {"accounts_lapsed": 1})
