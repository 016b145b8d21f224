"""bench/run.py --smoke: the benchmark harness runs end to end, so it never rots.

Tiny scale, one run of every contender (gtm refresh, the bare-DuckDB limit, the pandas
baseline) and the equality check of the pandas and limit outputs against the published
tables. No timing is asserted: timings on a shared machine are not a test.
"""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"


def test_bench_smoke_runs_every_contender_and_checks_equality(tmp_path):
    results = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--smoke", "--work-dir", str(tmp_path / "work"), "--results-dir", str(results)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (report_path,) = results.glob("*-smoke.json")
    report = json.loads(report_path.read_text())
    (scale,) = report["scales"]
    assert {s["contender"] for s in scale["samples"]} == {"pipeline", "limit", "pandas"}
    assert scale["equality"]["problems"] == {"pandas": [], "limit": []}
    assert all(n > 0 for n in scale["equality"]["rows"].values())
    pipeline = next(s for s in scale["samples"] if s["contender"] == "pipeline")
    assert set(pipeline["phases"]) == {"pull", "ingest", "gate", "dbt", "publish", "other"}
    assert all(s["wall_s"] > 0 and s["peak_rss_mb"] > 0 for s in scale["samples"])
    markdown = report_path.with_suffix(".md").read_text()
    assert "| pipeline (`gtm refresh`) |" in markdown
    assert "NOT EQUAL" not in markdown


def test_scales_are_read_comma_or_space_separated():
    sys.path.insert(0, str(BENCH.parent))
    from run import _scales

    assert _scales("1,30,100") == [1.0, 30.0, 100.0]
    assert _scales("1 30 100") == [1.0, 30.0, 100.0]  # `--scales 1 30 100`: the option and two arguments, joined
    assert _scales("0.05") == [0.05]
