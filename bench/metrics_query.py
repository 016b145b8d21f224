"""How long a `gtm metrics` query takes on a published file: prints the figures.

    .venv/bin/python bench/metrics_query.py warehouse/published.duckdb [--runs 5]

Times opening the semantic layer (reading the semantic manifest, building MetricFlow's
engine, attaching the file and building the time spine) once, then each query --runs
times in the same process (median, min, max), and the whole `gtm metrics query` command
once as a user runs it (a new process). Timings on a shared machine are noisy: the load
average is printed with them. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.lib.metrics_layer import open_metrics_layer

QUERIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("win_rate",), ("metric_time__quarter", "segment")),
    (("leads", "lead_to_won_rate"), ("metric_time__month", "channel", "segment")),
    (("mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"), ("metric_time__month",)),
    (("nrr", "grr"), ("metric_time__year",)),
    (("commercial_ratio_ttm",), ("metric_time__month",)),
    (("revenue",), ("calendar_date__fiscal_quarter_label",)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("published", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    published = args.published.resolve()
    with open_metrics_layer(published) as layer:
        pass  # the first open parses dbt's manifest if it is stale: not what a query costs
    print(f"{published} ({published.stat().st_size / 1e6:.1f} MB); load average {os.getloadavg()}")
    started = time.perf_counter()
    with open_metrics_layer(published) as layer:
        opened = time.perf_counter() - started
        print(f"open the semantic layer: {opened:.2f} s\n")
        print("| metrics | group by | rows | median s | min s | max s |")
        print("|---|---|---|---|---|---|")
        for metrics, group_by in QUERIES:
            seconds, rows = [], 0
            for _ in range(args.runs):
                started = time.perf_counter()
                rows = len(layer.query(metrics, group_by).rows)
                seconds.append(time.perf_counter() - started)
            print(f"| {', '.join(metrics)} | {', '.join(group_by)} | {rows:,} | {statistics.median(seconds):.2f} "
                  f"| {min(seconds):.2f} | {max(seconds):.2f} |")
    command = [sys.executable, "-m", "orchestration.cli", "metrics", "query", "--metrics", "win_rate",
               "--group-by", "metric_time__quarter,segment", "--published", str(published)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=Path(__file__).resolve().parents[1])
    print(f"\nthe whole command, a new process (`gtm metrics query --metrics win_rate --group-by "
          f"metric_time__quarter,segment`): {time.perf_counter() - started:.2f} s; "
          f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
