"""The quality gate: validate suites inside DuckDB, write Data Docs, record the results.

`evaluate` runs the suites of some targets (the source tables after ingest, the marts
after dbt) against the work database and returns plain results; `record` writes them
to `audit.check_results`. Nothing here knows Dagster (defs/quality/checks.py turns the
results into asset checks).

How a run goes:
- GX is imported here, lazily (`runtime.import_gx`: compat shims, analytics off).
- The suites are read from the File Data Context in expectations/, their `{name}`
  parameters filled from Settings (suites.render_query), and validated in an
  in-memory GX context whose only SQL datasource is the work database, opened
  read-only through duckdb-engine. Every expectation runs as SQL in DuckDB; results
  are asked for as SUMMARY (counts and at most EXAMPLE_ROWS examples).
- A suite whose table does not exist is one failed error expectation naming the suite
  and the table (`missing_table`): a renamed or unbuilt table never publishes unchecked.
- A failed row-level expectation shows its example rows with the row's key (the
  suite target's `key`: the entity key, or the mart's grain), see `_keyed_examples`.
- The engine is disposed before `evaluate` returns, so the file is free for the next
  writer (DuckDB allows one writing process, and no reader beside it).
- Validation results are kept under `<warehouse>/gx/` and rendered as GX Data Docs in
  `Settings.data_docs_dir`: one browsable report per run (both gate steps of a run add
  to it; the first step of a new run starts it afresh).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.lib.quality import finite_numbers
from orchestration.lib.quality.suites import (
    SQL_EXPECTATION_TYPE,
    Severity,
    SuiteTarget,
    load_suites,
    render_query,
    run_parameters,
    severity_of,
)
from orchestration.settings import Settings

EXAMPLE_ROWS = 5
AUDIT_TABLE = "audit.check_results"
DATA_DOCS_SITE = "gtm_warehouse"
WHOLE_TABLE = "whole table"  # the batch definition of every table asset
Status = Literal["passed", "warned", "failed", "skipped"]
INSERT_ROWS = 500  # audit rows per insert statement (13 parameters each)


@dataclass(frozen=True)
class ExpectationOutcome:
    suite: str
    asset: str
    expectation_id: str
    expectation_type: str
    description: str
    severity: Severity
    status: Status
    unexpected_count: int | None = None
    observed_value: Any = None
    examples: list[Any] = field(default_factory=list)
    error: str | None = None  # the exception, when the expectation could not be evaluated

    @property
    def problem(self) -> str:
        """One line saying what failed, with the count and the first example."""
        text = self.description
        if self.error:
            return f"{text} [could not be evaluated: {self.error}]"
        if self.unexpected_count is not None:
            text += f" [{self.unexpected_count:,} unexpected"
            if self.examples:
                text += f", e.g. {_short(self.examples[0])}"
            text += "]"
        elif self.observed_value is not None:
            text += f" [observed: {_short(self.observed_value)}]"
        return text


@dataclass(frozen=True)
class SuiteOutcome:
    target: SuiteTarget
    expectations: tuple[ExpectationOutcome, ...] = ()

    def with_severity(self, severity: Severity) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.severity is severity]

    def failures(self, severity: Severity) -> list[ExpectationOutcome]:
        return [e for e in self.with_severity(severity) if e.status in ("failed", "warned")]


@dataclass(frozen=True)
class GateReport:
    run_id: str
    evaluated_at: dt.datetime
    suites: tuple[SuiteOutcome, ...]
    data_docs_index: Path | None
    seconds: float

    def suite(self, name: str) -> SuiteOutcome:
        return next(s for s in self.suites if s.target.suite == name)

    def counts(self) -> dict[str, int]:
        counts = {"passed": 0, "warned": 0, "failed": 0}
        for suite in self.suites:
            for e in suite.expectations:
                counts[e.status] += 1
        return counts


# -- evaluation ------------------------------------------------------------------


def evaluate(settings: Settings, targets: Sequence[SuiteTarget], run_id: str) -> GateReport:
    """Validate the suites of `targets` against the work database (read-only)."""
    started = time.monotonic()
    evaluated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    existing = _existing_tables(settings.work_db_path)
    present = [t for t in targets if t.qualified_table in existing]
    outcomes: dict[str, SuiteOutcome] = {
        t.suite: SuiteOutcome(t, (missing_table(t),)) for t in targets if t.qualified_table not in existing
    }
    docs_index = None
    if present:
        previous = previous_publication_counts(settings.published_db_path)
        outcomes.update(_validate(settings, present, run_id, previous))
        marts = [t for t in present if t.kind == "mart"]  # issue 13: NaN and infinity
        for suite, fields in finite_numbers.outcome_fields(settings.work_db_path, marts).items():
            outcome = outcomes[suite]
            outcomes[suite] = SuiteOutcome(outcome.target, (*outcome.expectations, ExpectationOutcome(**fields)))
        docs_index = settings.data_docs_dir / "index.html"
    return GateReport(
        run_id=run_id,
        evaluated_at=evaluated_at,
        suites=tuple(outcomes[t.suite] for t in targets),
        data_docs_index=docs_index if docs_index and docs_index.exists() else None,
        seconds=time.monotonic() - started,
    )


MISSING_TABLE_TYPE = "table_exists"


def missing_table(target: SuiteTarget) -> ExpectationOutcome:
    """A suite whose table does not exist fails (a renamed or unbuilt table must not
    publish unchecked), naming the suite and the table."""
    return ExpectationOutcome(
        suite=target.suite,
        asset="/".join(target.asset_path),
        expectation_id=MISSING_TABLE_TYPE,
        expectation_type=MISSING_TABLE_TYPE,
        description=f"The table {target.qualified_table} of suite {target.suite} exists in the work database.",
        severity=Severity.ERROR,
        status="failed",
        observed_value=(
            f"table {target.qualified_table} does not exist, so suite {target.suite} checked nothing "
            "(renamed, dropped or not built?)"
        ),
    )


def _existing_tables(work_db: Path) -> set[str]:
    if not work_db.exists():
        return set()
    with contextlib.closing(duckdb.connect(str(work_db), read_only=True)) as con:
        rows = con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    return {name for (name,) in rows}


def previous_publication_counts(published_db: Path) -> dict[str, int]:
    """`<entity>_loaded` of the newest publication in the published file, by entity."""
    if not published_db.exists():
        return {}
    try:
        with contextlib.closing(duckdb.connect(str(published_db), read_only=True)) as con:
            columns = {
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'marts' and table_name = 'publication'"
                ).fetchall()
            }
            wanted = [f"{e}_loaded" for e in ENTITIES_BY_NAME if f"{e}_loaded" in columns]
            if not wanted or "published_at" not in columns:
                return {}
            select = ", ".join(f'"{c}"' for c in wanted)
            row = con.execute(f"select {select} from marts.publication order by published_at desc limit 1").fetchone()
    except duckdb.Error:
        return {}
    if row is None:
        return {}
    return {
        column.removesuffix("_loaded"): int(value)
        for column, value in zip(wanted, row, strict=True)
        if value is not None
    }


def _validate(
    settings: Settings,
    targets: Sequence[SuiteTarget],
    run_id: str,
    previous: dict[str, int],
) -> dict[str, SuiteOutcome]:
    from orchestration.lib.quality.runtime import import_gx

    gx = import_gx()
    from great_expectations.core.run_identifier import RunIdentifier

    suites = load_suites([t.suite for t in targets])
    context = _run_context(settings, run_id)
    # The datasource is added with every table asset and its batch definition in one go:
    # adding them one by one (add_table_asset, add_batch_definition_whole_table) saves the
    # context's whole project config (a YAML text of every asset so far) after each one.
    datasource = context.data_sources.add_sql(
        name="work",
        connection_string=f"duckdb:///{settings.work_db_path}",
        kwargs={
            "connect_args": {
                "read_only": True,
                "config": {
                    "threads": settings.duckdb_threads,
                    "memory_limit": settings.duckdb_memory_limit,
                },
            }
        },
        assets=[
            {
                "type": "table",
                "name": t.suite,
                "table_name": t.table,
                "schema_name": t.schema,
                "batch_definitions": [{"name": WHOLE_TABLE}],
            }
            for t in targets
        ],
    )
    try:
        definitions = []
        batches: dict[str, Any] = {}
        file_ids: dict[str, dict[str, str]] = {}
        for target in targets:
            parameters = run_parameters(settings, previous.get(target.table))
            suite, ids = _rendered_suite(gx, suites[target.suite], parameters)
            suite = context.suites.add(suite)
            file_ids[target.suite] = {e.id: ids[i] for i, e in enumerate(suite.expectations)}
            batch = datasource.get_asset(target.suite).get_batch_definition(WHOLE_TABLE)
            batches[target.suite] = batch
            definitions.append(
                context.validation_definitions.add(gx.ValidationDefinition(name=target.suite, data=batch, suite=suite))
            )
        by_suite, result_keys = _run_definitions(definitions, RunIdentifier(run_name=f"{run_id}-{targets[0].kind}s"))
        # One build for the whole step (a checkpoint's UpdateDataDocsAction rebuilds the
        # site once per validation): the new validation pages and the index.
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=result_keys)
        keyed = {t.suite: _keyed_examples(gx, batches[t.suite], t, by_suite[t.suite].results) for t in targets}
    finally:
        _dispose(datasource)
    outcomes: dict[str, SuiteOutcome] = {}
    for target in targets:
        outcomes[target.suite] = SuiteOutcome(
            target,
            tuple(
                _outcome(target, r, file_ids[target.suite], keyed[target.suite]) for r in by_suite[target.suite].results
            ),
        )
    return outcomes


def _run_definitions(definitions: Sequence[Any], run: Any) -> tuple[dict[str, Any], list[Any]]:
    """Run each validation definition (it stores its result under <warehouse>/gx) and
    return the results by suite and their store keys (for Data Docs).

    What a Checkpoint's run does, without a Checkpoint: one adds no action here, and
    before running it checks that it and every definition equal their stored copies,
    re-reading each suite from the store several times (~0.3 s per refresh)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLE_ROWS}
    by_suite: dict[str, Any] = {}
    keys = []
    for definition in definitions:
        result = definition.run(run_id=run, result_format=result_format)
        by_suite[definition.suite.name] = result
        keys.append(
            ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
                run_id=run,
                batch_identifier=result.batch_id,
            )
        )
    return by_suite, keys


def _row_domain(kwargs: dict[str, Any]) -> bool:
    """Whether an expectation judges single rows by columns of the table (so an
    offending row has a key to name)."""
    return any(k in kwargs for k in ("column", "column_list", "column_A"))


def _keyed_examples(gx: Any, batch_definition: Any, target: SuiteTarget, results: Sequence[Any]) -> dict[str, list]:
    """Example rows of each failed row-level expectation with the target's key beside the
    offending values ({"lead_id": "L2", "mql_at": ..., "created_at": ...}), by expectation id.

    GX names a row's key only when asked (`unexpected_index_column_names`), and asking
    costs one more query per expectation; so only the failed ones are validated again,
    asking for it. A key column that is missing leaves the plain examples."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    failed = [
        r.expectation_config
        for r in results
        if not r.success
        and r.expectation_config.type != SQL_EXPECTATION_TYPE
        and _row_domain(r.expectation_config.kwargs)
    ]
    if not failed or not target.key:
        return {}
    suite = gx.ExpectationSuite(name=f"{target.suite} (keys of failed rows)")
    for config in failed:
        copy = config.to_json_dict()
        for field_name in ("id", "rendered_content", "meta", "severity", "description", "notes"):
            copy.pop(field_name, None)
        suite.add_expectation(ExpectationConfiguration(**copy).to_domain_obj())
    result_format = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": EXAMPLE_ROWS,
        "unexpected_index_column_names": list(target.key),
    }
    try:
        validation = batch_definition.get_batch().validate(suite, result_format=result_format)
    except Exception:  # the first pass's examples still say what is wrong
        return {}
    keyed: dict[str, list] = {}
    for config, rerun in zip(failed, validation.results, strict=True):
        rows = (rerun.result or {}).get("partial_unexpected_index_list")
        if rows:
            keyed[config.id] = rows
    return keyed


def _run_context(settings: Settings, run_id: str) -> Any:
    """An in-memory GX context: results under <warehouse>/gx, Data Docs in data_docs_dir."""
    from orchestration.lib.quality.runtime import ephemeral_context

    results_dir = _start_run_dirs(settings, run_id)
    return ephemeral_context(results_dir, settings.data_docs_dir, DATA_DOCS_SITE)


def _run_marker(settings: Settings) -> Path:
    return settings.warehouse_dir / "gx" / "run_id"


def data_docs_index(settings: Settings, run_id: str) -> Path | None:
    """The Data Docs index page if the gate of run `run_id` wrote it, else None."""
    index = settings.data_docs_dir / "index.html"
    marker = _run_marker(settings)
    if index.exists() and marker.exists() and marker.read_text().strip() == run_id:
        return index
    return None


def _start_run_dirs(settings: Settings, run_id: str) -> Path:
    """The results folder of this run; the first gate step of a run clears the last
    run's results and Data Docs, so the report shows exactly one run."""
    marker = _run_marker(settings)
    gx_dir = marker.parent
    if not marker.exists() or marker.read_text().strip() != run_id:
        for folder in (gx_dir, settings.data_docs_dir):
            shutil.rmtree(folder, ignore_errors=True)
        gx_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(run_id + "\n")
    return gx_dir / "validations"


def _rendered_suite(gx: Any, suite: Any, parameters: dict[str, Any]) -> tuple[Any, list[str]]:
    """A copy of `suite` for this run (placeholders filled), and the file ids in order."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    copies = []
    ids = []
    for expectation in suite.expectations:
        config = expectation.configuration.to_json_dict()
        config.pop("id", None)
        config.pop("rendered_content", None)
        if config["type"] == SQL_EXPECTATION_TYPE:
            config["kwargs"]["unexpected_rows_query"] = render_query(
                config["kwargs"]["unexpected_rows_query"],
                parameters,
                where=f"suite {suite.name}, expectation {expectation.id}",
            )
        copy = ExpectationConfiguration(**config).to_domain_obj()
        copy.severity = expectation.severity
        copies.append(copy)
        ids.append(expectation.id)
    # Given to the constructor, not added one by one: `add_expectation` compares each new
    # expectation with every one before it (a file's expectations are distinct already).
    return gx.ExpectationSuite(name=suite.name, meta=dict(suite.meta or {}), expectations=copies), ids


def _dispose(datasource: Any) -> None:
    """Close every connection the datasource opened: GX keeps two SQLAlchemy engines per
    SQL datasource (its own, used to test the connection and list tables, and its
    execution engine's), and DuckDB frees the file only when both pools are closed."""
    engines = [getattr(datasource, "_engine", None)]
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        engines.append(getattr(execution_engine, "engine", None))
    for engine in engines:
        if engine is not None:
            with contextlib.suppress(Exception):
                engine.dispose()


def _outcome(
    target: SuiteTarget, result: Any, file_ids: dict[str, str], keyed: dict[str, list] | None = None
) -> ExpectationOutcome:
    config = result.expectation_config
    severity = severity_of(config.meta, f"suite {target.suite}, expectation {config.id}")
    info = result.exception_info or {}
    error = None
    if info.get("raised_exception"):
        error = _first_line(info.get("exception_message"))
    else:  # metric errors are keyed by metric
        for value in info.values() if isinstance(info, dict) else ():
            if isinstance(value, dict) and value.get("raised_exception"):
                error = _first_line(value.get("exception_message"))
                break
    details = result.result or {}
    examples = (
        (keyed or {}).get(config.id)
        or details.get("partial_unexpected_list")
        or (details.get("details") or {}).get("unexpected_rows", [])
    )
    if result.success:
        status: Status = "passed"
    else:
        status = "failed" if severity is Severity.ERROR else "warned"
    return ExpectationOutcome(
        suite=target.suite,
        asset="/".join(target.asset_path),
        expectation_id=file_ids.get(config.id, config.id or ""),
        expectation_type=config.type,
        description=config.description or config.type,
        severity=severity,
        status=status,
        unexpected_count=details.get(
            "unexpected_count",
            details.get("observed_value") if config.type == SQL_EXPECTATION_TYPE else None,
        ),
        observed_value=details.get("observed_value"),
        examples=_json_safe(examples[:EXAMPLE_ROWS]),
        error=error,
    )


def _first_line(message: Any) -> str:
    text = str(message or "unknown error").strip()
    return text.splitlines()[0][:300] if text else "unknown error"


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _short(value: Any, limit: int = 240) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- recording -------------------------------------------------------------------


def record(work_db: Path, report: GateReport) -> None:
    """Write the report's results to audit.check_results (replacing this run's rows of
    the same suites, so a retried step does not double count)."""
    write_audit_rows(work_db, report.run_id, [s.target.suite for s in report.suites], list(_audit_rows(report)))


def write_audit_rows(work_db: Path, run_id: str, suites: Sequence[str], rows: list[list[Any]]) -> None:
    """Replace a run's rows of `suites` in audit.check_results by `rows`, in one transaction."""
    with contextlib.closing(duckdb.connect(str(work_db))) as con:
        con.execute("create schema if not exists audit")
        con.execute(
            f"""create table if not exists {AUDIT_TABLE} (
                run_id varchar, suite varchar, asset varchar, expectation_id varchar,
                expectation_type varchar, expectation varchar, severity varchar,
                status varchar, unexpected_count bigint, observed_value varchar,
                examples json, error varchar, evaluated_at timestamp)"""
        )
        con.begin()
        con.execute(f"delete from {AUDIT_TABLE} where run_id = ? and list_contains(?, suite)", [run_id, list(suites)])
        # One statement per INSERT_ROWS rows: executemany runs one insert per row (~0.5 ms each).
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start : start + INSERT_ROWS]
            row_values = "(" + ", ".join(["?"] * len(chunk[0])) + ")"
            con.execute(
                f"insert into {AUDIT_TABLE} values " + ", ".join([row_values] * len(chunk)),
                [value for row in chunk for value in row],
            )
        con.commit()


def _audit_rows(report: GateReport) -> Iterable[list[Any]]:
    for suite in report.suites:
        for e in suite.expectations:
            observed = None if e.observed_value is None else _short(e.observed_value, 1000)
            yield [
                report.run_id,
                e.suite,
                e.asset,
                e.expectation_id,
                e.expectation_type,
                e.description,
                e.severity.value,
                e.status,
                e.unexpected_count,
                observed,
                json.dumps(e.examples, default=str),
                e.error,
                report.evaluated_at,
            ]


def expectation_counts(work_db: Path, run_id: str) -> dict[str, int]:
    """Expectations passed, warned and failed in a run, from audit.check_results."""
    counts = {"passed": 0, "warned": 0, "failed": 0}
    if not work_db.exists():
        return counts
    with contextlib.closing(duckdb.connect(str(work_db), read_only=True)) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'audit' and table_name = 'check_results'"
        ).fetchone()[0]
        if not exists:
            return counts
        for status, n in con.execute(
            f"select status, count(*) from {AUDIT_TABLE} where run_id = ? group by status",
            [run_id],
        ).fetchall():
            if status in counts:
                counts[status] = int(n)
    return counts
