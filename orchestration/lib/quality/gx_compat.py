"""The two changes Great Expectations 1.24 needs to run over DuckDB (duckdb-engine).

Both apply only to the `duckdb` dialect and only to the pinned GX release line:
`apply()` refuses to run on any other GX version, so an upgrade fails loudly here
instead of silently validating nothing. Remove them once upstream is fixed.

1. Buffer query rows before the connection goes back to the pool.
   `SqlAlchemyExecutionEngine.execute_query` returns a live cursor result after its
   `with engine.connect()` block has closed. duckdb-engine's cursor *is* the DuckDB
   connection, and the pool's reset-on-return (a ROLLBACK) replaces its pending result,
   so every later `fetchall()` sees no rows and metric bundles die with `IndexError:
   list index out of range` in `resolve_metric_bundle` (great_expectations issues 10738
   and 11579). Here the rows are read (`Result.freeze()`) while the connection is still
   checked out. The queries GX runs return one row of aggregates, or a few example
   rows (our SQL expectations add their own LIMIT, see `expectations.py`), so
   buffering them is cheap.

2. Read column names and types from DuckDB's `information_schema`.
   SQLAlchemy >= 2.0.45 reflects columns with a query on `pg_catalog.pg_collation`
   (including `collnamespace`), which DuckDB's pg_catalog emulation lacks (duckdb
   issue 22069, duckdb-engine issues 1379 and 1391), and GX's fallback drops the
   schema name. GX needs the columns of every table batch (each column expectation
   checks its column exists), so for duckdb table batches they come from
   `information_schema.columns` instead, typed with the top-level SQLAlchemy type of
   the same name (what GX compares `expect_column_values_to_be_of_type` against).
"""

from __future__ import annotations

from typing import Any

SUPPORTED_GX_SERIES = "1.24."
DIALECT = "duckdb"

_APPLIED_FLAG = "_gtm_duckdb_compat"


class UnsupportedGreatExpectationsVersion(RuntimeError):
    """The installed GX is not the release line these shims were written for."""


def check_version(version: str) -> None:
    if not version.startswith(SUPPORTED_GX_SERIES):
        raise UnsupportedGreatExpectationsVersion(
            f"great_expectations {version} is installed, but orchestration/lib/quality/"
            f"gx_compat.py patches GX {SUPPORTED_GX_SERIES}x internals for DuckDB. Check "
            "whether the upstream fixes landed (GX issues 10738/11579, duckdb-engine "
            "issue 1391), then update or remove the shims and SUPPORTED_GX_SERIES."
        )


def apply() -> None:
    """Install both shims (idempotent). Raises on an unsupported GX version."""
    import great_expectations as gx
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics.table_metrics import table_column_types

    check_version(gx.__version__)
    if getattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, False):
        return
    SqlAlchemyExecutionEngine.execute_query = _buffered(SqlAlchemyExecutionEngine.execute_query)
    table_column_types._get_sqlalchemy_column_metadata = _information_schema_columns(
        table_column_types._get_sqlalchemy_column_metadata
    )
    setattr(SqlAlchemyExecutionEngine, _APPLIED_FLAG, True)


def _buffered(original: Any) -> Any:
    def execute_query(self: Any, query: Any) -> Any:
        if self.dialect_name != DIALECT:
            return original(self, query)
        with self.get_connection() as connection:
            result = self._execute_query_with_recovery(connection, query)
            if not result.returns_rows:
                return result
            # Read every row now, while this connection is still checked out.
            return result.freeze()()

    execute_query.__doc__ = original.__doc__
    execute_query.__wrapped__ = original  # type: ignore[attr-defined]
    return execute_query


def _information_schema_columns(original: Any) -> Any:
    def column_metadata(execution_engine: Any, batch_data: Any) -> Any:
        import sqlalchemy as sa

        table = batch_data.source_table_name  # set for table batches, None for queries
        if execution_engine.dialect_name != DIALECT or not table:
            return original(execution_engine, batch_data)
        schema = batch_data.source_schema_name or "main"
        rows = execution_engine.execute_query(
            sa.text(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = :schema and table_name = :table "
                "order by ordinal_position"
            ).bindparams(schema=schema, table=str(table))
        ).fetchall()
        return [{"name": name, "type": sqlalchemy_type(data_type), "primary_key": False} for name, data_type in rows]

    column_metadata.__wrapped__ = original  # type: ignore[attr-defined]
    return column_metadata


def sqlalchemy_type(duckdb_type: str) -> Any:
    """An instance of the top-level SQLAlchemy type named like the DuckDB type
    (`VARCHAR` -> `sa.VARCHAR()`), or `NullType()` when SQLAlchemy has none."""
    import sqlalchemy as sa

    name = duckdb_type.split("(")[0].strip().upper().replace(" ", "_")
    type_class = getattr(sa.types, name, None)
    if isinstance(type_class, type) and issubclass(type_class, sa.types.TypeEngine):
        try:
            return type_class()
        except TypeError:
            pass
    return sa.types.NullType()
