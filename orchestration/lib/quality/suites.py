"""The quality suites: which exist, what they guard, their severities and run-time parameters.

The suites are reviewed files, `expectations/expectations/<suite>.json`, in the GX
File Data Context rooted at `expectations/` (see expectations/README.md). This module
names them, loads them and fills in their run-time parameters; it imports GX only
inside `load_suites`.

- One suite per source entity of contract.py, named after its table
  (`raw.crm__opportunities`), and one per public mart of docs/metrics.md
  (`marts.commercial_ratio`).
- Every expectation carries `meta.severity`: `error` blocks publishing, `warn`
  publishes and is recorded. `meta.severity` is the one that counts; GX's own
  `severity` field (critical / warning) is set to match when the suite is loaded.
- Settings reach the suites only at run time, as `{name}` placeholders in the SQL of
  `expect_no_unexpected_rows` expectations (next to GX's own `{batch}`), filled with
  SQL literals just before validation (`render_query`). Nothing setting-dependent is
  frozen into a suite file. The parameters are listed in `RUN_PARAMETERS`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from orchestration.lib.contract import ENTITIES_BY_NAME
from orchestration.settings import EXPECTATIONS_DIR, Settings

SUITES_DIR = EXPECTATIONS_DIR / "expectations"
SQL_EXPECTATION_TYPE = "expect_no_unexpected_rows"

# The public marts of docs/metrics.md (their suites are in expectations/ too).
MART_NAMES: tuple[str, ...] = (
    "commercial_ratio",
    "lead_funnel",
    "opportunity_funnel",
    "win_rates",
    "channel_efficiency",
    "mrr_movements",
    "revenue_retention",
    "renewals",
)

# The placeholders a suite's SQL may use, each filled from Settings (or, for
# last_published_rows, from the current published.duckdb) when the gate runs.
RUN_PARAMETERS: dict[str, str] = {
    "as_of_date": "Settings.as_of_date, as a DATE literal.",
    "reporting_currency": "Settings.reporting_currency, as a text literal.",
    "fiscal_year_start_month": "Settings.fiscal_year_start_month (1-12).",
    "freshness_days": "Settings.freshness_days.",
    "volume_drop_share": "Settings.volume_drop_share (a fraction).",
    "quarantine_share": "Settings.quarantine_share (a fraction).",
    "last_published_rows": (
        "The entity's `<entity>_loaded` in the newest row of marts.publication of the "
        "published file; NULL when there is none (the volume check then passes)."
    ),
}


class Severity(StrEnum):
    ERROR = "error"  # blocks publishing
    WARN = "warn"  # publishes, recorded and shown

    @property
    def gx_severity(self) -> str:
        return "critical" if self is Severity.ERROR else "warning"


class SuiteFileError(ValueError):
    """A suite file is not usable (unknown severity, parameter or table)."""


@dataclass(frozen=True)
class SuiteTarget:
    """What a suite validates: a table of the work database and the asset it belongs to."""

    suite: str  # e.g. "raw.crm__opportunities"
    kind: Literal["source", "mart"]
    schema: str  # raw | marts
    table: str  # e.g. "crm__opportunities"

    @property
    def asset_path(self) -> tuple[str, str]:
        """The Dagster asset key path: ("raw", "crm__opportunities"), ("marts", "renewals")."""
        return (self.schema, self.table)

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


SOURCE_TARGETS: tuple[SuiteTarget, ...] = tuple(
    SuiteTarget(f"raw.{name}", "source", "raw", name) for name in ENTITIES_BY_NAME
)
MART_TARGETS: tuple[SuiteTarget, ...] = tuple(
    SuiteTarget(f"marts.{name}", "mart", "marts", name) for name in MART_NAMES
)
TARGETS_BY_SUITE: dict[str, SuiteTarget] = {t.suite: t for t in (*SOURCE_TARGETS, *MART_TARGETS)}


def severity_of(meta: Mapping[str, Any] | None, where: str = "expectation") -> Severity:
    """The severity in an expectation's meta; a missing or unknown one is an error."""
    value = (meta or {}).get("severity")
    try:
        return Severity(value)
    except ValueError:
        raise SuiteFileError(
            f"{where}: meta.severity is {value!r}; it must be 'error' (blocks publishing) "
            "or 'warn' (publishes and is recorded)"
        ) from None


# -- run-time parameters -------------------------------------------------------

_PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def sql_literal(value: Any) -> str:
    """A Python value as a DuckDB SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def placeholders(query: str) -> set[str]:
    """The `{name}` placeholders of a query, GX's `{batch}` included."""
    return set(_PLACEHOLDER.findall(query))


def render_query(query: str, parameters: Mapping[str, Any], where: str = "query") -> str:
    """Fill every `{name}` of `parameters` with its SQL literal, keeping GX's `{batch}`.

    An unknown placeholder is an error naming it (a typo must not reach DuckDB).
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "batch":
            return match.group(0)
        if name not in parameters:
            known = ", ".join(sorted(RUN_PARAMETERS))
            raise SuiteFileError(f"{where}: unknown parameter {{{name}}} (known: {known})")
        return sql_literal(parameters[name])

    return _PLACEHOLDER.sub(replace, query)


def run_parameters(settings: Settings, last_published_rows: int | None = None) -> dict[str, Any]:
    """The values of RUN_PARAMETERS for one suite."""
    return {
        "as_of_date": settings.as_of_date,
        "reporting_currency": settings.reporting_currency,
        "fiscal_year_start_month": settings.fiscal_year_start_month,
        "freshness_days": settings.freshness_days,
        "volume_drop_share": settings.volume_drop_share,
        "quarantine_share": settings.quarantine_share,
        "last_published_rows": last_published_rows,
    }


# -- loading -------------------------------------------------------------------


def open_file_context() -> Any:
    """The GX File Data Context rooted at expectations/ (read, never written at run time)."""
    from orchestration.lib.quality.runtime import import_gx

    gx = import_gx()
    return gx.get_context(mode="file", context_root_dir=str(EXPECTATIONS_DIR))


def load_suites(names: list[str] | None = None) -> dict[str, Any]:
    """The suites (GX ExpectationSuite objects) by name, from the File Data Context,
    each expectation's GX severity set from its meta.severity. Raises SuiteFileError
    for a suite without a target or an expectation without a valid severity."""
    context = open_file_context()
    wanted = names if names is not None else sorted(TARGETS_BY_SUITE)
    suites: dict[str, Any] = {}
    for name in wanted:
        if name not in TARGETS_BY_SUITE:
            raise SuiteFileError(f"suite {name!r} has no table to validate (see suites.py)")
        suite = context.suites.get(name)
        for expectation in suite.expectations:
            where = f"suite {name}, expectation {expectation.id}"
            expectation.severity = severity_of(expectation.meta, where).gx_severity
            if expectation.expectation_type == SQL_EXPECTATION_TYPE:
                unknown = placeholders(expectation.unexpected_rows_query) - {
                    "batch",
                    *RUN_PARAMETERS,
                }
                if unknown:
                    raise SuiteFileError(f"{where}: unknown parameter(s) {sorted(unknown)}")
        suites[name] = suite
    return suites
