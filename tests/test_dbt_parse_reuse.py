"""The project's parse is reused by every DuckDB build when it fits, and only then
(orchestration/lib/dbt_parse_reuse.py, orchestration/defs/dbt/in_process.py)."""

import json
import os
import subprocess
from pathlib import Path

import dbt.version
import pytest
import yaml
from dbt.cli.main import dbtRunner

from orchestration.defs.dbt.in_process import reusable_parse
from orchestration.lib.dbt_manifest import dbt_executable, ensure_manifest, load_manifest
from orchestration.lib.dbt_parse_reuse import parsed_manifest
from orchestration.settings import DBT_PROJECT_DIR


@pytest.fixture(scope="module")
def project_manifest() -> dict:
    return load_manifest(ensure_manifest())


def _models(manifest: dict) -> set[str]:
    return {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def test_a_warehouse_file_named_work_gets_the_project_parse(project_manifest, tmp_path):
    manifest = parsed_manifest(tmp_path / "anywhere" / "work.duckdb")
    assert manifest is not None
    assert {uid for uid, n in manifest.nodes.items() if n.resource_type == "model"} == _models(project_manifest)
    assert manifest.flat_graph  # built, as dbt builds it for a parse it reuses


def test_another_database_name_is_parsed_by_dbt(project_manifest, tmp_path):
    # dbt-duckdb names the database after the file: every relation would point elsewhere
    assert parsed_manifest(tmp_path / "other.duckdb") is None


def test_another_dbt_version_is_parsed_by_dbt(project_manifest, tmp_path, monkeypatch):
    monkeypatch.setattr(dbt.version, "__version__", "1.99.0")
    assert parsed_manifest(tmp_path / "work.duckdb") is None


PROFILES = """tiny:
  target: dev
  outputs:
    dev: {type: duckdb, path: "tiny.duckdb"}
"""
PROJECT = 'name: tiny\nversion: "1.0.0"\nconfig-version: 2\nprofile: tiny\nflags: {partial_parse: true}\n'


def test_a_project_changed_since_its_parse_is_parsed_by_dbt(tmp_path):
    project = tmp_path / "tiny"
    for folder in ("models", "macros", "tests"):
        (project / folder).mkdir(parents=True)
    (project / "dbt_project.yml").write_text(PROJECT)
    (project / "profiles.yml").write_text(PROFILES)
    model = project / "models" / "one.sql"
    model.write_text("select 1 as id\n")
    ensure_manifest(project)
    assert parsed_manifest(tmp_path / "tiny.duckdb", project) is not None

    model.write_text("select 2 as id\n")
    later = model.stat().st_mtime + 10
    os.utime(model, (later, later))
    assert parsed_manifest(tmp_path / "tiny.duckdb", project) is None


def _build_env(work_db: Path) -> dict[str, str]:
    return {"DBT_PROJECT_DIR": str(DBT_PROJECT_DIR), "GTM_WORK_DB_PATH": str(work_db)}


def test_builds_on_duckdb_get_it_other_commands_and_spark_do_not(project_manifest, tmp_path):
    env = _build_env(tmp_path / "work.duckdb")
    assert reusable_parse(["--log-level", "none", "build", "--target", "refresh"], env) is not None
    assert reusable_parse(["build"], env) is not None  # the profile's default target, `work`: DuckDB
    assert reusable_parse(["build", "--target", "spark"], env) is None
    assert reusable_parse(["parse"], env) is None
    assert reusable_parse(["build"], {**env, "DBT_PROJECT_DIR": str(tmp_path)}) is None


def test_the_run_vars_and_as_of_date_reach_the_compiled_sql(project_manifest, tmp_path, monkeypatch):
    """The parse holds the project's default vars; a build compiles with its own."""
    work_db = tmp_path / "work.duckdb"
    monkeypatch.setenv("GTM_WORK_DB_PATH", str(work_db))
    monkeypatch.setenv("GTM_AS_OF_DATE", "2031-02-03")
    manifest = reusable_parse(["compile"], _build_env(work_db))
    assert manifest is not None
    result = dbtRunner(manifest=manifest).invoke(
        ["--log-level", "none", "compile", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--vars",
         json.dumps({"reporting_currency": "EUR"}), "--select", "int_fx_rates_ranged", "int_mrr_months"]
    )
    assert result.success, result.exception
    compiled = {node.node.name: node.node.compiled_code for node in result.result.results}
    assert "currency <> 'EUR'" in compiled["int_fx_rates_ranged"]
    assert "'USD'" not in compiled["int_fx_rates_ranged"]
    assert "cast('2031-02-03' as date)" in compiled["int_mrr_months"]


def _parsed_shape(manifest: dict) -> dict:
    keys = ("depends_on", "config", "refs", "sources", "database", "schema", "alias", "fqn")
    return {uid: {k: node.get(k) for k in keys} for uid, node in manifest["nodes"].items()}


def test_no_var_changes_the_parse(project_manifest, tmp_path):
    """What makes the reuse sound: the project parsed with every var changed (and another
    as_of_date) is the project parsed with the defaults."""
    defaults = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    changed = {
        name: "EUR" if isinstance(value, str) else value + 3 if isinstance(value, int) else value + 0.5
        for name, value in defaults.items()
    }
    assert changed.keys() == defaults.keys() and all(changed[k] != defaults[k] for k in defaults)
    target = tmp_path / "target"
    completed = subprocess.run(
        [dbt_executable(), "--quiet", "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target), "--vars", json.dumps(changed)],
        env={**os.environ, "GTM_AS_OF_DATE": "2031-02-03", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with_changed_vars = json.loads((target / "manifest.json").read_text())
    assert _parsed_shape(with_changed_vars) == _parsed_shape(project_manifest)
