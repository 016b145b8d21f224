import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

# Keep test logs clean: no analytics, no progress bars.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


# The longest test files (minutes each), started first: `make test` gives whole files to its
# workers (pytest-xdist) in collection order, so a long file started last would keep one worker
# busy while the others sit idle. Spark's first: it runs while the other workers take the rest.
LONGEST_FIRST = (
    "test_spark_engine.py",
    "test_reproducible_publication.py",
    "test_readme_commands.py",
    "test_pull_crm_end_to_end.py",
    "test_pull_end_to_end.py",
    "test_refresh_incremental.py",
    "test_refresh_end_to_end.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@pytest.fixture(scope="session")
def published_demo(tmp_path_factory, worker_id) -> Path:
    """A tiny demo company (scale 0.03, as of 2026-11-26) refreshed and published once per
    session, as a user runs it; its warehouse folder. Read it, never write into it.

    Under pytest-xdist (`make test` runs the suite on every core) the workers share one: the
    first to need it builds it in the session's common temp folder while the others wait.
    """
    session_dir = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        session_dir = session_dir.parent  # shared by this session's workers only
    root = session_dir / "published_demo"
    with FileLock(session_dir / "published_demo.lock"):
        if not (root / "warehouse" / "published.duckdb").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            _publish_demo(root)
    return root / "warehouse"


def _publish_demo(root: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GTM_")},
        "GTM_LANDING_DIR": str(root / "landing"),
        "GTM_WAREHOUSE_DIR": str(root / "warehouse"),
        "GTM_AS_OF_DATE": "2026-11-26",
        "DAGSTER_HOME": str(root / "dagster_home"),
    }
    gtm = [sys.executable, "-m", "orchestration.cli"]
    for args in (["demo-data", "--out", str(root / "landing"), "--scale", "0.03"], ["refresh"]):
        done = subprocess.run([*gtm, *args], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
