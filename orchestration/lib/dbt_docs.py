"""`gtm docs`: the dbt documentation site (lineage, every model and column described),
as one self-contained HTML file that opens offline.

`dbt docs generate --static` embeds the manifest and the catalog in
`static_index.html`; that file is copied to `<out>/index.html` (with manifest.json
and catalog.json beside it for tools). The catalog (column types, row counts) is read
from the work database, opened read-only through a profile written for this run, while
holding the refresh lock so that no refresh rewrites the database meanwhile. Without a
built work database, or while a refresh runs, the site is generated without a catalog
(`--empty-catalog --no-compile`) and says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.warehouse import RefreshAlreadyRunning, refresh_lock
from orchestration.settings import DBT_PROJECT_DIR, Settings

PROJECT_NAME = "gtm_warehouse"
# A <script>, <link> or <img> fetching from the network would break offline viewing.
EXTERNAL_RESOURCE = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE,
)


class DocsError(RuntimeError):
    """dbt could not generate the documentation."""


@dataclass
class DocsResult:
    index: Path
    with_catalog: bool
    catalog_note: str  # why there is no catalog, or where it came from
    models: int = 0
    columns: int = 0
    undocumented: list[str] = field(default_factory=list)  # model.column without a description
    external: list[str] = field(default_factory=list)  # network resources the page would load
    seconds: float = 0.0


def docs_dir(settings: Settings) -> Path:
    return settings.warehouse_dir / "dbt_docs"


def external_resources(html: str) -> list[str]:
    """URLs of scripts, stylesheets, images or frames the page would fetch."""
    return sorted(set(EXTERNAL_RESOURCE.findall(html)))


def _catalog_blocker(settings: Settings) -> str | None:
    """Why the catalog cannot be read from the work database, or None."""
    work = settings.work_db_path
    if not work.exists():
        return f"no work database at {work} yet (run `gtm refresh` or `gtm demo` first)"
    try:
        with contextlib.closing(duckdb.connect(str(work), read_only=True)) as con:
            (built,) = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'marts'"
            ).fetchone()
    except duckdb.Error as error:
        return f"the work database could not be opened ({str(error).splitlines()[0]})"
    if not built:
        return f"the marts are not built in {work} yet (run `gtm refresh`)"
    return None


def _profile(folder: Path, database: str) -> Path:
    """A dbt profile for this run: the work database read-only (or an empty in-memory one)."""
    folder.mkdir(parents=True, exist_ok=True)
    read_only = "true" if database != ":memory:" else "false"
    (folder / "profiles.yml").write_text(
        f"""{PROJECT_NAME}:
  target: docs
  outputs:
    docs:
      type: duckdb
      path: {json.dumps(database)}
      schema: main
      read_only: {read_only}
      threads: 1
      settings:
        TimeZone: UTC
"""
    )
    return folder


def _dbt(args: list[str], settings: Settings, build_dir: Path) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).with_name("dbt")
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    command = [
        str(dbt) if dbt.exists() else "dbt", *args,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(build_dir / "profile"),
        "--target-path", str(build_dir / "target"), "--log-path", str(build_dir / "logs"),
        "--vars", json.dumps(settings.dbt_vars()), "--no-use-colors",
    ]  # fmt: skip
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def generate_docs(settings: Settings, out_dir: Path | None = None, catalog: bool = True) -> DocsResult:
    """Generate the static documentation site into `out_dir` (default warehouse/dbt_docs)."""
    started = time.monotonic()
    out_dir = (out_dir or docs_dir(settings)).resolve()
    blocker = None if catalog else "--no-catalog was given"
    if blocker is None:
        blocker = _catalog_blocker(settings)
    with tempfile.TemporaryDirectory(prefix="gtm-dbt-docs-") as tmp:
        build_dir = Path(tmp)
        completed = None
        if blocker is None:
            try:
                with refresh_lock(settings.lock_path):
                    _profile(build_dir / "profile", str(settings.work_db_path))
                    completed = _dbt(["docs", "generate", "--static"], settings, build_dir)
                if completed.returncode != 0:
                    blocker = f"dbt could not read the catalog ({_last_error(completed)})"
            except RefreshAlreadyRunning:
                blocker = "a refresh is running and holds the work database"
        if blocker is not None:
            shutil.rmtree(build_dir / "target", ignore_errors=True)
            _profile(build_dir / "profile", ":memory:")
            # Without a database: parse (no connection needed), then document what was parsed.
            for args in (["parse"], ["docs", "generate", "--static", "--empty-catalog", "--no-compile"]):
                completed = _dbt(args, settings, build_dir)
                if completed.returncode != 0:
                    raise DocsError(f"dbt {' '.join(args[:2])} failed: {_last_error(completed)}")
        target = build_dir / "target"
        out_dir.mkdir(parents=True, exist_ok=True)
        index = out_dir / "index.html"
        shutil.copyfile(target / "static_index.html", index)
        for name in ("manifest.json", "catalog.json"):
            shutil.copyfile(target / name, out_dir / name)
    html = index.read_text(encoding="utf-8")
    result = DocsResult(
        index=index,
        with_catalog=blocker is None,
        catalog_note=f"catalog read from {settings.work_db_path}" if blocker is None else blocker,
        external=external_resources(html),
    )
    _coverage(out_dir, result)
    result.seconds = time.monotonic() - started
    return result


def _coverage(out_dir: Path, result: DocsResult) -> None:
    """Models and columns of this project, and the columns without a description (declared
    in yml without one, or present in the catalog but not declared at all)."""
    manifest = json.loads((out_dir / "manifest.json").read_text())
    catalog = json.loads((out_dir / "catalog.json").read_text())
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["package_name"] != PROJECT_NAME:
            continue
        result.models += 1
        described = {
            name.lower(): bool((column.get("description") or "").strip())
            for name, column in node["columns"].items()
        }
        built = catalog.get("nodes", {}).get(unique_id, {}).get("columns", {})
        for name in sorted(set(described) | {c.lower() for c in built}):
            result.columns += 1
            if not described.get(name):
                result.undocumented.append(f"{node['name']}.{name}")


def _last_error(completed: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:300]
