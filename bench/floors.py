"""Floors: what the tools a refresh requires cost by themselves, for our refresh's amount of work.

The fixed cost of a refresh (pipeline minus limit at scale 1, bench/run.py) is partly ours
and partly the tools'. This measures the tools' part, independent of our code and data:

1. imports: fresh interpreters importing what a refresh imports (bench/floors_imports.py);
2. dbt: a throwaway project with our `dbt build`'s node counts, every node trivial
   (bench/floors_dbt.py);
3. Great Expectations: our gates' suite sizes as trivial expectations through a
   Checkpoint, and our own gate over the real suites on a near-empty warehouse
   (bench/floors_gx.py);
4. Dagster: a job of our job's shape with nothing inside (bench/floors_dagster.py).

Every floor runs in its own processes (bench/measure.py: wall, CPU and peak RSS of the
process); dbt, GX and Dagster are timed inside them after their imports (not counted
twice), first in the process (what one refresh pays) and warm. "floor total" = imports +
dbt + GX + Dagster, each its first-in-process figure. Results: <results-dir>/<date>-floors.md
and .json. See bench/README.md, "Floors".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import click

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(PROJECT_ROOT))

import floors_dagster  # noqa: E402
import floors_dbt  # noqa: E402
import floors_gx  # noqa: E402
import floors_imports  # noqa: E402
import run as bench_run  # noqa: E402
from measure import Measurement, run_measured  # noqa: E402

QUICK_DIVISOR = 10  # --quick: a tenth of every count


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _env(**extra: str) -> dict[str, str]:
    return bench_run.base_env(PYTHONPATH=str(PROJECT_ROOT), **extra)


def _measured(measurement: Measurement) -> dict[str, float]:
    return {"wall_s": measurement.wall_s, "cpu_s": measurement.cpu_s, "peak_rss_mb": measurement.peak_rss_mb}


def _worker(script: str, spec: dict[str, Any], work: Path, name: str, env: dict[str, str]) -> dict[str, Any]:
    """Run a floor worker (bench/floors_common.py) as its own measured process."""
    spec_path, out_path, log = work / f"{name}.spec.json", work / f"{name}.out.json", work / f"{name}.log"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    measurement = run_measured(
        [sys.executable, str(BENCH_DIR / script), str(spec_path), str(out_path)], env=env, log_path=log, cwd=work
    )
    if measurement.returncode != 0 or not out_path.exists():
        tail = "\n".join(log.read_text().splitlines()[-30:])
        raise click.ClickException(f"{script} failed (exit {measurement.returncode}); {log}:\n{tail}")
    return {"process": _measured(measurement), **json.loads(out_path.read_text())}


# -- the floors -----------------------------------------------------------------------------


def imports_floor(work: Path, runs: int, quick: bool) -> dict[str, Any]:
    names = floors_imports.QUICK_SETS if quick else tuple(floors_imports.IMPORT_SETS)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for run in range(runs):  # the sets alternate, so a busy moment does not hit one set only
        for i, name in enumerate(names):
            log = work / f"imports_{run}_{i}.log"
            measurement = run_measured(floors_imports.command(sys.executable, name), env=_env(), log_path=log, cwd=work)
            if measurement.returncode != 0 or floors_imports.PROOF not in log.read_text():
                raise click.ClickException(f"importing {name!r} failed; see {log}")
            samples[name].append(_measured(measurement))
    sets = {
        name: {k: _median([s[k] for s in values]) for k in ("wall_s", "cpu_s", "peak_rss_mb")}
        for name, values in samples.items()
    }
    floor, base = sets[floors_imports.FLOOR_SET], sets[floors_imports.BASELINE_SET]
    result = {"sets": sets, "samples": samples, "floor": {k: floor[k] - base[k] for k in ("wall_s", "cpu_s")}}
    if floors_imports.OURS_SET in sets:
        ours = sets[floors_imports.OURS_SET]
        result["ours_on_top"] = {k: ours[k] - floor[k] for k in ("wall_s", "cpu_s")}
    return result


def dbt_floor(work: Path, runs: int, quick: bool) -> dict[str, Any]:
    from orchestration.lib.dbt_manifest import load_manifest
    from orchestration.settings import DBT_PROJECT_DIR, load_settings

    ours = floors_dbt.node_counts(load_manifest())
    counts = floors_dbt.scaled(ours, QUICK_DIVISOR) if quick else ours
    settings = load_settings()
    threads = floors_dbt.refresh_threads(DBT_PROJECT_DIR / "profiles.yml")
    project = work / "dbt_project"
    written = floors_dbt.write_project(project, counts, threads, settings.duckdb_threads, settings.duckdb_memory_limit)
    _worker("floors_dbt.py", {"project": str(project), "mode": "prepare"}, work, "dbt_prepare", _env())
    samples = [
        _worker("floors_dbt.py", {"project": str(project), "mode": "measure"}, work, f"dbt_{r}", _env())
        for r in range(runs)
    ]
    steps = ("first_build", "warm_build", "parse", "manifest_build")
    times = {s: {k: _median([x["times"][s][k] for x in samples]) for k in ("wall_s", "cpu_s")} for s in steps}
    nodes = samples[0]["nodes"]["first_build"]
    return {
        "our_counts": ours,
        "counts": counts,
        "written": written,
        "threads": threads,
        "nodes": nodes,
        "times": times,
        "samples": samples,
        "floor": times["first_build"],
    }


def _gate_rounds(samples: list[dict[str, Any]], cold: bool, docs: bool) -> dict[str, dict[str, float]]:
    """Median seconds per gate over the worker processes: round 0 (cold) or later rounds."""
    by_gate: dict[str, dict[str, list[float]]] = {}
    for sample in samples:
        for r in sample["rounds"]:
            if (r["round"] == 0) != cold or r["data_docs"] != docs:
                continue
            gate = by_gate.setdefault(r["gate"], {"expectations": [r["expectations"]]})
            for part, t in r["times"].items():
                for k in ("wall_s", "cpu_s"):
                    gate.setdefault(f"{part}_{k}", []).append(t[k])
    return {g: {k: _median(v) for k, v in values.items()} for g, values in by_gate.items()}


def gx_floor(work: Path, runs: int, quick: bool, our_gate_env: dict[str, str] | None) -> dict[str, Any]:
    ours = floors_gx.suite_sizes()
    gates = {g: [max(1, n // QUICK_DIVISOR) for n in sizes[:2]] for g, sizes in ours.items()} if quick else ours
    spec = {"mode": "synthetic", "gates": gates, "warm_rounds": 1 if quick else 2, "work_dir": str(work / "gx")}
    samples = [_worker("floors_gx.py", spec, work, f"gx_{r}", _env()) for r in range(runs)]
    result: dict[str, Any] = {
        "our_sizes": {g: {"suites": len(s), "expectations": sum(s)} for g, s in ours.items()},
        "sizes": {g: {"suites": len(s), "expectations": sum(s)} for g, s in gates.items()},
        "synthetic": {
            "cold_docs": _gate_rounds(samples, cold=True, docs=True),
            "warm_docs": _gate_rounds(samples, cold=False, docs=True),
            "warm_no_docs": _gate_rounds(samples, cold=False, docs=False),
        },
        "samples": samples,
    }
    cold = result["synthetic"]["cold_docs"]
    result["floor"] = {k: sum(g[f"total_{k}"] for g in cold.values()) for k in ("wall_s", "cpu_s")}
    if our_gate_env is not None:
        gate_spec = {"mode": "gate", "warm_rounds": 2}
        gate_samples = [_worker("floors_gx.py", gate_spec, work, f"gate_{r}", our_gate_env) for r in range(runs)]
        result["our_gate"] = {
            "cold": _gate_rounds(gate_samples, cold=True, docs=True),
            "warm": _gate_rounds(gate_samples, cold=False, docs=True),
            "samples": gate_samples,
        }
    return result


def our_gate_warehouse(work: Path, as_of: dt.date) -> tuple[dict[str, str], str]:
    """A refresh at bench/run.py's smoke scale (a near-empty warehouse): the environment
    our gate then runs in, and what the refresh said."""
    paths = {name: work / "gate" / name for name in ("landing", "warehouse", "dagster_home", "logs")}
    bench_run.ensure_landing(paths["landing"], bench_run.SMOKE_SCALE, 42, as_of)
    env = bench_run.fresh_refresh_env(paths, as_of, ("warehouse", "dagster_home", "logs"))
    sample = bench_run.run_pipeline(0, paths, env, unpublished_ok=True)
    return {**env, "PYTHONPATH": str(PROJECT_ROOT)}, sample.note


def dagster_floor(work: Path, runs: int, quick: bool) -> dict[str, Any]:
    ours = floors_dagster.job_shape()
    steps = floors_dagster.scaled(ours, QUICK_DIVISOR) if quick else ours
    samples = []
    for r in range(runs):
        home = work / f"dagster_home_{r}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
        spec = {"steps": steps, "warm_runs": 1 if quick else 2}
        samples.append(_worker("floors_dagster.py", spec, work, f"dagster_{r}", _env(DAGSTER_HOME=str(home))))
    setup = {
        k: _median([s["times"]["definitions"][k] + s["times"]["instance"][k] for s in samples])
        for k in ("wall_s", "cpu_s")
    }
    first = {k: _median([s["runs"][0][k] for s in samples]) for k in ("wall_s", "cpu_s")}
    warm = {k: _median([r[k] for s in samples for r in s["runs"][1:]]) for k in ("wall_s", "cpu_s")}
    shape = {
        "steps": len(steps),
        "assets": sum(len(s["assets"]) for s in steps),
        "checks": sum(len(s["checks"]) for s in steps),
        "events": samples[0]["runs"][0]["events"],
    }
    return {
        "shape": shape,
        "setup": setup,
        "first_run": first,
        "warm_run": warm,
        "samples": samples,
        "floor": {k: setup[k] + first[k] for k in ("wall_s", "cpu_s")},
    }


def fixed_cost(against: Path) -> dict[str, Any]:
    """Pipeline minus limit at scale 1 (medians) from a bench/run.py results file."""
    report = json.loads(against.read_text())
    scale = next(s for s in report["scales"] if s["scale"] == 1)
    contenders = scale["summary"]["contenders"]
    return {
        "file": str(against),
        "load_start": report.get("load_start"),
        **{k: _median(contenders["pipeline"][k]) - _median(contenders["limit"][k]) for k in ("wall_s", "cpu_s")},
        "pipeline_phases": contenders["pipeline"].get("phases", {}),
    }


# -- the report ------------------------------------------------------------------------------


def _s(value: float) -> str:
    return f"{value:.2f}"


def _ms(value: float, n: int) -> str:
    return f"{1000 * value / n:.1f}" if n else "-"


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(floor, what, wall s, CPU s, ms per unit) for the table."""
    out = []
    imports = report["imports"]
    for name, t in imports["sets"].items():
        out.append(("imports", f"`{floors_imports.IMPORT_SETS[name]}` ({name})", _s(t["wall_s"]), _s(t["cpu_s"]), ""))
    f = imports["floor"]
    out.append(
        (
            "**imports floor**",
            f"{floors_imports.FLOOR_SET} - {floors_imports.BASELINE_SET}",
            _s(f["wall_s"]),
            _s(f["cpu_s"]),
            "",
        )
    )
    if "ours_on_top" in imports:
        t = imports["ours_on_top"]
        out.append(
            ("(ours)", f"{floors_imports.OURS_SET} - {floors_imports.FLOOR_SET}", _s(t["wall_s"]), _s(t["cpu_s"]), "")
        )
    dbt = report["dbt"]
    n = dbt["nodes"]
    labels = {
        "first_build": f"`dbt build`, first in process, partial parse ({n} nodes)",
        "warm_build": "`dbt build` again, warm, partial parse",
        "parse": "`dbt parse` (partial), warm",
        "manifest_build": "`dbt build` with the parsed manifest, warm",
    }
    for step, label in labels.items():
        t = dbt["times"][step]
        out.append(
            (
                "**dbt floor**" if step == "first_build" else "dbt",
                label,
                _s(t["wall_s"]),
                _s(t["cpu_s"]),
                "" if step == "parse" else f"{_ms(t['wall_s'], n)} ms/node",
            )
        )
    gx = report["gx"]
    for variant, label in (
        ("cold_docs", "first in process, Data Docs"),
        ("warm_docs", "warm, Data Docs"),
        ("warm_no_docs", "warm, no Data Docs"),
    ):
        for gate, t in gx["synthetic"][variant].items():
            e = int(t["expectations"])
            docs = f", of which docs {_s(t['data_docs_wall_s'])}" if "data_docs_wall_s" in t else ""
            out.append(
                (
                    "GX synthetic",
                    f"{gate} gate: {e} x not_null, {label}{docs}",
                    _s(t["total_wall_s"]),
                    _s(t["total_cpu_s"]),
                    f"{_ms(t['total_wall_s'], e)} ms/exp.",
                )
            )
    f = gx["floor"]
    out.append(("**GX floor**", "both gates, first in process, Data Docs", _s(f["wall_s"]), _s(f["cpu_s"]), ""))
    for variant, label in (("cold", "first in process"), ("warm", "warm")):
        for gate, t in gx.get("our_gate", {}).get(variant, {}).items():
            e = int(t["expectations"])
            out.append(
                (
                    "our gate",
                    f"{gate}: `gate.evaluate`, {e} outcomes, real suites, {label}",
                    _s(t["total_wall_s"]),
                    _s(t["total_cpu_s"]),
                    f"{_ms(t['total_wall_s'], e)} ms/exp.",
                )
            )
    dagster = report["dagster"]
    shape = dagster["shape"]
    what = f"{shape['steps']} steps, {shape['assets']} assets, {shape['checks']} checks, {shape['events']} events"
    out.append(
        (
            "Dagster",
            "Definitions + DagsterInstance.get()",
            _s(dagster["setup"]["wall_s"]),
            _s(dagster["setup"]["cpu_s"]),
            "",
        )
    )
    for key, label in (("first_run", "first run in process"), ("warm_run", "warm run")):
        t = dagster[key]
        out.append(
            (
                "Dagster",
                f"`execute_in_process`, {label} ({what})",
                _s(t["wall_s"]),
                _s(t["cpu_s"]),
                f"{_ms(t['wall_s'], shape['steps'])} ms/step",
            )
        )
    f = dagster["floor"]
    out.append(("**Dagster floor**", "setup + first run", _s(f["wall_s"]), _s(f["cpu_s"]), ""))
    total = report["total"]
    out.append(("**floor total**", "imports + dbt + GX + Dagster floors", _s(total["wall_s"]), _s(total["cpu_s"]), ""))
    if "fixed_cost" in report:
        fc = report["fixed_cost"]
        out.append(
            (
                "fixed cost",
                f"pipeline - limit at scale 1, from {Path(fc['file']).name}",
                _s(fc["wall_s"]),
                _s(fc["cpu_s"]),
                "",
            )
        )
        out.append(
            (
                "above the floors",
                "fixed cost - floor total",
                _s(fc["wall_s"] - total["wall_s"]),
                _s(fc["cpu_s"] - total["cpu_s"]),
                "",
            )
        )
    return out


def render(report: dict[str, Any]) -> str:
    lines = [
        f"# Floors: what the tools cost by themselves ({report['date']})",
        "",
        f"`{report['command']}`; load average at start {report['load_start']}, at end {report['load_end']}; "
        f"{report['machine']['cores']} cores, {report['machine']['cpu']}; Python {report['machine']['python']}; "
        + ", ".join(f"{k} {v}" for k, v in report["machine"]["versions"].items())
        + f". Medians of {report['runs']} process(es) per floor"
        + (" (--quick: a tenth of every count)" if report["quick"] else "")
        + ". dbt, GX and Dagster are timed inside their process after their imports (the imports floor has those).",
        "",
        "| floor | what | wall s | CPU s | per unit (wall) |",
        "|---|---|---:|---:|---:|",
        *(f"| {' | '.join(row)} |" for row in rows(report)),
        "",
    ]
    return "\n".join(lines)


@click.command(context_settings={"max_content_width": 100})
@click.option("--runs", default=3, show_default=True, type=click.IntRange(1), help="Processes per floor.")
@click.option("--quick", is_flag=True, help="A tenth of every count, 1 run, fewer import sets, no gate refresh.")
@click.option(
    "--our-gate/--no-our-gate",
    default=None,
    help="Also time our gate on the real suites after a smoke-scale refresh [default: not with --quick].",
)
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A bench/run.py results file with scale 1: its fixed cost is set against the floors.",
)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    default=BENCH_DIR / "work" / "floors",
    show_default=True,
    help="Scratch folder (emptied first).",
)
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where <date>-floors.md/.json go [default: bench/results; with --quick, <work-dir>/results].",
)
def main(
    runs: int, quick: bool, our_gate: bool | None, against: Path | None, work_dir: Path, results_dir: Path | None
) -> None:
    """Measure what Dagster, dbt, Great Expectations and the imports cost by themselves."""
    started = time.monotonic()
    runs = 1 if quick else runs
    our_gate = not quick if our_gate is None else our_gate
    work = work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results_dir = (results_dir or (work / "results" if quick else BENCH_DIR / "results")).resolve()
    report: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "command": "bench/floors.py " + " ".join(sys.argv[1:]),
        "machine": bench_run.describe_machine(),
        "runs": runs,
        "quick": quick,
        "load_start": _load(),
    }
    gate_env = None
    if our_gate:
        click.echo(f"a refresh at scale {bench_run.SMOKE_SCALE:g}, for our gate")
        gate_env, report["our_gate_refresh"] = our_gate_warehouse(work, dt.date.fromisoformat(bench_run.DEFAULT_AS_OF))
    for name, measure in (
        ("imports", lambda: imports_floor(work, runs, quick)),
        ("dbt", lambda: dbt_floor(work, runs, quick)),
        ("gx", lambda: gx_floor(work, runs, quick, gate_env)),
        ("dagster", lambda: dagster_floor(work, runs, quick)),
    ):
        click.echo(f"{name} floor ...")
        report[name] = measure()
    report["total"] = {
        k: sum(report[f]["floor"][k] for f in ("imports", "dbt", "gx", "dagster")) for k in ("wall_s", "cpu_s")
    }
    if against:
        report["fixed_cost"] = fixed_cost(against)
    report["load_end"] = _load()
    markdown = render(report)
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{report['date']}-floors"
    (results_dir / f"{stem}.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (results_dir / f"{stem}.md").write_text(markdown)
    click.echo(markdown)
    click.echo(f"results: {results_dir / f'{stem}.md'} ({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
