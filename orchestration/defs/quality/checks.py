"""The quality gate as asset checks: every suite shows on its asset as two checks.

- `gx_errors` (blocking, ERROR): the suite's error-severity expectations. A failure
  stops everything downstream of the asset: a failed source suite stops the dbt build,
  a failed mart suite stops publish.
- `gx_warnings` (WARN): the suite's warn-severity expectations; recorded and shown,
  never blocking.

One step evaluates all source suites once every ingest asset has run (foreign keys
read several raw tables), and one step evaluates all mart suites after the dbt build.
Each writes its results to audit.check_results and the run's Data Docs (lib/quality).
The metadata of a failed check lists the failing expectations with their unexpected
counts and a few example rows.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.quality import gate
from orchestration.lib.quality.suites import (
    MART_TARGETS,
    SOURCE_TARGETS,
    Severity,
    SuiteTarget,
)

ERROR_CHECK = "gx_errors"
WARN_CHECK = "gx_warnings"
MAX_LISTED = 10  # failing expectations listed in a check's metadata


def asset_key(target: SuiteTarget) -> dg.AssetKey:
    return dg.AssetKey(list(target.asset_path))


def _specs(targets: Sequence[SuiteTarget]) -> list[dg.AssetCheckSpec]:
    specs = []
    for target in targets:
        specs.append(
            dg.AssetCheckSpec(
                ERROR_CHECK,
                asset=asset_key(target),
                blocking=True,
                description=(
                    f"Error-severity expectations of the Great Expectations suite "
                    f"{target.suite}; a failure blocks everything downstream, publish included."
                ),
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                WARN_CHECK,
                asset=asset_key(target),
                blocking=False,
                description=(f"Warn-severity expectations of the suite {target.suite}; recorded, never blocking."),
            )
        )
    return specs


def check_results(report: gate.GateReport, suite: gate.SuiteOutcome) -> Iterator[dg.AssetCheckResult]:
    """The two check results of one suite."""
    for check_name, severity, dagster_severity in (
        (ERROR_CHECK, Severity.ERROR, dg.AssetCheckSeverity.ERROR),
        (WARN_CHECK, Severity.WARN, dg.AssetCheckSeverity.WARN),
    ):
        metadata: dict[str, Any] = {"suite": suite.target.suite}
        if report.data_docs_index:
            metadata["data_docs"] = dg.MetadataValue.path(str(report.data_docs_index))
        evaluated = suite.with_severity(severity)
        failures = suite.failures(severity)
        metadata["expectations"] = len(evaluated)
        metadata["failed_expectations"] = len(failures)
        if failures:
            metadata["failures"] = dg.MetadataValue.json(
                [
                    {
                        "expectation": f.description,
                        "type": f.expectation_type,
                        "unexpected_count": f.unexpected_count,
                        "observed_value": f.observed_value if f.unexpected_count is None else None,
                        "examples": f.examples,
                        **({"error": f.error} if f.error else {}),
                    }
                    for f in failures[:MAX_LISTED]
                ]
            )
        yield dg.AssetCheckResult(
            asset_key=asset_key(suite.target),
            check_name=check_name,
            passed=not failures,
            severity=dagster_severity,
            description=_describe(suite, failures, len(evaluated)),
            metadata=metadata,
        )


def _describe(suite: gate.SuiteOutcome, failures: list[gate.ExpectationOutcome], total: int) -> str:
    if not failures:
        return f"{total} expectation(s) of {suite.target.suite} passed"
    shown = "; ".join(f.problem for f in failures[:3])
    more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
    return f"{len(failures)} of {total} failed in {suite.target.suite}: {shown}{more}"


def build_quality_checks(targets: Sequence[SuiteTarget], name: str, description: str) -> dg.AssetChecksDefinition:
    """One step evaluating the suites of `targets`, each reporting as two asset checks."""
    targets = tuple(targets)

    @dg.multi_asset_check(specs=_specs(targets), name=name, description=description)
    def _quality_gate(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        settings = warehouse.settings
        report = gate.evaluate(settings, targets, context.run.run_id)
        # The evaluation has closed its read-only engine; now the one write.
        gate.record(settings.work_db_path, report)
        counts = report.counts()
        context.log.info(
            f"{len(targets)} suites in {report.seconds:.1f}s: {counts['passed']} expectations "
            f"passed, {counts['warned']} warned, {counts['failed']} failed"
            + (f"; Data Docs: {report.data_docs_index}" if report.data_docs_index else "")
        )
        for suite in report.suites:
            yield from check_results(report, suite)

    return _quality_gate


source_quality_gate = build_quality_checks(
    SOURCE_TARGETS,
    name="source_quality_gate",
    description=(
        "Great Expectations source suites (expectations/expectations/raw/) over the raw "
        "tables, evaluated in DuckDB after ingest and before the dbt build."
    ),
)

# MART_TARGETS are the dbt project's public models, so each has an asset to check.
mart_quality_gate = build_quality_checks(
    MART_TARGETS,
    name="mart_quality_gate",
    description=(
        "Great Expectations mart suites (expectations/expectations/marts/) over the marts, "
        "evaluated in DuckDB after the dbt build and before publish."
    ),
)

quality_checks: list[dg.AssetChecksDefinition] = [source_quality_gate, mart_quality_gate]
