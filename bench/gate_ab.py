"""Two versions of the quality gate, timed alternately on copies of one warehouse.

    .venv/bin/python bench/gate_ab.py BEFORE_DIR AFTER_DIR --warehouse W --rounds 5

A whole `gtm refresh` (bench/ab.py) buries a gate change of a few hundred milliseconds in
~25 s of noise; this times the two gate steps alone. W is a refreshed warehouse (e.g.
`<work-dir>/ab_1/before/warehouse` of bench/ab.py); each version gets its own copy of it.
Each round runs one process per version, before then after, with that checkout on
PYTHONPATH: Great Expectations is imported (not timed), then `gate.evaluate` and
`gate.record` of the source suites and of the mart suites, as a new run (each round's run
id is new, so the first step clears the last run's results and Data Docs, as a nightly
run does). Prints the CPU time (user + system, `time.process_time`, all threads) and wall
time of each step, their medians, and the load average at the start and the end.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import click

STEP = """
import json, sys, time
from orchestration.lib.quality import gate
from orchestration.lib.quality.runtime import import_gx
from orchestration.lib.quality.suites import MART_TARGETS, SOURCE_TARGETS
from orchestration.settings import Settings
import_gx()
settings = Settings.from_env()
run_id = sys.argv[1]
times = {}
for step, targets in (("source", SOURCE_TARGETS), ("mart", MART_TARGETS)):
    cpu, wall = time.process_time(), time.monotonic()
    report = gate.evaluate(settings, targets, run_id)
    gate.record(settings.work_db_path, report)
    times[step] = [time.process_time() - cpu, time.monotonic() - wall, report.counts()]
print(json.dumps(times))
"""


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _gates(code: Path, warehouse: Path, run_id: str, as_of: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTM_")}
    env.update(GTM_WAREHOUSE_DIR=str(warehouse), GTM_AS_OF_DATE=as_of, PYTHONPATH=str(code))
    done = subprocess.run(
        [sys.executable, "-c", STEP, run_id], env=env, cwd=code, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise click.ClickException(f"the gates of {code} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@click.command(context_settings={"max_content_width": 100})
@click.argument("before", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("after", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--warehouse", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--rounds", default=5, show_default=True, type=click.IntRange(1))
@click.option("--as-of-date", default="2026-11-26", show_default=True)
def main(before: Path, after: Path, warehouse: Path, rounds: int, as_of_date: str) -> None:
    """Time the two quality gate steps of BEFORE_DIR and AFTER_DIR alternately (see the module's text)."""
    versions = {"before": before.resolve(), "after": after.resolve()}
    scratch = Path(tempfile.mkdtemp(prefix="gate_ab_"))
    copies = {name: scratch / name for name in versions}
    for copy in copies.values():
        shutil.copytree(warehouse, copy)
    click.echo(f"load average at the start: {_load()}")
    samples: dict[str, list[dict]] = {name: [] for name in versions}
    try:
        for n in range(1, rounds + 1):
            for name, code in versions.items():
                sample = _gates(code, copies[name], f"gate-ab-{n}", as_of_date)
                samples[name].append(sample)
                click.echo(
                    f"round {n} {name:<6} "
                    + "  ".join(
                        f"{step} cpu {cpu:5.2f} s wall {wall:5.2f} s {counts}"
                        for step, (cpu, wall, counts) in sample.items()
                    )
                    + f"  load {_load()}"
                )
        for name in versions:
            medians = {
                step: (
                    statistics.median(s[step][0] for s in samples[name]),
                    statistics.median(s[step][1] for s in samples[name]),
                )
                for step in ("source", "mart")
            }
            total = statistics.median(s["source"][0] + s["mart"][0] for s in samples[name])
            click.echo(
                f"median {name:<6} "
                + "  ".join(f"{step} cpu {cpu:5.2f} s wall {wall:5.2f} s" for step, (cpu, wall) in medians.items())
                + f"  both cpu {total:5.2f} s"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    click.echo(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
