"""The dbt floor: dbt-core's own cost for the node count of our refresh's `dbt build`.

`node_counts` reads from our manifest what the refresh's `dbt build --exclude-resource-type
unit_test` runs: models by materialization (and how many with an enforced contract),
generic and singular data tests, run hooks. `write_project` writes a throwaway dbt
project with the same counts in which every model is `select 1 as id` and every test a
trivial one on `id` (generic: `not_null`, each with its own name; singular: rows where
`id` is null), on a DuckDB profile shaped like our `refresh` target (same dbt threads,
connection kept open). Run as a worker (bench/floors_common.py), it builds that project
with dbtRunner in one process:

1. `build`, the first dbt invocation of the process, with the partial-parse file of an
   earlier process (the `prepare` worker did the full parse): what one refresh pays;
2. `build` again, warm (nothing changed: partial parse);
3. `parse`, then `build` with the parsed manifest (`dbtRunner(manifest=...)`, parse excluded).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

PROFILE = "floor"
TARGET = "refresh"


def _enforced(node: Mapping[str, Any]) -> bool:
    return bool((node["config"].get("contract") or {}).get("enforced"))


def node_counts(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What our `dbt build` runs, counted from the manifest (unit tests excluded, as the
    refresh excludes them)."""
    nodes = list(manifest["nodes"].values())
    models = [n for n in nodes if n["resource_type"] == "model"]
    tests = [n for n in nodes if n["resource_type"] == "test"]
    return {
        "models": dict(Counter(n["config"]["materialized"] for n in models)),
        "enforced": dict(Counter(n["config"]["materialized"] for n in models if _enforced(n))),
        "generic_tests": sum(1 for n in tests if n.get("test_metadata")),
        "singular_tests": sum(1 for n in tests if not n.get("test_metadata")),
        "hooks": sum(1 for n in nodes if n["resource_type"] == "operation"),
        "seeds": sum(1 for n in nodes if n["resource_type"] == "seed"),
        "snapshots": sum(1 for n in nodes if n["resource_type"] == "snapshot"),
    }


def scaled(counts: Mapping[str, Any], divisor: int) -> dict[str, Any]:
    """Counts divided by `divisor` (at least 1 of each kind there is): `--quick`."""

    def cut(n: int) -> int:
        return max(1, n // divisor) if n else 0

    return {
        key: {k: cut(v) for k, v in value.items()} if isinstance(value, dict) else cut(value)
        for key, value in counts.items()
    }


def refresh_threads(profiles_yml: Path, profile: str = "gtm_warehouse", target: str = "refresh") -> int:
    """dbt's threads in our refresh target (profiles.yml)."""
    profiles = yaml.safe_load(profiles_yml.read_text())
    return int(profiles[profile]["outputs"][target]["threads"])


def write_project(
    root: Path, counts: Mapping[str, Any], threads: int, duckdb_threads: int, memory_limit: str
) -> dict[str, int]:
    """A dbt project under `root` with `counts` (node_counts) of trivial nodes; the nodes
    a build runs, by kind. Seeds and snapshots are not generated (our project has none)."""
    if counts.get("seeds") or counts.get("snapshots"):
        raise ValueError("seeds and snapshots are not generated; the refresh had none when this was written")
    shutil.rmtree(root, ignore_errors=True)
    (root / "models").mkdir(parents=True)
    (root / "tests").mkdir()
    models: list[dict[str, Any]] = []
    index = 0
    for materialized, n in sorted(counts["models"].items()):
        enforced = counts["enforced"].get(materialized, 0)
        for i in range(n):
            index += 1
            name = f"m_{index:03d}"
            (root / "models" / f"{name}.sql").write_text(
                f"{{{{ config(materialized='{materialized}') }}}}\nselect 1 as id\n"
            )
            entry: dict[str, Any] = {"name": name, "columns": [{"name": "id", "data_tests": []}]}
            if i < enforced:
                entry["config"] = {"contract": {"enforced": True}}
                entry["columns"][0]["data_type"] = "integer"
            models.append(entry)
    for t in range(counts["generic_tests"]):  # spread over the models, each with its own name
        model = models[t % len(models)]
        model["columns"][0]["data_tests"].append({"not_null": {"name": f"not_null_{model['name']}_{t:03d}"}})
    for t in range(counts["singular_tests"]):
        model = models[t % len(models)]["name"]
        (root / "tests" / f"singular_{t:03d}.sql").write_text(
            f"select * from {{{{ ref('{model}') }}}} where id is null\n"
        )
    (root / "models" / "models.yml").write_text(yaml.safe_dump({"version": 2, "models": models}, sort_keys=False))
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "floor",
                "version": "1.0.0",
                "config-version": 2,
                "profile": PROFILE,
                "model-paths": ["models"],
                "test-paths": ["tests"],
                "on-run-start": ["select 1"] * counts["hooks"],
            },
            sort_keys=False,
        )
    )
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                PROFILE: {
                    "target": TARGET,
                    "outputs": {
                        TARGET: {
                            "type": "duckdb",
                            "path": str(root / "floor.duckdb"),
                            "schema": "main",
                            "threads": threads,
                            "keep_open": True,
                            "settings": {"TimeZone": "UTC", "threads": duckdb_threads, "memory_limit": memory_limit},
                        }
                    },
                }
            }
        )
    )
    return {"models": index, "tests": counts["generic_tests"] + counts["singular_tests"], "hooks": counts["hooks"]}


# -- the worker --------------------------------------------------------------------------

# As the refresh runs dbt in process: no text log to stdout, warnings only in the log file.
_GLOBAL_FLAGS = [
    "--log-level",
    "none",
    "--no-send-anonymous-usage-stats",
    "--no-use-colors",
    "--log-level-file",
    "warn",
]


def _arguments(command: str, project: Path) -> list[str]:
    paths = [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(project / "target"),
        "--log-path",
        str(project / "logs"),
    ]
    extra = ["--exclude-resource-type", "unit_test"] if command == "build" else []
    return [*_GLOBAL_FLAGS, command, *paths, *extra]


def _close_duckdb() -> None:
    """dbt-duckdb keeps the database open for a keep_open profile until the process ends;
    closed after each build, as the refresh does, so the next build starts the same way."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


def _invoke(runner: Any, command: str, project: Path) -> Any:
    try:
        result = runner.invoke(_arguments(command, project))
    finally:
        _close_duckdb()
    if not result.success:
        raise RuntimeError(f"dbt {command} failed in {project}: {result.exception}")
    return result


def work(spec: dict[str, Any]) -> dict[str, Any]:
    import dbt.adapters.duckdb  # noqa: F401  (the adapter: imported, as the imports floor does)
    from dbt.cli.main import dbtRunner
    from floors_common import timed

    project = Path(spec["project"])
    if spec["mode"] == "prepare":  # the full parse, untimed, so the measured builds parse partially
        _invoke(dbtRunner(), "build", project)
        return {}
    times: dict[str, Any] = {}
    nodes: dict[str, int] = {}
    with timed(times, "first_build"):
        result = _invoke(dbtRunner(), "build", project)
    nodes["first_build"] = len(result.result.results)
    with timed(times, "warm_build"):
        result = _invoke(dbtRunner(), "build", project)
    nodes["warm_build"] = len(result.result.results)
    with timed(times, "parse"):
        manifest = _invoke(dbtRunner(), "parse", project).result
    with timed(times, "manifest_build"):
        result = _invoke(dbtRunner(manifest=manifest), "build", project)
    nodes["manifest_build"] = len(result.result.results)
    return {"times": times, "nodes": nodes}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from floors_common import worker_main

    worker_main(work)
