"""Run one connector: its dlt resources through a dlt pipeline into landing-contract extracts.

Why a dlt pipeline with a custom destination (a "sink") rather than dlt's filesystem destination:
the landing contract wants one Parquet file per entity and pull, typed by the contract, with no
`_dlt_*` columns or tables among the extracts, and written atomically. The sink stages each batch
of rows under GTM_WAREHOUSE_DIR/pull/staging/<source>/; only after the whole dlt run succeeded are
the staged rows written into the landing folder (temporary name, then rename). dlt keeps its own
state (the incremental cursors) under GTM_WAREHOUSE_DIR/pull/dlt/; `--full` drops it first.

If a run fails after dlt committed its state, the rows already extracted stay in dlt's pending
load package and in the staging folder, and the next pull delivers them: nothing is skipped.

`pull` is `gtm pull`; the Dagster pull assets (orchestration/defs/pull/assets.py) run the same
pipeline, source and landing step through dagster-dlt.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.connectors.base import Connector, Extraction, PullError, redact
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
    skipped = skip_reason(connector, settings)
    if skipped:
        return PullReport(connector.name, skipped=skipped)
    with pull_errors(connector, settings):
        extraction = connector.extraction(settings)
        pipeline = landing_pipeline(connector, settings, full)
        pipeline.run(connector_source(connector, extraction.resources))
    return land_staged(connector, settings, extraction, now)


def skip_reason(connector: Connector, settings: Settings) -> str | None:
    missing = connector.missing_settings(settings)
    return f"not configured (set {', '.join(missing)})" if missing else None


def staging_dir(connector: Connector, settings: Settings) -> Path:
    return settings.pull_dir / "staging" / connector.name


def land_staged(
    connector: Connector, settings: Settings, extraction: Extraction, now: dt.datetime | None = None
) -> PullReport:
    """Write what the sink staged into the landing folder, one extract per entity (atomically)."""
    now = now or dt.datetime.now(dt.UTC)
    notes = list(extraction.notes)
    for summary in extraction.summaries:
        lines = summary()
        notes.extend([lines] if isinstance(lines, str) else lines)
    report = PullReport(connector.name, notes=notes)
    staging = staging_dir(connector, settings)
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


def pipeline_name(connector: Connector) -> str:
    return f"gtm_{connector.name}"


def connector_source(connector: Connector, resources: Sequence[Any]):
    """The connector's resources as one dlt source, typed by the contract. Its schema is named like the
    pipeline, as dlt names loose resources, so the incremental state stays where earlier pulls kept it."""
    from dlt.common.schema import Schema
    from dlt.extract.source import DltSource

    for resource in resources:
        resource.apply_hints(columns=dlt_columns(ENTITIES_BY_NAME[resource.name]))
    return DltSource(Schema(pipeline_name(connector)), pipeline_name(connector), list(resources))


def landing_sink(connector: Connector, staging: Path):
    """dlt's custom destination that stages each batch as a Parquet part under `staging`/<entity>/."""
    import dlt

    def stage(items, table) -> None:
        entity = ENTITIES_BY_NAME[table["name"]]
        folder = staging / table["name"]
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f"{uuid.uuid4().hex}.parquet"
        pq.write_table(rows_to_table(entity, items), part.with_suffix(".tmp"))
        os.replace(part.with_suffix(".tmp"), part)

    return dlt.destination(
        stage,
        name=f"gtm_landing_{connector.name}",
        batch_size=50_000,
        loader_file_format="typed-jsonl",
        naming_convention="direct",
        skip_dlt_columns_and_tables=True,
        max_table_nesting=0,
    )


def landing_pipeline(connector: Connector, settings: Settings, full: bool = False):
    """The connector's dlt pipeline into the landing sink; `full` first drops its state and staged rows.

    Packages that an earlier failed pull left pending are loaded now, as dlt's `run` does, so the
    Dagster assets (dagster-dlt would abort them, rolling the state back) deliver what `gtm pull` does."""
    import dlt

    staging = staging_dir(connector, settings)
    pipelines_dir = str(settings.pull_dir / "dlt")
    if full:
        dlt.pipeline(pipeline_name=pipeline_name(connector), pipelines_dir=pipelines_dir).drop()
        shutil.rmtree(staging, ignore_errors=True)
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name(connector),
        pipelines_dir=pipelines_dir,
        destination=landing_sink(connector, staging),
        dataset_name=connector.name,
    )
    # The sink keeps no state, so dlt's local state is its only copy: never "restore" it from the
    # destination (dagster-dlt would also drop the local state before every run if this were on).
    pipeline.config.restore_from_destination = False
    if pipeline.has_pending_data:
        pipeline.normalize()
        pipeline.load()
    return pipeline


@contextmanager
def pull_errors(connector: Connector, settings: Settings) -> Iterator[None]:
    """Turn a failure inside dlt into the PullError a connector raised (or one naming the dlt step),
    with every secret of the connector redacted."""
    from dlt.pipeline.exceptions import PipelineStepFailed

    secrets = connector.secrets(settings)
    try:
        try:
            yield
        except PipelineStepFailed as failed:
            cause, seen = failed.exception, set()
            while cause is not None and not isinstance(cause, PullError) and id(cause) not in seen:
                seen.add(id(cause))
                cause = cause.__cause__ or cause.__context__
            if isinstance(cause, PullError):
                raise cause from None
            root = failed.exception
            raise PullError(connector.name, f"dlt step {failed.step}", f"{type(root).__name__}: {root}") from None
    except PullError as error:
        raise PullError(error.source, redact(error.where, secrets), redact(error.reason, secrets)) from None


def pull_sources(settings: Settings, names: list[str] | None = None, full: bool = False) -> list[PullReport]:
    """Pull the named sources (all when none is named), in CONNECTORS order; stops at the first failure."""
    from orchestration.lib.connectors import CONNECTORS

    unknown = [n for n in names or [] if n not in CONNECTORS]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; the sources are {', '.join(CONNECTORS)}")
    chosen = [c for name, c in CONNECTORS.items() if not names or name in names]
    return [pull(connector, settings, full=full) for connector in chosen]
