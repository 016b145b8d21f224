"""Plain-words progress for `gtm refresh`: one line as each step starts and ends.

A Dagster logger that keeps only the events a person running the refresh cares
about (step start, success and failure, failed checks) and prints them compactly.
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_STEP_NAMES = {
    "gtm_dbt_models": "dbt build (staging, intermediate, marts, tests)",
    "published__warehouse": "publish",
}


def step_label(step_key: str) -> str:
    if step_key in _STEP_NAMES:
        return _STEP_NAMES[step_key]
    if step_key.startswith("raw__"):
        return "ingest " + step_key.removeprefix("raw__")
    return step_key


class ProgressHandler(logging.Handler):
    def __init__(self, stream=None) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream or sys.stdout
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        line = self._describe(event)
        if line:
            print(line, file=self.stream, flush=True)

    def _describe(self, event: dg.DagsterEvent) -> str | None:
        step = event.step_key or ""
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            self.started[step] = time.monotonic()
            return f"  ... {step_label(step)}"
        if kind == dg.DagsterEventType.STEP_SUCCESS:
            return f"  ok  {step_label(step)} ({self._elapsed(step)})"
        if kind == dg.DagsterEventType.STEP_FAILURE:
            return f"  FAILED {step_label(step)} ({self._elapsed(step)})"
        if kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                level = (
                    "warning"
                    if evaluation.severity == dg.AssetCheckSeverity.WARN
                    else "check failed"
                )
                key = evaluation.asset_key.to_user_string()
                return f"      {level}: {evaluation.check_name} on {key}"
        return None

    def _elapsed(self, step: str) -> str:
        start = self.started.get(step)
        return f"{time.monotonic() - start:.1f}s" if start is not None else "?"


@dg.logger(description="Prints one line per step start/end and per failed check.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("gtm.progress")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [ProgressHandler()]
    return logger
