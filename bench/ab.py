"""Two versions of the code, one `gtm refresh` each in turn: what did a change save?

    .venv/bin/python bench/ab.py BEFORE_DIR AFTER_DIR --scale 1 --pairs 3

BEFORE_DIR and AFTER_DIR are checkouts of the project (e.g. `git archive` of two commits, or
a worktree). Each gets its own warehouse and Dagster instance under --work-dir, refreshed
once untimed (dbt's full parse, the first publication, every extract file read), then the
two are timed alternately, before, after, before, after..., so a busy moment of a shared
machine hits both. Each timed run is a repeat refresh (nothing new landed, as bench/run.py's
runs 2..): CPU time of the process tree (the figure to compare on a shared machine), wall
time and the steps' seconds from the Dagster event log. Prints one line per run and the
medians; the load average is printed at the start and the end.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
from pathlib import Path

import click

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from measure import run_measured  # noqa: E402
from run import DEFAULT_AS_OF, base_env, ensure_landing, pipeline_phases  # noqa: E402


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _refresh(code: Path, root: Path, landing: Path, as_of: dt.date, log: Path) -> dict[str, float]:
    env = base_env(
        GTM_LANDING_DIR=str(landing),
        GTM_WAREHOUSE_DIR=str(root / "warehouse"),
        GTM_AS_OF_DATE=as_of.isoformat(),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONPATH=str(code),
    )
    command = [sys.executable, "-m", "orchestration.cli", "refresh"]
    measurement = run_measured(command, env=env, log_path=log, cwd=code)
    if measurement.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise click.ClickException(f"gtm refresh in {code} exited with {measurement.returncode}:\n{tail}")
    run_id = next((line.split()[1] for line in log.read_text().splitlines() if line.startswith("Run ")), None)
    _, steps = pipeline_phases(root / "dagster_home", run_id)
    return {"cpu": measurement.cpu_s, "wall": measurement.wall_s, "rss_mb": measurement.peak_rss_mb, **steps}


@click.command(context_settings={"max_content_width": 100})
@click.argument("before", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("after", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scale", default=1.0, show_default=True, help="Demo-generator scale.")
@click.option("--pairs", default=2, show_default=True, type=click.IntRange(1), help="Timed runs of each.")
@click.option("--seed", default=42, show_default=True)
@click.option("--as-of-date", default=DEFAULT_AS_OF, show_default=True)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    default=BENCH_DIR / "work",
    show_default=True,
    help="Scratch space (the landing of the scale is shared with bench/run.py).",
)
def main(before: Path, after: Path, scale: float, pairs: int, seed: int, as_of_date: str, work_dir: Path) -> None:
    """Time `gtm refresh` of BEFORE_DIR and AFTER_DIR alternately (see the module's text)."""
    as_of = dt.date.fromisoformat(as_of_date)
    landing = work_dir.resolve() / f"scale_{scale:g}" / "landing"
    ensure_landing(landing, scale, seed, as_of)
    versions = {"before": before.resolve(), "after": after.resolve()}
    roots = {name: work_dir.resolve() / f"ab_{scale:g}" / name for name in versions}
    click.echo(f"load average at the start: {_load()}")
    for name, code in versions.items():
        shutil.rmtree(roots[name], ignore_errors=True)
        (roots[name] / "dagster_home").mkdir(parents=True)
        shutil.copy(code / "dagster_home" / "dagster.yaml", roots[name] / "dagster_home" / "dagster.yaml")
        _refresh(code, roots[name], landing, as_of, roots[name] / "untimed.log")
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
    for pair in range(1, pairs + 1):
        for name, code in versions.items():
            sample = _refresh(code, roots[name], landing, as_of, roots[name] / f"run_{pair}.log")
            samples[name].append(sample)
            steps = " ".join(f"{k} {v:.1f}" for k, v in sample.items() if k not in ("cpu", "wall", "rss_mb"))
            click.echo(
                f"pair {pair} {name:<6} cpu {sample['cpu']:6.1f} s  wall {sample['wall']:7.1f} s  "
                f"{sample['rss_mb']:5.0f} MB  load {_load()}  | {steps}"
            )
    for name in versions:
        cpu = statistics.median(s["cpu"] for s in samples[name])
        wall = statistics.median(s["wall"] for s in samples[name])
        click.echo(f"median {name:<6} cpu {cpu:6.1f} s  wall {wall:7.1f} s")
    click.echo(f"load average at the end: {_load()}")


if __name__ == "__main__":
    main()
