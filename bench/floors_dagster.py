"""The Dagster floor: Dagster's own cost per run and per step for a job shaped like ours.

`job_shape` reads the shape of our `nightly_refresh` from our Definitions: every
executable step (multi-asset or multi-asset-check) with its asset keys and their
dependencies, its asset checks and whether they block. Run as a worker
(bench/floors_common.py), it builds the same steps with nothing inside (each asset step
yields one MaterializeResult per asset, each check step one passing AssetCheckResult per
check), and runs the job with `execute_in_process` on a DagsterInstance from
$DAGSTER_HOME (the caller puts a copy of our dagster.yaml there: the same storage), in
process, with the in-process executor and a logger that discards, as `gtm refresh` runs
it. Run 1 is the first of the process (what a refresh pays); later runs are warm.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

JOB = "nightly_refresh"


def job_shape() -> list[dict[str, Any]]:
    """Our nightly_refresh's steps: name, assets (key path, dependency paths), checks."""
    from orchestration.definitions import defs

    steps = []
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if not assets_def.is_executable:
            continue
        steps.append(
            {
                "name": assets_def.node_def.name,
                "assets": [
                    {"key": list(key.path), "deps": [list(dep.path) for dep in sorted(assets_def.asset_deps[key])]}
                    for key in sorted(assets_def.keys)
                ],
                "checks": [
                    {"asset": list(spec.asset_key.path), "name": spec.name, "blocking": spec.blocking}
                    for spec in assets_def.check_specs
                ],
            }
        )
    return sorted(steps, key=lambda s: s["name"])


def scaled(steps: list[dict[str, Any]], divisor: int) -> list[dict[str, Any]]:
    """`--quick`: every step kept, with every `divisor`-th asset and check (at least one)."""
    out = []
    for step in steps:
        assets = step["assets"][::divisor]
        kept = {tuple(a["key"]) for s in steps for a in s["assets"][::divisor]}
        out.append(
            {
                "name": step["name"],
                "assets": [{"key": a["key"], "deps": [d for d in a["deps"] if tuple(d) in kept]} for a in assets],
                "checks": [c for c in step["checks"][::divisor] if tuple(c["asset"]) in kept],
            }
        )
    return out


def _topological(assets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A step's assets in dependency order (a multi-asset yields its outputs in that order)."""
    by_key = {tuple(a["key"]): a for a in assets}
    graph = {key: {tuple(d) for d in a["deps"] if tuple(d) in by_key} for key, a in by_key.items()}
    return [by_key[key] for key in TopologicalSorter(graph).static_order()]


def _definitions(steps: list[dict[str, Any]]) -> Any:
    import logging

    import dagster as dg

    def asset_step(step: dict[str, Any]) -> dg.AssetsDefinition:
        specs = [
            dg.AssetSpec(dg.AssetKey(a["key"]), deps=[dg.AssetKey(d) for d in a["deps"]])
            for a in _topological(step["assets"])
        ]

        @dg.multi_asset(name=step["name"], specs=specs)
        def _step(context):  # no annotation: Dagster resolves it at definition time
            for spec in specs:
                yield dg.MaterializeResult(asset_key=spec.key)

        return _step

    def check_step(step: dict[str, Any]) -> dg.AssetChecksDefinition:
        specs = [
            dg.AssetCheckSpec(c["name"], asset=dg.AssetKey(c["asset"]), blocking=c["blocking"]) for c in step["checks"]
        ]

        @dg.multi_asset_check(name=step["name"], specs=specs)
        def _step(context):
            for spec in specs:
                yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=True)

        return _step

    @dg.logger
    def discard(_context):
        log = logging.getLogger("dagster-floor")
        log.propagate = False
        log.addHandler(logging.NullHandler())
        return log

    return dg.Definitions(
        assets=[asset_step(s) for s in steps if s["assets"]],
        asset_checks=[check_step(s) for s in steps if s["checks"] and not s["assets"]],
        jobs=[dg.define_asset_job(JOB, selection=dg.AssetSelection.all())],
        executor=dg.in_process_executor,
        loggers={"discard": discard},
    )


def work(spec: dict[str, Any]) -> dict[str, Any]:
    import dagster as dg
    from floors_common import timed

    times: dict[str, Any] = {}
    with timed(times, "definitions"):
        job = _definitions(spec["steps"]).resolve_job_def(JOB)
    with timed(times, "instance"):
        instance = dg.DagsterInstance.get()
    runs = []
    try:
        for run in range(1 + spec["warm_runs"]):
            run_times: dict[str, Any] = {}
            with timed(run_times, "run"):
                result = job.execute_in_process(instance=instance, run_config={"loggers": {"discard": {}}})
            if not result.success:
                raise RuntimeError(f"the Dagster floor's run {run} failed")
            events = instance.all_logs(result.run_id)
            steps = {e.step_key for e in events if e.step_key}
            runs.append({"run": run, **run_times["run"], "events": len(events), "steps": len(steps)})
    finally:
        instance.dispose()
    return {"times": times, "runs": runs}


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from floors_common import worker_main

    worker_main(work)
