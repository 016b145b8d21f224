"""bench/floors.py --quick: the floors harness runs end to end and writes its table, so it
never rots. No timing is asserted: timings on a shared machine are not a test. The
counting helpers are checked against hand-worked values."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import floors_dagster  # noqa: E402
import floors_dbt  # noqa: E402


def test_floors_quick_runs_every_floor_and_writes_its_table(tmp_path):
    results = tmp_path / "results"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "floors.py"),
            "--quick",
            "--work-dir",
            str(tmp_path / "work"),
            "--results-dir",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((results / next(results.glob("*-floors.json")).name).read_text())
    assert {"imports", "dbt", "gx", "dagster", "total"} <= set(report)
    # the trivial dbt project builds every node it was given: models, tests and the hook
    written = report["dbt"]["written"]
    assert report["dbt"]["nodes"] == written["models"] + written["tests"] + written["hooks"]
    assert report["dagster"]["shape"]["steps"] == 10  # our nightly_refresh's steps, all kept by --quick
    markdown = next(results.glob("*-floors.md")).read_text()
    for row in (
        "| **imports floor** |",
        "| **dbt floor** |",
        "| **GX floor** |",
        "| **Dagster floor** |",
        "| **floor total** |",
    ):
        assert row in markdown


MANIFEST = {
    "nodes": {
        "model.p.a": {"resource_type": "model", "config": {"materialized": "view"}},
        "model.p.b": {"resource_type": "model", "config": {"materialized": "table", "contract": {"enforced": True}}},
        "model.p.c": {"resource_type": "model", "config": {"materialized": "table", "contract": {"enforced": False}}},
        "test.p.t1": {"resource_type": "test", "config": {}, "test_metadata": {"name": "not_null"}},
        "test.p.t2": {"resource_type": "test", "config": {}, "test_metadata": {"name": "unique"}},
        "test.p.s1": {"resource_type": "test", "config": {}},
        "operation.p.hook": {"resource_type": "operation", "config": {}},
    }
}


def test_node_counts_and_their_quick_tenth():
    counts = floors_dbt.node_counts(MANIFEST)
    assert counts == {
        "models": {"view": 1, "table": 2},
        "enforced": {"table": 1},
        "generic_tests": 2,
        "singular_tests": 1,
        "hooks": 1,
        "seeds": 0,
        "snapshots": 0,
    }
    # a tenth, but at least one of each kind there is
    assert floors_dbt.scaled({"models": {"table": 50, "view": 12}, "generic_tests": 172, "seeds": 0}, 10) == {
        "models": {"table": 5, "view": 1},
        "generic_tests": 17,
        "seeds": 0,
    }


def test_written_project_has_the_counts(tmp_path):
    written = floors_dbt.write_project(tmp_path / "p", floors_dbt.node_counts(MANIFEST), 2, 2, "1GB")
    assert written == {"models": 3, "tests": 3, "hooks": 1}
    assert len(list((tmp_path / "p" / "models").glob("*.sql"))) == 3
    assert len(list((tmp_path / "p" / "tests").glob("*.sql"))) == 1
    assert (tmp_path / "p" / "models" / "models.yml").read_text().count("enforced: true") == 1


def test_dagster_steps_yield_in_dependency_order():
    assets = [{"key": ["c"], "deps": [["b"]]}, {"key": ["b"], "deps": [["a"], ["x"]]}, {"key": ["a"], "deps": []}]
    assert [a["key"] for a in floors_dagster._topological(assets)] == [["a"], ["b"], ["c"]]
