"""Benchmark the nightly refresh against the engine's limit and a pandas baseline.

For each scale of the demo generator (fixed seed and as_of_date), and `--runs` times,
three contenders run one after the other on the same data and the same machine:

- pipeline: `gtm refresh`, the whole process (ingest, source checks, dbt build with its
  tests, mart checks, publish) with phase times read from the run's Dagster event log;
- limit: the same dbt models, compiled, executed in order as bare SQL in one DuckDB
  process, reading the same landing files with DuckDB's readers (bench/limit.py);
- pandas: commercial_ratio, lead_funnel and mrr_movements from the same landing files
  in vectorized pandas (bench/pandas_baseline.py), checked equal to the published
  tables; the limit's marts are checked the same way.

Each contender runs as its own process, measured by bench/measure.py (wall time, peak
RSS of the process tree). Results go to <results-dir>/<date>.md and .json.
See bench/README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))

import compare  # noqa: E402
import nightly  # noqa: E402
from compare_published import compare_files  # noqa: E402
from measure import Measurement, run_measured  # noqa: E402

from orchestration.lib.contract import DUCKDB_TYPES, SOURCE_ENTITIES, STAGE_MAPPING, Entity  # noqa: E402
from orchestration.lib.ingest import extract_files  # noqa: E402
from orchestration.lib.ingest.snapshots import SNAPSHOT_COLUMNS, SNAPSHOT_ENTITIES, snapshots_table_name  # noqa: E402
from orchestration.settings import DBT_PROJECT_DIR, Settings  # noqa: E402

CONTENDERS = ("pipeline", "limit", "pandas")
LABELS = {
    "pipeline": "pipeline (`gtm refresh`)",
    "limit": "limit (bare DuckDB SQL)",
    "pandas": "pandas (3 marts)",
}
DEFAULT_AS_OF = "2026-11-26"
SMOKE_SCALE = 0.05
# Environment every contender gets (the Makefile's quiet, offline settings).
QUIET_ENV = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
# Settings a bench run may pass through from the caller's environment, to compare
# engine configurations; every other GTM_* variable is dropped so runs are repeatable.
PASSED_SETTINGS = ("GTM_DUCKDB_THREADS", "GTM_DUCKDB_MEMORY_LIMIT")


@dataclass
class Sample:
    contender: str
    run: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    sampled_tree_rss_mb: float
    largest_process_rss_mb: float
    phases: dict[str, float] = field(default_factory=dict)
    note: str = ""
    steps: dict[str, float] = field(default_factory=dict)  # seconds per Dagster step


# -- the machine ------------------------------------------------------------------------


def describe_machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    meminfo = dict(
        (line.split(":")[0], line.split(":")[1].strip()) for line in Path("/proc/meminfo").read_text().splitlines()
    )
    versions = {}
    for package in ("duckdb", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "great-expectations", "pandas"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # a missing package is just not listed
            continue
    return {
        "cores": os.cpu_count(),
        "cpu": models[0] if models else platform.processor(),
        "memory_gib": round(int(meminfo["MemTotal"].split()[0]) / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "versions": versions,
    }


# -- data --------------------------------------------------------------------------------


def ensure_landing(landing: Path, scale: float, seed: int, as_of: dt.date) -> dict[str, int]:
    """Demo data for the scale, generated once and reused while scale, seed and date match."""
    marker = landing / ".bench"
    wanted = f"scale={scale:g} seed={seed} as_of_date={as_of}"
    if marker.exists() and marker.read_text().splitlines()[0] == wanted:
        return json.loads(marker.read_text().splitlines()[1])
    from orchestration.demo_data import generate

    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    counts = generate(landing, scale=scale, seed=seed, as_of_date=as_of)
    marker.write_text(wanted + "\n" + json.dumps(counts) + "\n")
    return counts


def fresh_refresh_env(paths: dict[str, Path], as_of: dt.date, emptied: tuple[str, ...]) -> dict[str, str]:
    """Empty the `emptied` work folders (a fresh warehouse and Dagster instance) and return the
    environment of a `gtm refresh` on `paths["landing"]`."""
    for name in emptied:
        shutil.rmtree(paths[name], ignore_errors=True)
        paths[name].mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", paths["dagster_home"] / "dagster.yaml")
    return base_env(
        GTM_LANDING_DIR=str(paths["landing"]),
        GTM_WAREHOUSE_DIR=str(paths["warehouse"]),
        GTM_AS_OF_DATE=as_of.isoformat(),
        DAGSTER_HOME=str(paths["dagster_home"]),
    )


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTM_") or k in PASSED_SETTINGS}
    env.update(QUIET_ENV)
    env.update(extra)
    return env


# -- the limit's plan ---------------------------------------------------------------------


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_header(path: Path) -> tuple[str, ...]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        return tuple(next(csv.reader(file)))


def _csv_sql(entity: Entity, files: list[Path], options: str) -> list[str]:
    """One `read_csv` per header layout, with the dialect and every column's type given.

    Nothing is sniffed: DuckDB's sniffer runs on every file of a multi-file read (and
    `union_by_name` binds every file on its own), at 0.1-0.3 s of CPU a file whatever its
    size, which made reading the demo's 53 weekly opportunities extracts take ~8 s at
    scale 1 for 0.4 s of reading (bench/README.md, "Levers"). The header is read here,
    as the pipeline's ingest reads it, and files sharing one are read together."""
    layouts: dict[tuple[str, ...], list[Path]] = defaultdict(list)
    for path in files:
        layouts[_csv_header(path)].append(path)
    contract = {c.name: DUCKDB_TYPES[c.type] for c in entity.columns}
    readers = []
    for header, chosen in layouts.items():
        columns = ", ".join(f"{_lit(name)}: {_lit(contract.get(name, 'VARCHAR'))}" for name in header)
        paths = ", ".join(_lit(str(f)) for f in chosen)
        readers.append(
            f"select * from read_csv([{paths}], header = true, auto_detect = false, columns = {{{columns}}}, "
            f"delim = ',', quote = '\"', escape = '\"'{options})"
        )
    return readers


def _files_sql(entity: Entity, files: list[Path], with_filename: bool) -> str:
    """Every row of `files` with DuckDB's readers (typed on read for CSV), as one query."""
    readers = []
    csv_files = [f for f in files if f.suffix.lower() == ".csv"]
    if csv_files:
        readers += _csv_sql(entity, csv_files, ", filename = true" if with_filename else "")
    parquet_files = [_lit(str(f)) for f in files if f.suffix.lower() == ".parquet"]
    if parquet_files:
        options = ", union_by_name = true, filename = true" if with_filename else ""
        readers.append(f"select * from read_parquet([{', '.join(parquet_files)}]{options})")
    return " union all by name ".join(readers)


def _typed(entity: Entity) -> str:
    return ", ".join(f"cast({_q(c.name)} as {DUCKDB_TYPES[c.type]}) as {_q(c.name)}" for c in entity.columns)


def raw_load_sql(entity: Entity, files: list[Path]) -> str:
    """raw.<entity> from its files with DuckDB's readers: typed on read, the newest file
    winning a key when there are several; no quarantine, accounting or conflict log."""
    table = f"raw.{_q(entity.qualified_name)}"
    if not files:
        columns = ", ".join(f"{_q(c.name)} {DUCKDB_TYPES[c.type]}" for c in entity.columns)
        return f"create or replace table {table} ({columns})"
    several = len(files) > 1
    newest = ""
    if several:
        key = ", ".join(_q(k) for k in entity.key)
        newest = f" qualify row_number() over (partition by {key} order by filename desc) = 1"
    source = _files_sql(entity, files, several)
    return f"create or replace table {table} as select {_typed(entity)} from ({source}){newest}"


def snapshots_load_sql(entity: Entity, files: list[Path]) -> str:
    """raw.<entity>_snapshots (lib/ingest/snapshots.py) from its files: each file's distinct
    rows with the file's name and extract date; no row numbers (every `_source_row` is 1)."""
    table = f"raw.{_q(snapshots_table_name(entity))}"
    columns = ", ".join(f"{_q(name)} {sql_type}" for name, sql_type in SNAPSHOT_COLUMNS)
    if not files:
        typed_columns = ", ".join(f"{_q(c.name)} {DUCKDB_TYPES[c.type]}" for c in entity.columns)
        return f"create or replace table {table} ({typed_columns}, {columns})"
    file_name = "regexp_extract(filename, '[^/]+$')"
    return f"""create or replace table {table} as
        select distinct {_typed(entity)},
            {_lit(entity.folder + "/")} || {file_name} as _source_file,
            try_cast(left({file_name}, 10) as date) as _extract_date,
            cast(1 as bigint) as _source_row,
            cast(null as timestamp) as _loaded_at
        from ({_files_sql(entity, files, True)})"""


def compile_models(work: Path, settings: Settings, env: dict[str, str]) -> list[dict[str, str]]:
    """`dbt compile` the models (same vars as the refresh) -> [{name, materialized,
    relation, sql}] in dependency order. The limit's database is named work.duckdb
    too, so the compiled relation names ("work"."marts"."x") resolve unchanged."""
    compile_dir = work / "compile"
    shutil.rmtree(compile_dir, ignore_errors=True)
    compile_dir.mkdir(parents=True)
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt) if dbt.exists() else "dbt",
        "compile",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(compile_dir / "target"),
        "--log-path", str(compile_dir / "logs"),
        "--vars", json.dumps(settings.dbt_vars()),
        "--select", "resource_type:model",
        "--quiet",
    ]
    dbt_env = {**env, **settings.dbt_env(), "GTM_WORK_DB_PATH": str(compile_dir / "work.duckdb")}
    done = subprocess.run(command, env=dbt_env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    if done.returncode != 0:
        raise click.ClickException(f"dbt compile failed:\n{done.stdout}\n{done.stderr}")
    manifest = json.loads((compile_dir / "target" / "manifest.json").read_text())
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen:
            return
        seen.add(unique_id)
        for parent in sorted(models[unique_id]["depends_on"]["nodes"]):
            if parent in models:
                visit(parent)
        ordered.append(unique_id)

    for unique_id in sorted(models):
        visit(unique_id)
    return [
        {
            "name": models[u]["name"],
            "schema": models[u]["schema"],
            "materialized": models[u]["config"]["materialized"],
            "relation": models[u]["relation_name"],
            "sql": models[u]["compiled_code"],
        }
        for u in ordered
    ]


def limit_plan(landing: Path, settings: Settings, models: list[dict[str, str]]) -> dict[str, list[str]]:
    read = ["create schema if not exists raw"]
    for entity in SOURCE_ENTITIES:
        folder = landing / entity.source / entity.name
        files = extract_files(folder) if folder.is_dir() else []
        read.append(raw_load_sql(entity, files))
        if entity in SNAPSHOT_ENTITIES:
            read.append(snapshots_load_sql(entity, files))
    read.append(raw_load_sql(STAGE_MAPPING, [settings.stage_mapping]))
    statements = [f"create schema if not exists {_q(s)}" for s in sorted({m["schema"] for m in models})]
    for model in models:
        kind = "view" if model["materialized"] == "view" else "table"
        statements.append(f"create or replace {kind} {model['relation']} as (\n{model['sql']}\n)")
    return {"read": read, "models": statements}


# -- contenders ---------------------------------------------------------------------------


def _json_line(log: Path) -> dict[str, float]:
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _fail(what: str, measurement: Measurement, log: Path) -> None:
    tail = "\n".join(log.read_text().splitlines()[-30:])
    raise click.ClickException(f"{what} exited with {measurement.returncode}; last lines of {log}:\n{tail}")


# What `gtm refresh` prints when a quality check kept it from publishing (its ingest stands).
NOT_PUBLISHED = "NOT PUBLISHED (a check failed)"


def run_pipeline(
    run: int,
    paths: dict[str, Path],
    env: dict[str, str],
    args: tuple[str, ...] = (),
    contender: str = "pipeline",
    unpublished_ok: bool = False,
) -> Sample:
    """Time one `gtm refresh`; with `unpublished_ok`, a refresh a quality check kept from
    publishing counts too (the nightly scenario's night before needs only its ingest)."""
    log = paths["logs"] / f"{contender}_{run}.log"
    gtm = Path(sys.executable).with_name("gtm")
    command = [str(gtm), "refresh"] if gtm.exists() else [sys.executable, "-m", "orchestration.cli", "refresh"]
    command += args
    measurement = run_measured(command, env=env, log_path=log, cwd=PROJECT_ROOT)
    if measurement.returncode != 0 and not (unpublished_ok and NOT_PUBLISHED in log.read_text()):
        _fail("gtm refresh", measurement, log)
    run_id = next(
        (line.split()[1] for line in log.read_text().splitlines() if line.startswith("Run ")), None
    )
    phases, steps = pipeline_phases(paths["dagster_home"], run_id)
    phases["other"] = measurement.wall_s - sum(phases.values())
    return Sample(contender, run, **_measured(measurement), phases=phases, note=f"run {run_id}", steps=steps)


def pipeline_phases(dagster_home: Path, run_id: str | None) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds per phase from the run's own event log: step start to step end, steps
    grouped as pull (pull__*), ingest (raw__*), dbt (the dbt assets), publish, and gate (the asset-check
    steps of the quality gate)."""
    import dagster as dg

    # dagster.yaml reads DAGSTER_HOME (the event log's folder): the run's, not this process's
    previous_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        instance = dg.DagsterInstance.from_config(str(dagster_home))
    finally:
        if previous_home is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = previous_home
    try:
        if run_id is None:
            run_id = instance.get_runs(limit=1)[0].run_id
        records = instance.all_logs(
            run_id,
            of_type={
                dg.DagsterEventType.STEP_START,
                dg.DagsterEventType.STEP_SUCCESS,
                dg.DagsterEventType.STEP_FAILURE,
            },
        )
    finally:
        instance.dispose()
    started: dict[str, float] = {}
    steps: dict[str, float] = {}
    for record in records:
        key = record.step_key or "?"
        if record.dagster_event_type == dg.DagsterEventType.STEP_START:
            started[key] = record.timestamp
        elif key in started:
            steps[key] = record.timestamp - started[key]
    phases: dict[str, float] = defaultdict(float)
    for key, seconds in steps.items():
        phases[phase_of(key)] += seconds
    ordered = {p: phases.get(p, 0.0) for p in ("pull", "ingest", "gate", "dbt", "publish")}
    return ordered, {k: round(v, 2) for k, v in steps.items()}


def phase_of(step_key: str) -> str:
    if step_key.startswith("pull__"):  # one step per connector, skipped when not configured
        return "pull"
    if step_key.startswith("raw__"):
        return "ingest"
    if step_key == "gtm_dbt_models":
        return "dbt"
    if step_key == "published__warehouse":
        return "publish"
    return "gate"  # the asset-check steps: source_quality_gate, mart_quality_gate


def run_limit(run: int, paths: dict[str, Path], env: dict[str, str], settings: Settings) -> Sample:
    log = paths["logs"] / f"limit_{run}.log"
    database = paths["limit"] / "work.duckdb"
    command = [
        sys.executable, str(BENCH_DIR / "limit.py"), str(paths["plan"]), str(database),
        "--threads", str(settings.duckdb_threads), "--memory-limit", settings.duckdb_memory_limit,
    ]
    measurement = run_measured(command, env=env, log_path=log)
    if measurement.returncode != 0:
        _fail("the limit", measurement, log)
    return Sample("limit", run, **_measured(measurement), phases=_json_line(log))


def run_pandas(run: int, paths: dict[str, Path], env: dict[str, str], as_of: dt.date) -> Sample:
    log = paths["logs"] / f"pandas_{run}.log"
    shutil.rmtree(paths["pandas"], ignore_errors=True)
    command = [
        sys.executable, str(BENCH_DIR / "pandas_baseline.py"), str(paths["landing"]), str(paths["pandas"]),
        "--as-of-date", as_of.isoformat(),
    ]
    measurement = run_measured(command, env=env, log_path=log)
    if measurement.returncode != 0:
        _fail("the pandas baseline", measurement, log)
    phases = _json_line(log)
    phases.pop("total", None)
    return Sample("pandas", run, **_measured(measurement), phases=phases)


def _measured(m: Measurement) -> dict[str, float]:
    return {
        "wall_s": m.wall_s,
        "cpu_s": m.cpu_s,
        "peak_rss_mb": m.peak_rss_mb,
        "sampled_tree_rss_mb": m.sampled_tree_rss_mb,
        "largest_process_rss_mb": m.largest_process_rss_mb,
    }


def check_outputs(paths: dict[str, Path]) -> dict[str, Any]:
    """Compare the pandas output and the limit's marts with the published tables."""
    published = compare.read_marts(paths["warehouse"] / "published.duckdb")
    checks = {
        "pandas": compare.compare_all(published, compare.read_parquet_marts(paths["pandas"])),
        "limit": compare.compare_all(published, compare.read_marts(paths["limit"] / "work.duckdb")),
    }
    return {"rows": {m: len(f) for m, f in published.items()}, "problems": checks}


# -- one scale ----------------------------------------------------------------------------


def bench_scale(
    scale: float, runs: int, seed: int, as_of: dt.date, work: Path, models: list[dict[str, str]]
) -> dict[str, Any]:
    root = work / f"scale_{scale:g}"
    paths = {
        "landing": root / "landing",
        "warehouse": root / "warehouse",
        "dagster_home": root / "dagster_home",
        "limit": root / "limit",
        "pandas": root / "pandas_out",
        "logs": root / "logs",
        "plan": root / "limit_plan.json",
    }
    click.echo(f"scale {scale:g}: demo data (seed {seed}, as of {as_of})")
    counts = ensure_landing(paths["landing"], scale, seed, as_of)
    # A fresh warehouse and Dagster instance per scale: run 1 starts empty (no previous
    # publication, no dbt partial-parse state), later runs find the previous run's, as
    # the nightly job does.
    env = fresh_refresh_env(paths, as_of, ("warehouse", "dagster_home", "limit", "logs"))
    settings = Settings.from_env(env)
    paths["plan"].write_text(json.dumps(limit_plan(paths["landing"], settings, models), indent=1))
    samples: list[Sample] = []
    checks: dict[str, Any] = {}
    for run in range(1, runs + 1):
        for contender in CONTENDERS:
            if contender == "pipeline":
                sample = run_pipeline(run, paths, env)
            elif contender == "limit":
                sample = run_limit(run, paths, env, settings)
            else:
                sample = run_pandas(run, paths, env, as_of)
            samples.append(sample)
            click.echo(
                f"  run {run} {contender:<8} {sample.wall_s:8.2f} s (cpu {sample.cpu_s:6.1f} s) "
                f"{sample.peak_rss_mb:6.0f} MB  "
                + " ".join(f"{k} {v:.1f}" for k, v in sample.phases.items())
            )
        checks = check_outputs(paths)
        for who, problems in checks["problems"].items():
            for problem in problems:
                click.echo(f"  NOT EQUAL ({who}): {problem}", err=True)
    return {
        "scale": scale,
        "rows_landed": counts,
        "settings": {"duckdb_threads": settings.duckdb_threads, "duckdb_memory_limit": settings.duckdb_memory_limit},
        "samples": [asdict(s) for s in samples],
        "equality": checks,
    }


# -- the nightly scenario (issue 16) ------------------------------------------------------


def bench_nightly(scale: float, runs: int, seed: int, as_of: dt.date, work: Path) -> dict[str, Any]:
    """A warehouse holding a year of extracts gets one new extract of every entity: the
    incremental `gtm refresh` against `gtm refresh --full`, from the same warehouse (bench/nightly.py)."""
    root = work / f"nightly_{scale:g}"
    paths = {
        name: root / name for name in ("landing", "warehouse", "dagster_home", "logs", "held", "night_before")
    }
    click.echo(f"nightly, scale {scale:g}: demo data with a year of extracts (seed {seed}, as of {as_of})")
    ensure_landing(paths["landing"], scale, seed, as_of)
    files = nightly.files_per_entity(paths["landing"])
    newest_bytes = nightly.newest_bytes(paths["landing"])
    env = fresh_refresh_env(paths, as_of, ("warehouse", "dagster_home", "logs", "held", "night_before"))
    moved = nightly.hold_back_newest(paths["landing"], paths["held"])
    try:
        # The warehouse of the night before. Without the as-of date's accounts (the
        # newest delta), the billing extracts (landed once, on the as-of date) name accounts
        # it does not hold yet: the gate keeps that night from publishing, its ingest stands.
        samples = [run_pipeline(0, paths, env, contender="history", unpublished_ok=True)]
    finally:
        nightly.put_back(paths["landing"], paths["held"], moved)
    shutil.copytree(paths["warehouse"], paths["night_before"], dirs_exist_ok=True)
    problems: list[str] = []
    for run in range(1, runs + 1):
        shutil.rmtree(paths["warehouse"])
        shutil.copytree(paths["night_before"], paths["warehouse"])
        samples.append(run_pipeline(run, paths, env, contender="incremental"))
        incremental = root / "incremental.duckdb"
        shutil.copy2(paths["warehouse"] / "published.duckdb", incremental)
        samples.append(run_pipeline(run, paths, env, args=("--full",), contender="full"))
        comparison = compare_files(incremental, paths["warehouse"] / "published.duckdb", ignore=["publication"])
        problems += comparison.value_differences
        for sample in samples[-2:]:
            click.echo(
                f"  run {run} {sample.contender:<11} {sample.wall_s:8.2f} s (cpu {sample.cpu_s:6.1f} s) "
                + " ".join(f"{k} {v:.1f}" for k, v in sample.phases.items())
            )
    for problem in problems:
        click.echo(f"  NOT EQUAL (incremental vs full): {problem}", err=True)
    return {
        "scale": scale,
        "files": files,
        "new_files": len(moved),
        "newest_bytes": newest_bytes,
        "samples": [asdict(s) for s in samples],
        "problems": problems,
    }


def render_nightly(report: dict[str, Any]) -> str:
    machine = report["machine"]
    lines = [
        f"# Benchmark: nightly refresh, incremental vs full — {report['date']}",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB memory; "
        f"command `{report['command']}`; load average at start {report['load_start']}, at end "
        f"{report['load_end']}: the machine is shared, so timings are noisy (compare CPU seconds too).",
        "",
        "A warehouse that already holds a year of the demo's extracts at the generator's cadence "
        "(opportunities weekly; accounts and leads in full once, then monthly deltas; campaigns and stage "
        "history monthly in full; billing and finance once) receives the "
        "newest extract of every entity that has several; `gtm refresh` (incremental: reads the new "
        "files) and `gtm refresh --full` (re-reads every file) run from the same warehouse. Medians over "
        "the runs; ingest = the ingest step (Dagster event log).",
        "",
        "| scale | files held | new files | incremental s | full s | incremental / full "
        "| ingest incremental s | ingest full s | ingest incremental / full | publications equal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in report["scales"]:
        by: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sample in result["samples"]:
            by[sample["contender"]].append(sample)
        wall = {c: statistics.median(s["wall_s"] for s in by[c]) for c in ("incremental", "full")}
        ingest = {c: statistics.median(s["phases"].get("ingest", 0.0) for s in by[c]) for c in ("incremental", "full")}
        lines.append(
            f"| {result['scale']:g} | {sum(result['files'].values())} | {result['new_files']} "
            f"| {wall['incremental']:.1f} | {wall['full']:.1f} | {wall['incremental'] / wall['full']:.0%} "
            f"| {ingest['incremental']:.1f} | {ingest['full']:.1f} | {ingest['incremental'] / ingest['full']:.0%} "
            f"| {'yes' if not result['problems'] else 'NO: ' + '; '.join(result['problems'][:3])} |"
        )
    lines += _nightly_per_entity(report)
    lines += ["", "Every run (run 0 is the first refresh of the year, before the new files):", "",
              "| scale | run | refresh | wall s | CPU s | peak RSS MB | phases s |", "|---|---|---|---|---|---|---|"]
    for result in report["scales"]:
        for sample in result["samples"]:
            lines.append(
                f"| {result['scale']:g} | {sample['run']} | {sample['contender']} | {sample['wall_s']:.2f} "
                f"| {sample['cpu_s']:.1f} | {sample['peak_rss_mb']:.0f} | {_phases(sample['phases'])} |"
            )
    return "\n".join(lines) + "\n"


def _nightly_per_entity(report: dict[str, Any]) -> list[str]:
    """The new file's share of every entity's bytes (the ingest runs as one Dagster step,
    so the event log has no time per entity)."""
    lines = ["", "The night's new file of every entity, against all its files:", "",
             "| scale | entity | new file MB | all files MB | share |", "|---|---|---|---|---|"]
    for result in report["scales"]:
        for entity, (new, total) in result.get("newest_bytes", {}).items():
            lines.append(
                f"| {result['scale']:g} | {entity} | {new / 1e6:.2f} | {total / 1e6:.2f} | {new / total:.1%} |"
            )
    return lines


# -- reporting ----------------------------------------------------------------------------


def _stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in result["samples"]:
        by[s["contender"]].append(s)
    summary: dict[str, Any] = {"contenders": {}, "ratios": {}}
    for contender, samples in by.items():
        phase_names = list(dict.fromkeys(k for s in samples for k in s["phases"]))
        summary["contenders"][contender] = {
            "wall_s": _stats([s["wall_s"] for s in samples]),
            "cpu_s": _stats([s["cpu_s"] for s in samples]),
            "peak_rss_mb": _stats([s["peak_rss_mb"] for s in samples]),
            "phases": {p: statistics.median([s["phases"].get(p, 0.0) for s in samples]) for p in phase_names},
        }
    runs = defaultdict(dict)
    for s in result["samples"]:
        runs[s["run"]][s["contender"]] = s
    pairs = {
        "pipeline / limit (time)": ("pipeline", "limit", "wall_s"),
        "pandas / pipeline (time)": ("pandas", "pipeline", "wall_s"),
        "pipeline / pandas (peak RSS)": ("pipeline", "pandas", "peak_rss_mb"),
        "pipeline - limit (s)": ("pipeline", "limit", "wall_s"),
    }
    for name, (a, b, metric) in pairs.items():
        values = []
        for run in runs.values():
            if a in run and b in run:
                x, y = run[a][metric], run[b][metric]
                values.append(x - y if name.endswith("(s)") else x / y)
        if values:
            summary["ratios"][name] = _stats(values)
    return summary


def _phases(phases: dict[str, float]) -> str:
    return " · ".join(f"{k} {v:.1f}" for k, v in phases.items())


def render_markdown(report: dict[str, Any]) -> str:
    machine = report["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        f"# Benchmark: pipeline vs bare DuckDB vs pandas — {report['date']}",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB memory, "
        f"Linux {machine['kernel']}; Python {machine['python']}; {versions}.",
        f"Command: `{report['command']}`; {report['runs']} run(s) per contender per scale, contenders "
        f"interleaved (pipeline, limit, pandas) within each run; seed {report['seed']}, as_of_date "
        f"{report['as_of_date']}; load average at start {report['load_start']}, at end {report['load_end']} "
        "(other work on the machine makes timings noisy).",
        "",
        "Wall time and peak RSS are of the whole process tree (bench/measure.py). Pipeline phases come "
        "from the run's Dagster event log (step start to step end); `other` is the rest of the "
        "process: start-up and imports, run planning, Dagster's bookkeeping between steps, the summary.",
        "",
    ]
    overview = [
        "| scale | rows landed | pipeline s | limit s | pipeline / limit | pipeline - limit s | pandas s "
        "| pandas / pipeline | pipeline MB | pandas MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in report["scales"]:
        s = result["summary"]
        c, r = s["contenders"], s["ratios"]
        overview.append(
            f"| {result['scale']:g} | {sum(result['rows_landed'].values()):,} "
            f"| {c['pipeline']['wall_s'][0]:.1f} | {c['limit']['wall_s'][0]:.1f} "
            f"| {r['pipeline / limit (time)'][0]:.1f}x | {r['pipeline - limit (s)'][0]:.1f} "
            f"| {c['pandas']['wall_s'][0]:.1f} | {r['pandas / pipeline (time)'][0]:.2f}x "
            f"| {c['pipeline']['peak_rss_mb'][0]:.0f} | {c['pandas']['peak_rss_mb'][0]:.0f} |"
        )
    lines += ["## Summary (medians)", "", *overview, ""]
    for result in report["scales"]:
        s = result["summary"]
        rows = result["rows_landed"]
        lines += [
            f"## Scale {result['scale']:g}",
            "",
            f"Rows landed: {sum(rows.values()):,} ("
            + ", ".join(f"{k} {v:,}" for k, v in rows.items())
            + f"). DuckDB: threads {result['settings']['duckdb_threads']}, memory_limit "
            f"{result['settings']['duckdb_memory_limit']}.",
            "",
            "| contender | wall s median | min | max | CPU s median | peak RSS MB median | max "
            "| phases, median s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for contender in CONTENDERS:
            c = s["contenders"].get(contender)
            if not c:
                continue
            (wm, wmin, wmax), (rm, _, rmax) = c["wall_s"], c["peak_rss_mb"]
            lines.append(
                f"| {LABELS[contender]} | {wm:.2f} | {wmin:.2f} | {wmax:.2f} | {c['cpu_s'][0]:.1f} "
                f"| {rm:.0f} | {rmax:.0f} "
                f"| {_phases(c['phases'])} |"
            )
        lines += ["", "Ratios, pair by pair (same run index): median [min, max]", ""]
        for name, (m, lo, hi) in s["ratios"].items():
            lines.append(f"- {name}: {m:.2f} [{lo:.2f}, {hi:.2f}]")
        equality = result["equality"]
        lines += [""]
        for who, problems in equality["problems"].items():
            what = "pandas output" if who == "pandas" else "the limit's marts"
            verdict = "equal" if not problems else "NOT EQUAL: " + "; ".join(problems[:5])
            lines.append(
                f"- {what} vs published ("
                + ", ".join(f"{m} {n:,} rows" for m, n in equality["rows"].items())
                + f"): {verdict}"
            )
        lines += ["", "Every run:", "", "| run | contender | wall s | CPU s | peak RSS MB (tree sampled / largest "
                  "process) | phases s |", "|---|---|---|---|---|---|"]
        for sample in result["samples"]:
            lines.append(
                f"| {sample['run']} | {sample['contender']} | {sample['wall_s']:.2f} | {sample['cpu_s']:.1f} "
                f"| {sample['peak_rss_mb']:.0f} ({sample['sampled_tree_rss_mb']:.0f} / "
                f"{sample['largest_process_rss_mb']:.0f}) | {_phases(sample['phases'])} |"
            )
        lines.append("")
    return "\n".join(lines)


# -- command line -------------------------------------------------------------------------


def _scales(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise click.BadParameter("numbers, comma- or space-separated, e.g. 1,10,30 or 1 10 30") from None
    if not values or any(v <= 0 for v in values):
        raise click.BadParameter("scales must be greater than 0")
    return values


@click.command(context_settings={"max_content_width": 100})
@click.option(
    "--scales",
    default=None,
    help="Demo-generator scales, comma-separated (1,30,100) or space-separated (--scales 1 30 100) "
    "[1,10,30; --nightly: 1,30].",
)
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1), help="Runs per contender and scale.")
@click.option(
    "--smoke",
    is_flag=True,
    help=f"Quick check that the harness works: scale {SMOKE_SCALE}, one run, every contender and the equality "
    "check; results go to the work dir unless --results-dir is given.",
)
@click.option(
    "--nightly",
    "nightly_scenario",
    is_flag=True,
    help="The nightly scenario instead (issue 16): a year of extracts plus one new extract of every entity, "
    "incremental `gtm refresh` vs `--full`; default scales 1,30. Results: <date>-nightly.md.",
)
@click.option("--seed", default=42, show_default=True, help="Demo-generator seed.")
@click.option("--as-of-date", default=DEFAULT_AS_OF, show_default=True, help="Last day of the demo history.")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    default=BENCH_DIR / "work",
    show_default=True,
    help="Scratch space: landing data (kept between invocations), warehouses, logs.",
)
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where <date>.md and <date>.json are written [bench/results; with --smoke: <work-dir>/results].",
)
@click.argument("more_scales", nargs=-1, metavar="")
def main(
    scales: str | None,
    more_scales: tuple[str, ...],
    runs: int,
    smoke: bool,
    nightly_scenario: bool,
    seed: int,
    as_of_date: str,
    work_dir: Path,
    results_dir: Path | None,
) -> None:
    """Benchmark `gtm refresh` against bare DuckDB (the limit) and pandas. See bench/README.md.

    GTM_DUCKDB_THREADS and GTM_DUCKDB_MEMORY_LIMIT are passed through to every contender
    (to compare engine settings); every other GTM_* variable of the caller is ignored.
    """
    as_of = dt.date.fromisoformat(as_of_date)
    if more_scales and not scales:
        raise click.UsageError(f"unexpected argument(s) {' '.join(more_scales)} (scales go after --scales)")
    scales = " ".join([scales, *more_scales]) if scales else None
    scale_list = [SMOKE_SCALE] if smoke else _scales(scales or ("1,30" if nightly_scenario else "1,10,30"))
    runs = 1 if smoke else runs
    work_dir = work_dir.resolve()
    results_dir = (results_dir or (work_dir / "results" if smoke else BENCH_DIR / "results")).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
        "machine": describe_machine(),
        "runs": runs,
        "seed": seed,
        "as_of_date": as_of.isoformat(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "scales": [],
    }
    if nightly_scenario:
        report["scales"] = [bench_nightly(scale, runs, seed, as_of, work_dir) for scale in scale_list]
        report["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        results_dir.mkdir(parents=True, exist_ok=True)
        stem = report["date"] + ("-smoke" if smoke else "") + "-nightly"
        (results_dir / f"{stem}.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
        (results_dir / f"{stem}.md").write_text(render_nightly(report))
        click.echo(f"results: {results_dir / f'{stem}.md'} ({time.monotonic() - started:.0f} s in all)")
        if any(r["problems"] for r in report["scales"]):
            raise click.ClickException("the incremental refresh published something the full one did not")
        return
    env = base_env(GTM_AS_OF_DATE=as_of.isoformat())
    click.echo("compiling the dbt models for the limit (dbt compile)")
    models = compile_models(work_dir, Settings.from_env(env), env)
    for scale in scale_list:
        result = bench_scale(scale, runs, seed, as_of, work_dir, models)
        result["summary"] = summarise(result)
        report["scales"].append(result)
    report["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report["seconds"] = time.monotonic() - started
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = report["date"] + ("-smoke" if smoke else "")
    (results_dir / f"{stem}.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    markdown = results_dir / f"{stem}.md"
    markdown.write_text(render_markdown(report))
    click.echo(f"results: {markdown} ({report['seconds']:.0f} s in all)")
    unequal = [
        f"scale {r['scale']:g} {who}" for r in report["scales"] for who, p in r["equality"]["problems"].items() if p
    ]
    if unequal:
        raise click.ClickException("outputs differ from the published tables: " + ", ".join(unequal))


if __name__ == "__main__":
    main()
