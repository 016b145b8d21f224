"""The Great Expectations floor: GX's own cost per expectation through a Checkpoint.

`suite_sizes` counts the expectations of each suite of each gate from the suite files
(expectations/expectations/<schema>/<table>.json; the source gate validates raw.*, the
mart gate marts.*). Run as a worker (bench/floors_common.py) it does one of:

- `synthetic`: the same suites' sizes, every expectation a trivial
  `expect_column_values_to_not_be_null` (one per column) on a 1-row DuckDB table per
  suite, one Checkpoint per gate in an in-memory context through a SQL datasource
  (duckdb-engine), SUMMARY results, as the gate configures GX
  (orchestration.lib.quality.runtime.ephemeral_context). Round 1 is the first of the
  process (what a refresh pays), with Data Docs (results written to files and the site
  built once per gate, as the gate does); later rounds are warm, with and without Data Docs.
- `gate`: our own gate (orchestration.lib.quality.gate.evaluate) over the real suites,
  per gate, against a near-empty warehouse (a refresh at a tiny scale): round 1 first of
  the process, later rounds warm.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

SITE = "floor"


def suite_sizes() -> dict[str, list[int]]:
    """Expectations per suite, by gate ("source", "marts"), from the suite files."""
    from orchestration.lib.quality.suites import MART_TARGETS, SOURCE_TARGETS, SUITES_DIR

    def size(target: Any) -> int:
        path = SUITES_DIR / target.schema / f"{target.table}.json"
        return len(json.loads(path.read_text())["expectations"])

    return {"source": [size(t) for t in SOURCE_TARGETS], "marts": [size(t) for t in MART_TARGETS]}


def _tables(database: Path, gates: dict[str, list[int]]) -> None:
    import duckdb

    database.unlink(missing_ok=True)
    with contextlib.closing(duckdb.connect(str(database))) as con:
        for gate, sizes in gates.items():
            con.execute(f"create schema {gate}")
            for i, size in enumerate(sizes):
                columns = ", ".join(f"1 as c{j}" for j in range(size))
                con.execute(f"create table {gate}.t{i:02d} as select {columns}")


def _dispose(datasource: Any) -> None:
    for engine in (
        getattr(datasource, "_engine", None),
        getattr(getattr(datasource, "_execution_engine", None), "engine", None),
    ):
        if engine is not None:
            engine.dispose()


def _synthetic_gate(gx: Any, gate: str, sizes: list[int], database: Path, work: Path, docs: bool) -> dict[str, Any]:
    from floors_common import timed

    from orchestration.lib.quality.runtime import ephemeral_context

    times: dict[str, Any] = {}
    with timed(times, "total"):
        if docs:
            shutil.rmtree(work / "docs", ignore_errors=True)
            context = ephemeral_context(work / "results", work / "docs", SITE)
        else:
            context = ephemeral_context()
        datasource = context.data_sources.add_sql(
            name="work", connection_string=f"duckdb:///{database}", kwargs={"connect_args": {"read_only": True}}
        )
        try:
            definitions = []
            for i, size in enumerate(sizes):
                suite = context.suites.add(
                    gx.ExpectationSuite(
                        name=f"{gate}.t{i:02d}",
                        expectations=[
                            gx.expectations.ExpectColumnValuesToNotBeNull(column=f"c{j}") for j in range(size)
                        ],
                    )
                )
                asset = datasource.add_table_asset(name=suite.name, table_name=f"t{i:02d}", schema_name=gate)
                batch = asset.add_batch_definition_whole_table(name="whole table")
                definitions.append(
                    context.validation_definitions.add(
                        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
                    )
                )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=f"floor_{gate}",
                    validation_definitions=definitions,
                    result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
                )
            )
            with timed(times, "checkpoint"):
                result = checkpoint.run()
            if docs:
                with timed(times, "data_docs"):
                    context.build_data_docs(site_names=[SITE], resource_identifiers=list(result.run_results))
        finally:
            _dispose(datasource)
    evaluated = sum(len(r.results) for r in result.run_results.values())
    if not result.success or evaluated != sum(sizes):
        raise RuntimeError(f"synthetic gate {gate}: success {result.success}, {evaluated} of {sum(sizes)} evaluated")
    return {"gate": gate, "times": times, "expectations": evaluated, "suites": len(sizes), "data_docs": docs}


def _synthetic(spec: dict[str, Any]) -> list[dict[str, Any]]:
    from orchestration.lib.quality.runtime import import_gx

    gx = import_gx()
    work = Path(spec["work_dir"])
    work.mkdir(parents=True, exist_ok=True)
    database = work / "floor_gx.duckdb"
    _tables(database, spec["gates"])
    rounds = []
    for round_ in range(1 + spec["warm_rounds"]):
        for docs in (True, False) if round_ else (True,):
            for gate, sizes in spec["gates"].items():
                rounds.append({"round": round_, **_synthetic_gate(gx, gate, sizes, database, work, docs)})
    return rounds


def _our_gate(spec: dict[str, Any]) -> list[dict[str, Any]]:
    from floors_common import timed

    from orchestration.lib.quality import gate
    from orchestration.lib.quality.runtime import import_gx
    from orchestration.lib.quality.suites import MART_TARGETS, SOURCE_TARGETS
    from orchestration.settings import load_settings

    import_gx()
    settings = load_settings()
    rounds = []
    for round_ in range(1 + spec["warm_rounds"]):
        for name, targets in (("source", SOURCE_TARGETS), ("marts", MART_TARGETS)):
            times: dict[str, Any] = {}
            with timed(times, "total"):
                report = gate.evaluate(settings, targets, run_id=f"floor-{round_}")
            outcomes = [e for s in report.suites for e in s.expectations]
            missing = [e for e in outcomes if e.expectation_type == gate.MISSING_TABLE_TYPE]
            if missing:
                raise RuntimeError(f"our gate {name}: {len(missing)} suite(s) without their table")
            rounds.append(
                {
                    "round": round_,
                    "gate": name,
                    "times": times,
                    "expectations": len(outcomes),
                    "suites": len(report.suites),
                    "counts": report.counts(),
                    "data_docs": True,
                }
            )
    return rounds


def work(spec: dict[str, Any]) -> dict[str, Any]:
    return {"rounds": _synthetic(spec) if spec["mode"] == "synthetic" else _our_gate(spec)}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from floors_common import worker_main

    worker_main(work)
