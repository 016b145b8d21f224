"""Run one connector: its dlt resources through a dlt pipeline into landing-contract extracts.

Why a dlt pipeline with a custom destination (a "sink") rather than dlt's filesystem destination:
the landing contract wants one Parquet file per entity and pull, typed by the contract, with no
`_dlt_*` columns or tables among the extracts, and written atomically. The sink stages each batch
of rows under GTM_WAREHOUSE_DIR/pull/staging/<source>/; only after the whole dlt run succeeded are
the staged rows written into the landing folder (temporary name, then rename). dlt keeps its own
state (the incremental cursors) under GTM_WAREHOUSE_DIR/pull/dlt/; `--full` drops it first.

If a run fails after dlt committed its state, the rows already extracted stay in dlt's pending
load package and in the staging folder, and the next pull delivers them: nothing is skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.connectors.base import Connector, PullError, redact
from orchestration.lib.connectors.extracts import extract_name, rows_to_table, write_extract
from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.settings import Settings

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass
class PullReport:
    source: str
    skipped: str | None = None  # why the source was not pulled (not configured)
    rows: dict[str, int] = field(default_factory=dict)  # entity folder -> rows written
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"{self.source}: skipped, {self.skipped}"]
        lines = [f"{self.source}:"]
        if not self.rows:
            lines.append("  nothing new since the last pull")
        lines.extend(f"  {entity:<28} {rows:>10,} rows" for entity, rows in self.rows.items())
        lines.extend(f"  wrote {path}" for path in self.files)
        lines.extend(f"  {note}" for note in self.notes)
        return lines


def pull(connector: Connector, settings: Settings, full: bool = False, now: dt.datetime | None = None) -> PullReport:
    """Pull one source now; a source that is not configured is skipped with the reason."""
    missing = connector.missing_settings(settings)
    if missing:
        return PullReport(connector.name, skipped=f"not configured (set {', '.join(missing)})")
    secrets = connector.secrets(settings)
    staging = settings.pull_dir / "staging" / connector.name
    try:
        extraction = connector.extraction(settings)
        _run_pipeline(connector, settings, extraction.resources, staging, full)
    except PullError as error:
        raise PullError(error.source, redact(error.where, secrets), redact(error.reason, secrets)) from None
    now = now or dt.datetime.now(dt.UTC)
    notes = list(extraction.notes)
    for summary in extraction.summaries:
        lines = summary()
        notes.extend([lines] if isinstance(lines, str) else lines)
    report = PullReport(connector.name, notes=notes)
    for table_dir in sorted(p for p in staging.iterdir() if p.is_dir()) if staging.exists() else []:
        entity = ENTITIES_BY_NAME[table_dir.name]
        parts = sorted(table_dir.glob("*.parquet"))
        table = pa.concat_tables(pq.read_table(p) for p in parts) if parts else None
        if table is not None and table.num_rows:
            report.files.append(write_extract(settings.landing_dir, entity, table, extract_name(now, connector.name)))
            report.rows[entity.folder] = table.num_rows
        shutil.rmtree(table_dir)
    return report


DLT_TYPES = {
    "text": "text",
    "timestamp": "timestamp",
    "date": "date",
    "decimal": "double",
    "boolean": "bool",
    "integer": "bigint",
}


def dlt_columns(entity) -> dict[str, dict]:
    """The contract's columns as dlt column hints: every column is declared, even when a batch holds only nulls."""
    return {c.name: {"data_type": DLT_TYPES[c.type], "nullable": True} for c in entity.columns}


def _run_pipeline(connector: Connector, settings: Settings, resources, staging: Path, full: bool) -> None:
    import dlt
    from dlt.pipeline.exceptions import PipelineStepFailed

    def stage(items, table) -> None:
        entity = ENTITIES_BY_NAME[table["name"]]
        folder = staging / table["name"]
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"{uuid.uuid4().hex}.parquet"
        pq.write_table(rows_to_table(entity, items), part.with_suffix(".tmp"))
        os.replace(part.with_suffix(".tmp"), part)

    sink = dlt.destination(
        stage,
        name=f"gtm_landing_{connector.name}",
        batch_size=50_000,
        loader_file_format="typed-jsonl",
        naming_convention="direct",
        skip_dlt_columns_and_tables=True,
        max_table_nesting=0,
    )
    pipelines_dir = str(settings.pull_dir / "dlt")
    name = f"gtm_{connector.name}"
    if full:
        dlt.pipeline(pipeline_name=name, pipelines_dir=pipelines_dir).drop()
        shutil.rmtree(staging, ignore_errors=True)
    pipeline = dlt.pipeline(
        pipeline_name=name, pipelines_dir=pipelines_dir, destination=sink, dataset_name=connector.name
    )
    for resource in resources:
        resource.apply_hints(columns=dlt_columns(ENTITIES_BY_NAME[resource.name]))
    try:
        pipeline.run(resources)
    except PipelineStepFailed as failed:
        cause, seen = failed.exception, set()
        while cause is not None and not isinstance(cause, PullError) and id(cause) not in seen:
            seen.add(id(cause))
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, PullError):
            raise cause from None
        root = failed.exception
        raise PullError(connector.name, f"dlt step {failed.step}", f"{type(root).__name__}: {root}") from None


def pull_sources(settings: Settings, names: list[str] | None = None, full: bool = False) -> list[PullReport]:
    """Pull the named sources (all when none is named), in CONNECTORS order; stops at the first failure."""
    from orchestration.lib.connectors import CONNECTORS

    unknown = [n for n in names or [] if n not in CONNECTORS]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; the sources are {', '.join(CONNECTORS)}")
    chosen = [c for name, c in CONNECTORS.items() if not names or name in names]
    return [pull(connector, settings, full=full) for connector in chosen]
