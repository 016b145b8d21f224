"""`gtm metrics`: MetricFlow over the published file, read-only.

The semantic models and metrics live in `dbt_project/models/semantic/`; `dbt parse` writes
them to `target/semantic_manifest.json`. Their relations name the work database's catalog
(`"work"."marts"."fct_revenue_monthly"`), but the published file holds the same tables in
the same schema, `marts`. So each relation is pointed at the published file, attached
read-only as the catalog `published`, and the time spine (not published) is built from
its model's SQL in the in-memory catalog, `memory.semantic`. Nothing is ever written to
the published file, and the work database is never opened.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib import dbt_manifest
from orchestration.lib.publish import PUBLICATION_TABLE, PUBLISHED_SCHEMA
from orchestration.lib.sql_shell import Result
from orchestration.settings import DBT_PROJECT_DIR

PUBLISHED_CATALOG = "published"
SPINE_CATALOG, SPINE_SCHEMA = "memory", "semantic"
SEMANTIC_MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "semantic_manifest.json"


class MetricsError(RuntimeError):
    """A metrics query or the published file it reads cannot be used (the message says why)."""


@dataclass(frozen=True)
class MetricInfo:
    name: str
    type: str
    label: str
    description: str
    dimensions: tuple[str, ...]


def _relation(database: str, schema: str, alias: str) -> dict[str, str]:
    return {
        "alias": alias,
        "schema_name": schema,
        "database": database,
        "relation_name": f'"{database}"."{schema}"."{alias}"',
    }


def semantic_manifest_json() -> dict[str, Any]:
    """The semantic manifest with every relation resolved against the published file."""
    dbt_manifest.ensure_manifest()
    manifest = json.loads(SEMANTIC_MANIFEST_PATH.read_text())
    for model in manifest["semantic_models"]:
        relation = model["node_relation"]
        if relation["schema_name"] != PUBLISHED_SCHEMA:
            raise MetricsError(
                f"semantic model {model['name']} reads {relation['relation_name']}, which is not published "
                f"(only the {PUBLISHED_SCHEMA} schema is): point it at a mart"
            )
        model["node_relation"] = _relation(PUBLISHED_CATALOG, PUBLISHED_SCHEMA, relation["alias"])
    for spine in manifest["project_configuration"]["time_spines"]:
        spine["node_relation"] = _relation(SPINE_CATALOG, SPINE_SCHEMA, spine["node_relation"]["alias"])
    return manifest


def _time_spines() -> list[tuple[str, str]]:
    """(alias, DuckDB SQL) of each time spine model: its days, from the bounds in the model's meta
    (first_day, end_day exclusive), named by its standard granularity column."""
    manifest = dbt_manifest.load_manifest()
    spines = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node.get("time_spine"):
            meta = node["config"]["meta"]
            column = node["time_spine"]["standard_granularity_column"]
            spines.append(
                (
                    node["alias"],
                    f"select cast(range as date) as {column} "
                    f"from range(date '{meta['first_day']}', date '{meta['end_day']}', interval 1 day)",
                )
            )
    return spines


class DuckDbSqlClient:
    """MetricFlow's SqlClient over one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._con = con
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self):
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self):
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: Any = None):
        from metricflow.data_table.mf_table import MetricFlowDataTable

        cursor = self._con.execute(stmt, _params(sql_bind_parameter_set))
        columns = [d[0] for d in cursor.description]
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=cursor.fetchall())

    def execute(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        raise MetricsError("the published file is read-only: MetricFlow may only query it")

    def dry_run(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
        self._con.execute(f"explain {stmt}", _params(sql_bind_parameter_set))

    def close(self) -> None:
        self._con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


def _params(bind_parameters: Any) -> dict[str, Any] | None:
    if bind_parameters is None or not bind_parameters.param_dict:
        return None
    return dict(bind_parameters.param_dict)  # already plain values, keyed by name ($key)


def _check_publication(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    found = con.execute(
        "select count(*) from information_schema.tables where table_catalog = ? and table_schema = ? "
        "and table_name = ?",
        [PUBLISHED_CATALOG, PUBLISHED_SCHEMA, PUBLICATION_TABLE],
    ).fetchone()
    if not found or found[0] == 0:
        raise MetricsError(
            f"{path} is not a published file (it has no {PUBLISHED_SCHEMA}.{PUBLICATION_TABLE} table); "
            "point --published at the published.duckdb a refresh wrote"
        )


class MetricsLayer:
    """MetricFlow over one published file; use `open_metrics_layer`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = parse_manifest_from_dbt_generated_manifest(json.dumps(semantic_manifest_json()))
        self._lookup = SemanticManifestLookup(manifest)
        self._engine = MetricFlowEngine(semantic_manifest_lookup=self._lookup, sql_client=DuckDbSqlClient(con))

    def metrics(self) -> list[MetricInfo]:
        out = []
        for metric in sorted(self._engine.list_metrics(), key=lambda m: m.name):
            dimensions = tuple(sorted({d.dunder_name for d in metric.dimensions}))
            out.append(
                MetricInfo(
                    name=metric.name,
                    type=metric.type.value.lower(),
                    label=metric.label or metric.name,
                    description=" ".join((metric.description or "").split()),
                    dimensions=dimensions,
                )
            )
        return out

    def group_by_names(self, metrics: Sequence[str]) -> list[str]:
        """Every name `--group-by` accepts for these metrics together."""
        self._check_metrics(metrics)
        items = self._engine.list_group_bys(metric_names=list(metrics))
        return sorted({getattr(item, "dunder_name", item.name) for item in items})

    def resolve_group_by(self, metrics: Sequence[str], names: Sequence[str]) -> list[str]:
        """Names as MetricFlow wants them: `segment` becomes `opportunity__segment` when that is
        the only dimension of that name the metrics share; a qualified name is kept as it is."""
        available = self.group_by_names(metrics)
        resolved = []
        for name in names:
            if "__" in name or name in available:
                resolved.append(name)
                continue
            matches = [a for a in available if a.endswith(f"__{name}") and a.count("__") == 1]
            if len(matches) != 1:
                found = ", ".join(matches) if matches else "none"
                raise MetricsError(
                    f"--group-by {name}: {'ambiguous' if matches else 'unknown'} for {', '.join(metrics)} "
                    f"(dimensions of that name: {found}); `gtm metrics list --dimensions` lists them"
                )
            resolved.append(matches[0])
        return resolved

    def _check_metrics(self, metrics: Sequence[str]) -> None:
        known = {m.name for m in self._engine.list_metrics(include_dimensions=False)}
        unknown = [m for m in metrics if m not in known]
        if unknown or not metrics:
            raise MetricsError(
                f"unknown metric(s) {', '.join(unknown) or '(none given)'}; `gtm metrics list` lists them"
            )

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Result:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        self._check_metrics(metrics)
        group_by = self.resolve_group_by(metrics, group_by)
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by),
            where_constraints=list(where) or None,
            order_by_names=list(order_by) or list(group_by) or None,
            limit=limit,
        )
        try:
            result = self._engine.query(request)
        except duckdb.Error as error:
            raise MetricsError(str(error).strip()) from None
        except Exception as error:  # MetricFlow's own query errors have no common base class
            if type(error).__module__.startswith(("metricflow", "dbt_semantic_interfaces")):
                raise MetricsError(str(error).strip()) from None
            raise
        table = result.result_df
        assert table is not None
        return Result(list(table.column_names), [tuple(_plain(v) for v in row) for row in table.rows])

    def sql(self, metrics: Sequence[str], group_by: Sequence[str] = ()) -> str:
        """The SQL MetricFlow runs for this query."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        self._check_metrics(metrics)
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics), group_by_names=self.resolve_group_by(metrics, group_by)
        )
        return self._engine.explain(request).sql_statement.sql


def _plain(value: Any) -> Any:
    """metric_time comes back as a midnight timestamp: a month or year is a date."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


@contextlib.contextmanager
def open_metrics_layer(published: Path) -> Iterator[MetricsLayer]:
    """MetricFlow over `published`, attached read-only; the time spine in memory."""
    if not published.is_file():
        raise MetricsError(f"No published file at {published} (run `gtm refresh` or `gtm demo` first).")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        try:
            con.execute(f"attach ? as {PUBLISHED_CATALOG} (read_only)", [str(published)])
        except duckdb.Error as error:
            raise MetricsError(f"{published} is not a DuckDB file DuckDB can open: {str(error).strip()}") from None
        _check_publication(con, published)
        con.execute(f"create schema {SPINE_CATALOG}.{SPINE_SCHEMA}")
        for alias, sql in _time_spines():
            con.execute(f'create table {SPINE_CATALOG}.{SPINE_SCHEMA}."{alias}" as {sql}')
        yield MetricsLayer(con)
    finally:
        con.close()
