"""Finds dbt tests on staging models that repeat a source-suite expectation
(docs/data-quality.md: one rule, one home).

A staging test repeats an expectation when both check the same rule (not null, unique,
allowed values, foreign key) on the same raw values with the same severity. The values are
the same when the staging SQL passes the raw column through: a bare column (renamed or
not), in selects that keep every row (no where, join, grouping, distinct or limit). A
not-null rule also survives upper/lower/trim, which are null exactly when their argument
is; uniqueness, allowed values and keys do not ('EUR' and 'eur' are one currency after
upper()).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlglot import exp
from sqlglot.lineage import Node, lineage

STAGING_FOLDER = "models/staging/"
NULL_PRESERVING = (exp.Upper, exp.Lower, exp.Trim)
ROW_CHANGING_CLAUSES = ("where", "joins", "group", "having", "qualify", "distinct", "limit")
# The source suites' foreign-key query (suites_gen/source_rules.py writes it).
FOREIGN_KEY_QUERY = re.compile(
    r"where b\.(?P<column>\w+) is not null and not exists "
    r"\(select 1 from raw\.(?P<parent_table>\w+) as r where r\.(?P<parent_column>\w+) = b\.(?P=column)\)"
)
REF = re.compile(r"ref\(['\"](\w+)['\"]\)")
SOURCE = re.compile(r"source\(['\"](\w+)['\"],\s*['\"](\w+)['\"]\)")


@dataclass(frozen=True)
class RawColumn:
    """Where a staging column's values come from: `raw.<table>.<column>`."""

    table: str
    column: str
    exact: bool  # False: through upper/lower/trim (the same nulls, other values)


@dataclass(frozen=True)
class Expectation:
    suite: str
    severity: str
    description: str


def source_suite_rules(suites_dir: Path) -> dict[tuple, Expectation]:
    """Every rule of the source suites (expectations/expectations/raw/*.json) as a key:
    ("not_null", table, column), ("unique", table, columns), ("in_set", table, column,
    values), ("foreign_key", table, column, parent table, parent column)."""
    rules: dict[tuple, Expectation] = {}
    for path in sorted((suites_dir / "raw").glob("*.json")):
        suite = json.loads(path.read_text())
        table = suite["name"].removeprefix("raw.")
        for expectation in suite["expectations"]:
            kind, kwargs = expectation["type"], expectation["kwargs"]
            found = Expectation(
                suite["name"], expectation["meta"]["severity"], f"{kind} {json.dumps(kwargs, sort_keys=True)}"
            )
            for rule in _rules_of(table, kind, kwargs):
                rules[rule] = found
    return rules


def _rules_of(table: str, kind: str, kwargs: Mapping[str, Any]) -> Iterator[tuple]:
    if kind == "expect_column_values_to_not_be_null":
        yield ("not_null", table, kwargs["column"])
    elif kind == "expect_column_values_to_be_unique":
        yield ("unique", table, frozenset([kwargs["column"]]))
    elif kind == "expect_compound_columns_to_be_unique":
        yield ("unique", table, frozenset(kwargs["column_list"]))
    elif kind == "expect_column_values_to_be_in_set":
        yield ("in_set", table, kwargs["column"], frozenset(kwargs["value_set"]))
    elif kind == "expect_no_unexpected_rows":
        match = FOREIGN_KEY_QUERY.search(kwargs["unexpected_rows_query"])
        if match:
            yield ("foreign_key", table, match["column"], match["parent_table"], match["parent_column"])


def staging_tests(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The generic dbt tests attached to a staging model."""
    nodes = manifest["nodes"]
    return [
        node
        for node in nodes.values()
        if node["resource_type"] == "test"
        and node.get("test_metadata")
        and nodes.get(node.get("attached_node") or "", {}).get("original_file_path", "").startswith(STAGING_FOLDER)
    ]


def repeats(manifest: Mapping[str, Any], rules: Mapping[tuple, Expectation]) -> list[str]:
    """One line per staging test (or listed column) repeating an expectation, naming both."""
    found = []
    for test in sorted(staging_tests(manifest), key=lambda t: t["unique_id"]):
        severity = str(test["config"]["severity"]).lower()
        for rule, column in _raw_rules(manifest, test):
            expectation = rules.get(rule)
            if expectation and expectation.severity == severity:
                found.append(
                    f"dbt test {test['name']} ({test['original_file_path']}, {column}) repeats "
                    f"{expectation.suite}: {expectation.description} (severity {severity})"
                )
    return found


def _raw_rules(manifest: Mapping[str, Any], test: Mapping[str, Any]) -> Iterator[tuple[tuple, str]]:
    """The rules a staging test checks, said on raw columns, for the columns whose values
    reach it unchanged (for not-null: with unchanged nulls)."""
    name, kwargs, model = test["test_metadata"]["name"], test["test_metadata"]["kwargs"], test["attached_node"]

    def raw(column: str, model_id: str = model) -> RawColumn | None:
        return raw_column(manifest, model_id, column)

    # A grain test is both halves: its columns not null (unless check_nulls is false) and
    # their combination unique (tests/generic/grain.sql).
    if name in ("not_null", "not_null_columns") or (name == "grain" and kwargs.get("check_nulls", True)):
        for column in kwargs.get("columns") or [kwargs["column_name"]]:
            if source := raw(column):
                yield ("not_null", source.table, source.column), column
    if name in ("unique", "grain"):
        columns = kwargs.get("columns") or [kwargs["column_name"]]
        sources = [raw(c) for c in columns]
        if all(s and s.exact for s in sources) and len({s.table for s in sources}) == 1:
            yield ("unique", sources[0].table, frozenset(s.column for s in sources)), ", ".join(columns)
    elif name == "accepted_values":
        source = raw(kwargs["column_name"])
        if source and source.exact:
            yield ("in_set", source.table, source.column, frozenset(kwargs["values"])), kwargs["column_name"]
    elif name == "relationships":
        source = raw(kwargs["column_name"])
        parent = _parent(manifest, kwargs["to"], kwargs["field"])
        if source and source.exact and parent and parent.exact:
            rule = ("foreign_key", source.table, source.column, parent.table, parent.column)
            yield rule, kwargs["column_name"]


def _parent(manifest: Mapping[str, Any], to: str, field: str) -> RawColumn | None:
    """The raw column a relationships test's `to` and `field` name: through a staging
    model (ref) or the raw table itself (source)."""
    if model := REF.search(to):
        return raw_column(manifest, _model_id(manifest, model[1]), field)
    if source := SOURCE.search(to):
        (table,) = [
            s["identifier"]
            for s in manifest["sources"].values()
            if (s["source_name"], s["name"]) == (source[1], source[2])
        ]
        return RawColumn(table, field, exact=True)
    return None


def _model_id(manifest: Mapping[str, Any], name: str) -> str:
    (model_id,) = [k for k, n in manifest["nodes"].items() if n["resource_type"] == "model" and n["name"] == name]
    return model_id


def raw_column(manifest: Mapping[str, Any], model_id: str, column: str) -> RawColumn | None:
    """The raw column whose values (or, exact=False, nulls) `column` of the model shows
    unchanged; None when the SQL computes it or changes the rows."""
    model = manifest["nodes"][model_id]
    sources = [manifest["sources"][s] for s in model["depends_on"]["nodes"] if s.startswith("source.")]
    if not sources:
        return None
    schema: dict[str, Any] = {}
    for source in sources:
        database, schema_name = source["database"], source["schema"]
        columns = {name: c["data_type"] for name, c in source["columns"].items()}
        schema.setdefault(database, {}).setdefault(schema_name, {})[source["identifier"]] = columns
    return _trace(lineage(column, rendered_sql(manifest, model), schema=schema, dialect="duckdb"))


def _trace(node: Node) -> RawColumn | None:
    projection = node.expression.unalias() if isinstance(node.expression, exp.Alias) else node.expression
    exact = True
    if isinstance(projection, NULL_PRESERVING):
        projection, exact = projection.this, False
    if not isinstance(projection, exp.Column) or len(node.downstream) != 1 or _changes_rows(node.source):
        return None
    (upstream,) = node.downstream
    if isinstance(upstream.expression, exp.Table):
        return RawColumn(upstream.expression.name, projection.name, exact)
    inner = _trace(upstream)
    return inner and RawColumn(inner.table, inner.column, inner.exact and exact)


def _changes_rows(select: exp.Expression) -> bool:
    return not isinstance(select, exp.Select) or any(select.args.get(clause) for clause in ROW_CHANGING_CLAUSES)


def rendered_sql(manifest: Mapping[str, Any], model: Mapping[str, Any]) -> str:
    """The model's SQL with its sources and the project's macros it calls filled in."""
    macros = "\n".join(manifest["macros"][m]["macro_sql"] for m in model["depends_on"]["macros"])

    def source(source_name: str, table_name: str) -> str:
        (found,) = [
            s["relation_name"]
            for s in manifest["sources"].values()
            if s["source_name"] == source_name and s["name"] == table_name
        ]
        return found

    template = Environment(extensions=["jinja2.ext.do"]).from_string(macros + "\n" + model["raw_code"])
    return template.render(source=source, config=lambda **_: "")
