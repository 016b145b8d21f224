"""The imports floor: what a fresh interpreter pays to import what a refresh must import.

Each set runs as `python -c "<imports>; print('imported')"` (the print proves the imports
ran: with pyspark installed a bare `import great_expectations` may end the process with
exit code 0 before importing anything, see the Makefile; GX is imported the project's
way, `orchestration.lib.quality.runtime.import_gx`, which avoids that).
"""

from __future__ import annotations

GX = "from orchestration.lib.quality.runtime import import_gx; import_gx()"
TOOLS = "import dagster, dagster_dbt, dagster_dlt, dbt.cli.main, dbt.adapters.duckdb, duckdb"

# name -> the statements; "bare interpreter" and "duckdb" are what the limit pays too.
IMPORT_SETS: dict[str, str] = {
    "bare interpreter": "pass",
    "duckdb": "import duckdb",
    "dagster": "import dagster",
    "dbt-core + dbt-duckdb": "import dbt.cli.main, dbt.adapters.duckdb",
    "dagster-dbt": "import dagster_dbt",
    "dagster-dlt": "import dagster_dlt",
    "Great Expectations (import_gx)": GX,
    "all tools": f"{TOOLS}; {GX}",
    "our definitions": "import orchestration.definitions",
    "our definitions + GX": f"import orchestration.definitions; {GX}",
}
QUICK_SETS = ("bare interpreter", "duckdb", "all tools")
# The floor: every tool a refresh imports, less what the limit's own process imports.
FLOOR_SET, BASELINE_SET = "all tools", "duckdb"
OURS_SET = "our definitions + GX"  # minus FLOOR_SET: what our code adds on top
PROOF = "imported"


def command(python: str, name: str) -> list[str]:
    return [python, "-c", f"{IMPORT_SETS[name]}; print({PROOF!r})"]
