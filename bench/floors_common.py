"""What the floor workers (bench/floors_*.py) share: a clock and their calling convention.

A worker is a script run as its own process by bench/floors.py:
`python bench/floors_<tool>.py SPEC.json OUT.json`. It imports its tool first, untimed
(imports are the imports floor's, not counted twice), then times blocks of work with
`timed` and writes what it measured to OUT.json.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def timed(into: dict[str, Any], name: str) -> Iterator[None]:
    """Wall and CPU seconds of the block in `into[name]`. The CPU time is the whole
    process's (every thread: dbt's and DuckDB's threads too)."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        into[name] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def worker_main(work: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Run `work(spec)` with the spec of argv[1] and write its result to argv[2]."""
    spec = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(work(spec), indent=1, default=str) + "\n")
