"""An older DuckDB, in its own virtual environment, to open a published file with.

The published file must open in DuckDB 1.4 (the long-term-support release), the
oldest version the setting published_storage_version allows. The environment is
created on first use from PyPI, beside the project's (`.venv/duckdb-<version>`), and
reused after that; from a clean clone the first test run creates it.
"""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from orchestration.settings import PROJECT_ROOT

OLDER_DUCKDB = "1.4.5"  # the newest 1.4 release on PyPI (`pip index versions duckdb`)
ENVIRONMENT = PROJECT_ROOT / ".venv" / f"duckdb-{OLDER_DUCKDB}"

# Run by the older DuckDB: every table of every schema, its column types and all of its
# rows (sorted), pickled to argv[2]. Both environments run the same Python, so the
# values (Decimal, date, datetime, ...) compare as they are.
_READ_EVERY_TABLE = """
import pickle, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = {}
for schema, table in con.execute(
    "select table_schema, table_name from information_schema.tables order by all"
).fetchall():
    name = f'"{schema}"."{table}"'
    types = [(c, t) for c, t in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]
    ).fetchall()]
    tables[f"{schema}.{table}"] = {"types": types, "rows": con.execute(f"select * from {name} order by all").fetchall()}
with open(sys.argv[2], "wb") as out:
    pickle.dump({"version": duckdb.__version__, "tables": tables}, out)
"""


def older_duckdb_python() -> Path:
    """The Python of the environment with the older DuckDB, created if missing."""
    python = ENVIRONMENT / "bin" / "python"
    if python.exists():
        return python
    ENVIRONMENT.parent.mkdir(parents=True, exist_ok=True)
    # Built beside it and renamed into place: an interrupted build leaves nothing half-made.
    building = Path(tempfile.mkdtemp(prefix=f".{ENVIRONMENT.name}-", dir=ENVIRONMENT.parent))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True)
        subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet",
             "--disable-pip-version-check", f"duckdb=={OLDER_DUCKDB}"],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        building.rename(ENVIRONMENT)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


def read_with_older_duckdb(database: Path) -> dict[str, Any]:
    """{"version": the older DuckDB's version, "tables": {schema.table: {"types", "rows"}}}.

    Raises `subprocess.CalledProcessError` (its stderr holds DuckDB's message) when the
    older DuckDB cannot open the file.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "tables.pickle"
        subprocess.run(
            [str(older_duckdb_python()), "-c", _READ_EVERY_TABLE, str(database), str(out)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return pickle.loads(out.read_bytes())
