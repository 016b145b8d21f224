"""The limit: the pipeline's transformations as bare DuckDB SQL in one process.

Reads a plan written by run.py (JSON: the statements that load the raw tables with
DuckDB's own readers, then every dbt model's compiled SQL in dependency order) and
executes it against a new DuckDB file: nothing but Python, DuckDB and the SQL. Prints
one JSON line with the seconds spent per phase.

    python bench/limit.py PLAN.json DATABASE --threads 2 --memory-limit 4GB
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb


def execute(plan: dict, database: Path, threads: int, memory_limit: str) -> dict[str, float]:
    database.unlink(missing_ok=True)
    Path(f"{database}.wal").unlink(missing_ok=True)
    seconds: dict[str, float] = {}
    con = duckdb.connect(str(database), config={"threads": threads, "memory_limit": memory_limit})
    try:
        con.execute("set TimeZone = 'UTC'")
        for phase in ("read", "models"):
            started = time.perf_counter()
            for statement in plan[phase]:
                con.execute(statement)
            seconds[phase] = time.perf_counter() - started
        started = time.perf_counter()
        con.execute("checkpoint")
        seconds["checkpoint"] = time.perf_counter() - started
    finally:
        con.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plan", type=Path, help="JSON plan written by bench/run.py")
    parser.add_argument("database", type=Path, help="DuckDB file to (re)create")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--memory-limit", required=True)
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    print(json.dumps(execute(plan, args.database, args.threads, args.memory_limit)))


if __name__ == "__main__":
    main()
