"""The dbt manifest as the schema of record of the published marts.

Every model under `dbt_project/models/marts/` is published. Its yml (its dbt model
contract: columns, data types, descriptions) is the one place its schema is written;
the quality suites, the metrics report and the test fixtures read it from here.

`dbt parse` (no database, no network) writes the manifest; `ensure_manifest` runs it
when the manifest is missing, older than any file of the project, or was parsed from
another set of files (one added, removed or renamed: a removal changes no file's mtime),
so every entry point works from a fresh clone. Nothing here knows Dagster.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from orchestration.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# Beside the manifest: the project files it was parsed from, one relative path a line.
PARSED_FILES_NAME = "manifest_files.txt"
PARSE_LOCK_NAME = ".parse.lock"
MARTS_FOLDER = "marts"
GRAIN_TEST = "grain"  # the generic test naming a model's grain (dbt_project/tests/generic/grain.sql)
# The folders whose files `dbt parse` reads: a newer file makes the manifest stale.
_PROJECT_FOLDERS = ("models", "macros", "tests")


class ManifestError(RuntimeError):
    """The manifest could not be written or read."""


@dataclass(frozen=True)
class MartColumn:
    name: str
    data_type: str | None  # the contract's type, upper case (None without a contract)
    description: str
    meta: Mapping[str, Any]


@dataclass(frozen=True)
class Mart:
    """A published mart as its dbt model declares it."""

    name: str
    unique_id: str
    access: str  # `public`: the metric tables of docs/metrics.md; `protected`: facts and dimensions
    contract_enforced: bool
    description: str
    columns: tuple[MartColumn, ...]
    grain: tuple[str, ...]  # from the model's `grain` test (tests/generic/grain.sql)
    meta: Mapping[str, Any]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> MartColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"marts.{self.name} has no column {name!r}")


def _project_files(project_dir: Path) -> list[Path]:
    files = [p for folder in _PROJECT_FOLDERS for p in (project_dir / folder).rglob("*") if p.is_file()]
    return [*files, project_dir / "dbt_project.yml"]


def _relative_paths(files: list[Path], project_dir: Path) -> list[str]:
    return sorted(p.relative_to(project_dir).as_posix() for p in files)


def _parsed_files_path(manifest_path: Path) -> Path:
    return manifest_path.with_name(PARSED_FILES_NAME)


def manifest_is_stale(manifest_path: Path = MANIFEST_PATH, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Missing, older than a project file, or parsed from another set of files."""
    parsed_files = _parsed_files_path(manifest_path)
    if not manifest_path.exists() or not parsed_files.exists():
        return True
    files = _project_files(project_dir)
    if parsed_files.read_text().splitlines() != _relative_paths(files, project_dir):
        return True
    newest = max(p.stat().st_mtime for p in files)
    return manifest_path.stat().st_mtime < newest


def dbt_executable() -> str:
    """The dbt of this environment, whether or not its bin folder is on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` when the manifest is missing or stale; the manifest's path.

    Processes that need the manifest at the same time (the Dagster UI and a `gtm` command,
    test workers) take turns: one parses, the others then find it fresh, and none reads a
    manifest while dbt is writing it.
    """
    manifest_path = project_dir / "target" / "manifest.json"
    if not manifest_is_stale(manifest_path, project_dir):
        return manifest_path
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(manifest_path.with_name(PARSE_LOCK_NAME)):
        _parse_if_stale(manifest_path, project_dir)
    return manifest_path


def _parse_if_stale(manifest_path: Path, project_dir: Path) -> None:
    if manifest_is_stale(manifest_path, project_dir):
        parsed_files = _relative_paths(_project_files(project_dir), project_dir)
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        completed = subprocess.run(
            [dbt_executable(), "--quiet", "parse", "--project-dir", str(project_dir),
             "--profiles-dir", str(project_dir)],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not manifest_path.exists():
            output = (completed.stdout + completed.stderr).strip()
            raise ManifestError(f"dbt parse failed in {project_dir} (exit {completed.returncode}): {output}")
        _parsed_files_path(manifest_path).write_text("".join(f"{path}\n" for path in parsed_files))


@functools.cache
def _load(path: Path, mtime: float) -> dict[str, Any]:
    return json.loads(path.read_text())


def load_manifest(path: Path | None = None) -> dict[str, Any]:
    """The parsed manifest (written first when missing or stale; cached per file version)."""
    manifest_path = path or ensure_manifest()
    return _load(manifest_path, manifest_path.stat().st_mtime)


def _grain(manifest: Mapping[str, Any], unique_id: str) -> tuple[str, ...]:
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or node.get("attached_node") != unique_id:
            continue
        test = node.get("test_metadata") or {}
        if test.get("name") == GRAIN_TEST:
            return tuple(test["kwargs"]["columns"])
    return ()


def _mart(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> Mart:
    columns = tuple(
        MartColumn(
            name=name,
            data_type=(column.get("data_type") or None) and column["data_type"].upper(),
            description=column.get("description", ""),
            meta=column.get("meta") or {},
        )
        for name, column in node["columns"].items()
    )
    config = node.get("config") or {}
    return Mart(
        name=node["name"],
        unique_id=node["unique_id"],
        access=node.get("access") or config.get("access") or "protected",
        contract_enforced=bool((config.get("contract") or {}).get("enforced")),
        description=node.get("description", ""),
        columns=columns,
        grain=_grain(manifest, node["unique_id"]),
        meta=config.get("meta") or node.get("meta") or {},
    )


def marts(manifest: Mapping[str, Any] | None = None) -> dict[str, Mart]:
    """Every published mart (every model under models/marts/) by name."""
    manifest = manifest if manifest is not None else load_manifest()
    nodes = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["fqn"][1:2] == [MARTS_FOLDER]
    ]
    return {n["name"]: _mart(manifest, n) for n in sorted(nodes, key=lambda n: n["name"])}


def public_marts(manifest: Mapping[str, Any] | None = None) -> dict[str, Mart]:
    """The metric tables analysts rely on (dbt `access: public`)."""
    return {name: mart for name, mart in marts(manifest).items() if mart.access == "public"}
