"""Run one command and measure it: wall time and peak resident memory of its process tree.

`gtm refresh` is a tree, not a process: the Python process that runs Dagster starts
`dbt` (and `dbt --version`) as subprocesses, and DuckDB lives inside both. Two
measurements are taken and the larger is reported as the peak:

- sampled: every `interval` seconds, every process whose parent chain leads to the
  command is found in /proc and the resident set sizes (statm) of all of them are
  summed; the peak is the largest sum seen. This counts processes that run at the
  same time together (the Dagster process and dbt), but may miss a spike shorter than
  the interval.
- kernel: the command is started by a fresh, small wrapper process (this module run as
  a script), which reports `getrusage(RUSAGE_CHILDREN).ru_maxrss` once the command has
  ended: the peak RSS of the largest single process of the tree (the command or any
  descendant it waited for), measured by the kernel, so no spike is missed, but
  processes are not summed. The wrapper matters: a child forked straight from the
  benchmark process would count the benchmark's own memory in its high-water mark
  (Linux keeps the pre-exec peak).

The wall time is measured by the wrapper around the command alone; the CPU time (user +
system, of the whole tree) comes from the same rusage and is less sensitive than the wall
time to other work on the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measurement:
    returncode: int
    wall_s: float
    cpu_s: float  # user + system CPU time of the whole tree
    peak_rss_mb: float  # max(sampled tree sum, kernel's largest single process)
    sampled_tree_rss_mb: float
    largest_process_rss_mb: float


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident bytes of `root` and all its descendants right now."""
    return sum(_rss_bytes(pid) for pid in _tree(root))


def run_measured(
    command: Sequence[str],
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    cwd: Path | None = None,
    interval: float = 0.05,
) -> Measurement:
    """Run `command` to completion (stdout and stderr to `log_path`) and measure it."""
    log = open(log_path, "w") if log_path else subprocess.DEVNULL  # noqa: SIM115
    peak = 0
    done = threading.Event()
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        try:
            wrapper = subprocess.Popen(
                [sys.executable, "-S", __file__, report.name, *command],
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    # the wrapper itself (a bare interpreter) is not counted
                    peak = max(peak, tree_rss_bytes(wrapper.pid) - _rss_bytes(wrapper.pid))
                    done.wait(interval)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            wrapper.wait()
        finally:
            done.set()
            if log_path:
                log.close()
        measured = json.loads(Path(report.name).read_text() or "{}")
    if not measured:
        raise RuntimeError(f"the measuring wrapper failed (exit {wrapper.returncode}) for {list(command)}")
    largest = measured["maxrss_kib"] * 1024
    return Measurement(
        returncode=measured["returncode"],
        wall_s=measured["wall_s"],
        cpu_s=measured["cpu_s"],
        peak_rss_mb=max(peak, largest) / 2**20,
        sampled_tree_rss_mb=peak / 2**20,
        largest_process_rss_mb=largest / 2**20,
    )


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def _wrap(report: str, command: list[str]) -> int:
    """The wrapper: run `command`, then write its exit code, wall time and the kernel's
    peak RSS of its tree to `report`."""
    started = time.perf_counter()
    returncode = subprocess.call(command)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(report).write_text(
        json.dumps(
            {
                "returncode": returncode,
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "maxrss_kib": usage.ru_maxrss,  # KiB on Linux
            }
        )
    )
    return returncode


if __name__ == "__main__":
    sys.exit(_wrap(sys.argv[1], sys.argv[2:]))
