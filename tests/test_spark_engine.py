"""GTM_ENGINE=spark: the same dbt project on a local Spark publishes the same marts.

The session's demo company (conftest `published_demo`: refreshed on DuckDB) is refreshed
again from a copy of its landing folder, into a fresh warehouse, on Spark (dbt-spark,
method session, local[2]; Java 17 is needed, `.ci/run` installs it). Every mart of the
two `published.duckdb` files must be equal cell by cell (amounts within 1e-9 relative,
bench/compare_published.py, itself tested in tests/test_contracts_compare.py) with the
same column types and the same check results, and no mart may be empty. The Spark
refresh runs the dbt data tests on Spark. The dbt unit tests on Spark (another ~5 minutes:
one Spark job per model and unit test) run with `make test-spark`, not in `make test`, to keep
CI under its 30 minutes; `make test` runs them on DuckDB (the metric tests' builds).
A few minutes: Spark starts a JVM and runs every model and test as a Spark job.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from bench.compare_published import compare_files
from orchestration.lib.dbt_manifest import dbt_executable, load_manifest, marts
from orchestration.lib.engine.spark_failures import import_stored_failures
from orchestration.lib.quality import dbt_tests
from orchestration.settings import DBT_PROJECT_DIR, Settings

GTM = [sys.executable, "-m", "orchestration.cli"]

needs_spark = pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 (.ci/run installs it)")


def _as_of(published: Path) -> str:
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        (as_of,) = con.execute("select as_of_date from marts.publication").fetchone()
    return as_of.isoformat()


@pytest.fixture(scope="module")
def spark_run(published_demo: Path, tmp_path_factory) -> tuple[dict[str, str], subprocess.CompletedProcess]:
    """The DuckDB demo's landing refreshed on Spark: (the refresh's environment, the run)."""
    root = tmp_path_factory.mktemp("spark_engine")
    shutil.copytree(published_demo.parent / "landing", root / "landing")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GTM_")},
        "GTM_ENGINE": "spark",
        "GTM_LANDING_DIR": str(root / "landing"),
        "GTM_WAREHOUSE_DIR": str(root / "warehouse"),
        "GTM_AS_OF_DATE": _as_of(published_demo / "published.duckdb"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    Path(env["DAGSTER_HOME"]).mkdir()
    run = subprocess.run([*GTM, "refresh"], env=env, capture_output=True, text=True, timeout=1500)
    return env, run


@pytest.fixture(scope="module")
def spark_published(spark_run) -> Path:
    env, run = spark_run
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return Path(env["GTM_WAREHOUSE_DIR"]) / "published.duckdb"


@needs_spark
def test_spark_refresh_reads_parquet_sources_and_writes_parquet_marts(spark_run, spark_published, published_demo):
    warehouse = Path(spark_run[0]["GTM_WAREHOUSE_DIR"])
    assert (warehouse / "parquet" / "raw" / "crm__leads").is_dir()
    assert (warehouse / "spark" / "warehouse" / "marts.db" / "commercial_ratio").is_dir()
    assert not (published_demo / "parquet").exists()


@needs_spark
def test_spark_publishes_every_mart_equal_to_duckdb_cell_by_cell(spark_published, published_demo):
    # The publication record names the run and its timings. The check results (run id and
    # time apart) are compared too: every check ran, with the same outcome, on both engines.
    result = compare_files(published_demo / "published.duckdb", spark_published, ignore=("publication",), rel_tol=1e-9)
    assert result.value_differences == []
    assert result.type_differences == []
    assert set(result.rows_compared) == {*marts(), "check_results"}
    # the demo at this scale fills every mart: no comparison is of an empty table
    assert [name for name, rows in result.rows_compared.items() if rows == 0] == []


@needs_spark
def test_spark_runs_the_dbt_tests_on_spark(spark_published):
    with closing(duckdb.connect(str(spark_published), read_only=True)) as con:
        statuses = dict(
            con.execute("select status, count(*) from marts.check_results where suite = 'dbt' group by status").fetchall()
        )
    assert statuses.get("passed", 0) > 100
    assert set(statuses) <= {"passed", "warned"}


@needs_spark
@pytest.mark.skipif(
    os.environ.get("GTM_TEST_SPARK_UNIT_TESTS") != "1", reason="make test-spark runs them (GTM_TEST_SPARK_UNIT_TESTS=1)"
)
def test_the_dbt_unit_tests_pass_on_spark(spark_run, spark_published, tmp_path):
    """The refresh leaves unit tests out (they check logic, not data). Here they run on
    Spark, in one dbt run with the models they read their inputs' column types from,
    built empty (`--empty`: Spark's catalog lives for one dbt run). The refresh's
    environment, vars and target folder let dbt partial-parse from the refresh's parse."""
    env, _ = spark_run
    settings = Settings.from_env(env)
    shutil.rmtree(settings.spark_dir / "warehouse")  # as the refresh's dbt step does first
    target = settings.warehouse_dir / "dbt"
    completed = subprocess.run(
        [dbt_executable(), "build", "--empty", "--select", "+test_type:unit", "--exclude-resource-type", "test",
         "--vars", json.dumps(settings.dbt_vars()), "--target", settings.dbt_target,
         "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT_DIR, env={**env, **settings.dbt_env()}, capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-6000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    passed = {r["unique_id"] for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"}
    assert passed == set(load_manifest()["unit_tests"])
    assert len(passed) > 30


def test_a_failing_dbt_test_on_spark_shows_its_stored_rows(tmp_path):
    """On Spark a test's stored failing rows are a Parquet table in Spark's warehouse;
    copied into the work database, the dbt step's error shows them as on DuckDB."""
    spark_warehouse = tmp_path / "spark" / "warehouse"
    stored = spark_warehouse / "dbt_test__audit.db" / "assert_every_crm_stage_mapped"
    stored.mkdir(parents=True)
    passing = spark_warehouse / "dbt_test__audit.db" / "assert_every_amount_converts"
    passing.mkdir(parents=True)  # a passing test: Spark wrote no row, here no file at all
    work_db = tmp_path / "work.duckdb"
    with closing(duckdb.connect(str(work_db))) as con:
        con.execute(
            f"copy (select * from (values ('hubspot', 'Negotiation', 4), ('hubspot', 'Verbal yes', 1)) "
            f"as t(crm, crm_stage, opportunities)) to '{stored}/part-00000.snappy.parquet' (format parquet)"
        )
        run_results = {
            "results": [
                {"unique_id": "test.gtm_warehouse.assert_every_crm_stage_mapped", "status": "fail",
                 "message": "Got 2 results, configured to fail if != 0", "failures": 2,
                 "relation_name": "dbt_test__audit.assert_every_crm_stage_mapped"},
                {"unique_id": "test.gtm_warehouse.assert_every_amount_converts", "status": "pass",
                 "message": None, "failures": 0, "relation_name": "dbt_test__audit.assert_every_amount_converts"},
                {"unique_id": "model.gtm_warehouse.dim_accounts", "status": "success", "relation_name": "marts.dim_accounts"},
            ]
        }  # fmt: skip
        copied = import_stored_failures(con, run_results, spark_warehouse)
    assert copied == ["dbt_test__audit.assert_every_crm_stage_mapped"]
    manifest = {"nodes": {"test.gtm_warehouse.assert_every_crm_stage_mapped": {
        "resource_type": "test", "name": "assert_every_crm_stage_mapped"}}}  # fmt: skip
    (line,) = dbt_tests.failed_nodes(run_results, manifest, work_db)
    assert line == (
        "test assert_every_crm_stage_mapped: Got 2 results, configured to fail if != 0"
        " e.g. crm=hubspot, crm_stage=Negotiation, opportunities=4; crm=hubspot, crm_stage=Verbal yes, opportunities=1"
    )
