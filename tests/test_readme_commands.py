"""Every command the README shows works: its ```bash, ```sql and ```python blocks run,
in order, in a fresh project folder (tmp) whose data comes from the README's own first
command (`gtm demo --scale 0.05`, a tiny demo company).

The `make` targets are not run here (`make demo` and `make test` would rebuild the
venv and run this suite, `make dev` starts a server that never ends); the commands they
call are run instead: `gtm demo` (by the README itself, at a small scale) and
`dagster definitions validate -w workspace.yaml` (what `dagster dev` loads); `make test`
is ruff and this suite.
"""

import os
import re
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main as gtm_cli
from orchestration.lib import dbt_manifest
from orchestration.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
VENV = Path(sys.executable).parent.parent
AS_OF = "2026-11-26"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# make targets: why they are not run, and what is run instead
MAKE_TARGETS = {
    "demo": "creates .venv and runs `gtm demo` at scale 1 (minutes): the README runs `gtm demo --scale 0.05`",
    "test": "runs `ruff check .` and this very suite (pytest) itself",
    "dev": "starts a server that never ends: its workspace is validated instead (test_make_dev_workspace_loads)",
}


def _published_tables() -> int:
    """Every dbt mart, plus the publication record and the check results."""
    return len(dbt_manifest.marts()) + 2


def readme_blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text()) if lang == language]


def _commands(block: str) -> list[str]:
    """The command lines of a bash block (comments and blank lines dropped)."""
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTM_")}
    env.update(
        GTM_AS_OF_DATE=AS_OF,  # fixed, so the demo company and its numbers are the same every day
        GTM_DUCKDB_THREADS="2",
        DAGSTER_HOME=str(root / "dagster_home"),
        DAGSTER_DISABLE_TELEMETRY="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A folder laid out like a checkout: .venv and dbt_project linked, nothing else."""
    root = tmp_path_factory.mktemp("readme")
    (root / ".venv").symlink_to(VENV)
    (root / "dbt_project").symlink_to(PROJECT_ROOT / "dbt_project")
    (root / "dagster_home").mkdir()
    return root


@pytest.fixture(scope="module")
def bash_runs(project) -> list[tuple[str, subprocess.CompletedProcess | str]]:
    """Every command line of every bash block, in README order: (line, result or skip reason)."""
    runs: list[tuple[str, subprocess.CompletedProcess | str]] = []
    env = _env(project)
    for block in readme_blocks("bash"):
        for line in _commands(block):
            target = re.match(r"make\s+(\w+)", line.strip())
            if target:
                runs.append((line, MAKE_TARGETS[target.group(1)]))
                continue
            done = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=project, env=env,
                                  capture_output=True, text=True, timeout=900)
            runs.append((line, done))
            if done.returncode != 0:
                break  # later commands depend on this one
    return runs


def _output(runs, command: str) -> str:
    for line, done in runs:
        if command in line and not isinstance(done, str):
            return done.stdout
    raise AssertionError(f"the README runs no `{command}`")


def test_the_readme_has_runnable_blocks():
    assert len(readme_blocks("bash")) >= 4
    assert len(readme_blocks("sql")) >= 9
    assert len(readme_blocks("python")) >= 1
    first = _commands(readme_blocks("bash")[0])
    assert first[:2] == [
        "make demo    # creates .venv, installs the pinned dependencies, generates the demo company, refreshes, publishes",
        "make test    # the whole test suite (ruff + pytest), exactly what CI runs (.ci/run)",
    ]


def test_every_bash_command_succeeds(bash_runs):
    skipped = [(line, reason) for line, reason in bash_runs if isinstance(reason, str)]
    assert {re.match(r"make\s+(\w+)", line).group(1) for line, _ in skipped} == set(MAKE_TARGETS)
    for line, done in bash_runs:
        if isinstance(done, str):
            continue
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    ran = [line for line, done in bash_runs if not isinstance(done, str)]
    assert len(ran) == sum(len(_commands(b)) for b in readme_blocks("bash")) - len(skipped)


def test_the_demo_publishes_and_points_at_the_report(bash_runs, project):
    out = _output(bash_runs, "gtm demo")
    published = project / "warehouse" / "published.duckdb"
    assert f"Published {_published_tables()} tables to {published}" in out
    assert f"Metrics report: {project / 'warehouse' / 'metrics_report.html'}" in out


def test_report_docs_and_sql_do_what_the_readme_says(bash_runs, project):
    assert "metrics_report.html" in _output(bash_runs, "gtm report")
    docs = _output(bash_runs, "gtm docs")
    assert "with the catalog" in docs and str(project / "warehouse" / "dbt_docs" / "index.html") in docs
    assert (project / "warehouse" / "dbt_docs" / "index.html").stat().st_size > 100_000
    assert "marts.commercial_ratio" in _output(bash_runs, 'gtm sql ".tables"')
    csv_file = project / "commercial_ratio.csv"
    assert csv_file.read_text().startswith("period_grain,period_start,period_end,period_label,revenue")


def test_a_refresh_with_your_own_stage_mapping_publishes_again(bash_runs, project):
    assert f"Published {_published_tables()} tables" in _output(bash_runs, "GTM_STAGE_MAPPING=config/stage_mapping.csv")
    with closing(duckdb.connect(str(project / "warehouse" / "published.duckdb"), read_only=True)) as con:
        (publications,) = con.execute("select count(*) from marts.publication").fetchone()
    assert publications == 2


def test_every_sql_block_runs_through_gtm_sql(bash_runs, project):
    env = _env(project)
    published = project / "warehouse" / "published.duckdb"
    with closing(duckdb.connect(str(published), read_only=True)) as con:
        for block in readme_blocks("sql"):
            assert con.execute(block).fetchall(), f"no rows from:\n{block}"
    for block in readme_blocks("sql"):
        done = subprocess.run([str(project / ".venv" / "bin" / "gtm"), "sql", "--format", "csv"], input=block,
                              cwd=project, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        assert len(done.stdout.splitlines()) >= 2, f"no rows from:\n{block}"


def test_every_python_block_runs(bash_runs, project):
    for block in readme_blocks("python"):
        done = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", block], cwd=project,
                              env=_env(project), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        assert "FY20" in done.stdout


def test_every_gtm_command_the_readme_names_exists():
    named = set(re.findall(r"\bgtm ([a-z][a-z-]+)", README.read_text()))
    assert {"demo", "demo-data", "refresh", "report", "docs", "sql", "settings"} <= named
    assert named <= set(gtm_cli.commands), named - set(gtm_cli.commands)


def test_make_targets_run_what_the_readme_says():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipes = dict(re.findall(r"^(\w+):[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.MULTILINE))
    assert "$(BIN)/gtm demo" in recipes["demo"]
    assert "ruff check ." in recipes["test"] and "pytest" in recipes["test"]
    assert "dagster dev -w workspace.yaml" in recipes["dev"]


def test_make_dev_workspace_loads(tmp_path):
    env = {**_env(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run([str(VENV / "bin" / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "All code locations passed validation" in done.stdout + done.stderr
