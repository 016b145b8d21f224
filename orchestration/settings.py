"""Every setting of gtm-warehouse, in one place.

Each setting has a default and can be overridden by an environment variable named
`GTM_` + the setting in upper case (docs/metrics.md, docs/architecture.md). A bad value stops
with a `SettingsError` naming the variable and the value. Relative paths are
resolved against the working directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DEFAULT_STAGE_MAPPING = DBT_PROJECT_DIR / "seeds" / "stage_mapping.csv"
ENV_PREFIX = "GTM_"
# DuckDB 1.4, the long-term-support release, is the oldest that must open published.duckdb.
DEFAULT_PUBLISHED_STORAGE_VERSION = "v1.4.0"
# Years a landed date or timestamp may fall in; anything else (year 0000, 9999) is quarantined.
DEFAULT_PLAUSIBLE_YEARS = (1900, 2200)


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Callable[[], str]
    parse: Callable[[str], Any]
    help: str
    secret: bool = False

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


def _whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise ValueError(f"must be a whole number {bound}")
        return value

    return parse


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ValueError("must be a fraction from 0 to 1 (0.15 means 15%)")
    return value


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("must be a date written YYYY-MM-DD") from None


def _currency(text: str) -> str:
    code = text.strip()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError("must be an ISO 4217 currency code such as USD")
    return code


def _thresholds(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or not values[0] < values[1] < values[2]:
        raise ValueError("must be three increasing numbers separated by commas, e.g. 0.75,1.25,1.5")
    return values  # type: ignore[return-value]


def _path(text: str) -> Path:
    if not text.strip():
        raise ValueError("must not be empty")
    return Path(text.strip()).expanduser().resolve()


def _existing_file(text: str) -> Path:
    path = _path(text)
    if not path.is_file():
        raise ValueError(f"file {path} does not exist")
    return path


def _stage_mapping_file(text: str) -> Path:
    """An existing CSV or Parquet file whose header has the stage mapping's required columns."""
    path = _existing_file(text)
    # here, not at the top: the ingest package reads nothing of the settings, but is large
    import duckdb

    from orchestration.lib.contract import STAGE_MAPPING
    from orchestration.lib.ingest.errors import SourceContractError
    from orchestration.lib.ingest.extracts import EXTRACT_SUFFIXES, open_extract

    if path.suffix.lower() not in EXTRACT_SUFFIXES:
        columns = ", ".join(STAGE_MAPPING.column_names)
        raise ValueError(f"must be a {' or '.join(EXTRACT_SUFFIXES)} file (columns {columns})")
    with duckdb.connect() as con:
        try:
            open_extract(con, STAGE_MAPPING, 0, path, path.name)
        except SourceContractError as error:
            raise ValueError(f"is not a stage mapping: {error}") from None
    return path


def _memory_limit(text: str) -> str:
    """A DuckDB memory limit (4GB, 512MiB, 80%), as DuckDB itself parses it."""
    value = text.strip()
    import duckdb  # here, not at the top: only this setting and the storage version need it

    try:
        duckdb.connect(config={"memory_limit": value}).close()
    except duckdb.Error:
        raise ValueError("must be an amount of memory DuckDB understands, such as 4GB, 512MiB or 80%") from None
    return value


ENGINES = ("duckdb", "spark")


def _engine(text: str) -> str:
    engine = text.strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"must be one of {', '.join(ENGINES)}")
    return engine


def _year_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,4})\s*-\s*(\d{1,4})\s*", text)
    first, last = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if not 1 <= first < last <= 9999:
        raise ValueError("must be two increasing years from 1 to 9999 joined by '-', e.g. 1900-2200")
    return first, last


def _cron(text: str) -> str:
    parts = text.split()
    if len(parts) != 5 or not all(re.fullmatch(r"[\d*/,\-]+", p) for p in parts):
        raise ValueError("must be a cron expression of five fields, e.g. '0 2 * * *'")
    return " ".join(parts)


def _timezone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone such as UTC or Europe/Berlin") from None
    return text.strip()


def _optional_url(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not re.match(r"https?://", text):
        raise ValueError("must be an http(s) URL")
    return text


def _storage_version(text: str) -> str:
    """A DuckDB storage version, v1.4.0 or later, that this DuckDB can write."""
    version = text.strip()
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise ValueError("must be a DuckDB version written like v1.4.0")
    if tuple(int(part) for part in match.groups()) < (1, 4, 0):
        raise ValueError("must be v1.4.0 or later (the oldest DuckDB the published file is tested with)")
    import duckdb  # here, not at the top: only this setting needs it

    with duckdb.connect() as con:
        try:
            con.execute("attach ':memory:' as probe (storage_version ?)", [version])
        except duckdb.InvalidInputException:
            raise ValueError(f"is not a storage version DuckDB {duckdb.__version__} can write") from None
    return version


def _api_version(text: str) -> str:
    version = text.strip()
    if not re.fullmatch(r"v\d+\.\d", version):
        raise ValueError("must be a REST API version written like v62.0")
    return version


def _optional_path(text: str) -> Path | None:
    return _path(text) if text.strip() else None


def _optional_existing_file(text: str) -> Path | None:
    return _existing_file(text) if text.strip() else None


def _optional_secret(text: str) -> str | None:
    return text.strip() or None


def _today_utc() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


SETTINGS: tuple[Setting, ...] = (
    Setting("reporting_currency", lambda: "USD", _currency, "Currency of every published amount."),
    Setting(
        "fiscal_year_start_month",
        lambda: "1",
        _whole_number(1, 12),
        "Month (1-12) in which Q1 starts; a fiscal year is named by the year it ends in.",
    ),
    Setting(
        "as_of_date",
        _today_utc,
        _date,
        "The reporting date (YYYY-MM-DD); nothing after it counts. Default: today (UTC).",
    ),
    Setting(
        "funnel_maturity_days",
        lambda: "90",
        _whole_number(0),
        "A lead cohort younger than this many days is not mature.",
    ),
    Setting(
        "renewal_window_days",
        lambda: "30",
        _whole_number(0),
        "How far either side of an end date a successor subscription may start.",
    ),
    Setting(
        "band_thresholds",
        lambda: "0.75,1.25,1.5",
        _thresholds,
        "Commercial-ratio band thresholds t1,t2,t3 (published with the marts, marts.commercial_ratio_bands).",
    ),
    Setting(
        "stage_mapping",
        lambda: str(DEFAULT_STAGE_MAPPING),
        _stage_mapping_file,
        "CSV mapping CRM stages onto the funnel (crm_stage,funnel_stage,stage_order,outcome).",
    ),
    Setting(
        "landing_dir",
        lambda: "landing",
        _path,
        "Folder the source extracts are landed in (docs/landing-contract.md layout).",
    ),
    Setting(
        "warehouse_dir",
        lambda: "warehouse",
        _path,
        "Folder holding work.duckdb, published.duckdb, reports and logs.",
    ),
    Setting(
        "plausible_years",
        lambda: "-".join(str(year) for year in DEFAULT_PLAUSIBLE_YEARS),
        _year_range,
        "First-last year a landed date or timestamp may fall in (UTC); a value outside is quarantined.",
    ),
    Setting(
        "schedule_cron",
        lambda: "0 2 * * *",
        _cron,
        "When the nightly refresh runs (cron, five fields).",
    ),
    Setting("schedule_timezone", lambda: "UTC", _timezone, "Time zone of schedule_cron."),
    Setting(
        "freshness_days",
        lambda: "3",
        _whole_number(0),
        "Quality gate: warn when an entity's newest row is older than this many days.",
    ),
    Setting(
        "volume_drop_share",
        lambda: "0.15",
        _share,
        "Quality gate: warn when an entity shrinks by more than this share since last publish.",
    ),
    Setting(
        "quarantine_share",
        lambda: "0.01",
        _share,
        "Quality gate: block publishing when more than this share of an entity is quarantined.",
    ),
    Setting(
        "duckdb_threads",
        lambda: str(os.cpu_count() or 2),
        _whole_number(1),
        "Threads DuckDB may use.",
    ),
    Setting(
        "duckdb_memory_limit",
        # 1GB, not 4GB: the refresh process holds ~650 MB of Python (Dagster, dbt, Great
        # Expectations) besides DuckDB, and with 4GB a scale-30 refresh peaked at 2.4 GB
        # (bench/README.md, "Levers"); DuckDB spills what does not fit.
        lambda: "1GB",
        _memory_limit,
        "Memory DuckDB may use before spilling to disk (e.g. 1GB).",
    ),
    Setting(
        "published_storage_version",
        lambda: DEFAULT_PUBLISHED_STORAGE_VERSION,
        _storage_version,
        "DuckDB storage version of published.duckdb: the oldest DuckDB that must open it (v1.4.0 or later).",
    ),
    Setting(
        "engine",
        lambda: "duckdb",
        _engine,
        "Engine the dbt models run on: duckdb (embedded) or spark (docs/engines.md).",
    ),
    Setting(
        "alert_webhook",
        lambda: "",
        _optional_url,
        "Slack-compatible webhook notified when a nightly run fails (secret; never logged).",
        secret=True,
    ),
    # -- connectors: `gtm pull` (README "Pulling from your systems") ---------------
    Setting(
        "stripe_api_key",
        lambda: "",
        _optional_secret,
        "Stripe secret or restricted (read-only) API key; empty: Stripe is not pulled (secret; never logged).",
        secret=True,
    ),
    Setting(
        "stripe_api_base",
        lambda: "https://api.stripe.com",
        lambda s: _optional_url(s) or "https://api.stripe.com",
        "Base URL of the Stripe API (tests point it at a local server).",
    ),
    Setting(
        "stripe_account_key",
        lambda: "crm_account_id",
        lambda s: s.strip() or "crm_account_id",
        "Stripe customer metadata field that holds the CRM account id.",
    ),
    Setting(
        "stripe_account_mapping",
        lambda: "",
        _optional_existing_file,
        "Optional CSV stripe_customer_id,account_id for customers without the metadata field.",
    ),
    Setting(
        "sql_source",
        lambda: "",
        _optional_existing_file,
        "TOML file mapping tables or queries of a SQL database onto contract entities; empty: not pulled.",
    ),
    Setting(
        "sql_url",
        lambda: "",
        _optional_secret,
        "SQLAlchemy URL of that database, password included (secret; never logged).",
        secret=True,
    ),
    Setting(
        "gl_export",
        lambda: "",
        _optional_path,
        "General-ledger detail export (CSV file, or a folder of them); empty: not imported.",
    ),
    Setting(
        "gl_layout",
        lambda: "quickbooks",
        lambda s: s.strip() or "quickbooks",
        "Column names of the GL export: quickbooks, xero, or date=...,account=...,amount=...[,...].",
    ),
    Setting(
        "gl_account_mapping",
        lambda: "",
        _optional_existing_file,
        "CSV mapping GL accounts onto spend (account,department,category,channel); "
        "department 'exclude' leaves an account out.",
    ),
    Setting(
        "hubspot_token",
        lambda: "",
        _optional_secret,
        "HubSpot private-app access token; empty: HubSpot is not pulled (secret; never logged).",
        secret=True,
    ),
    Setting(
        "hubspot_api_base",
        lambda: "https://api.hubapi.com",
        lambda s: _optional_url(s) or "https://api.hubapi.com",
        "Base URL of the HubSpot API (tests point it at a local server).",
    ),
    Setting(
        "hubspot_mapping",
        lambda: "",
        str.strip,
        "Overrides of the HubSpot field mapping: entity.column=property, channel.VALUE=channel, "
        "type.VALUE=type, comma separated (README, 'Field mappings').",
    ),
    Setting(
        "salesforce_instance_url",
        lambda: "",
        _optional_url,
        "Your Salesforce org's URL (https://yourorg.my.salesforce.com); empty: Salesforce is not pulled.",
    ),
    Setting(
        "salesforce_client_id",
        lambda: "",
        lambda s: s.strip() or None,
        "Consumer key of the connected app (OAuth client credentials flow).",
    ),
    Setting(
        "salesforce_client_secret",
        lambda: "",
        _optional_secret,
        "Consumer secret of the connected app (secret; never logged).",
        secret=True,
    ),
    Setting(
        "salesforce_access_token",
        lambda: "",
        _optional_secret,
        "An access token, instead of the client id and secret (secret; never logged).",
        secret=True,
    ),
    Setting(
        "salesforce_api_version",
        lambda: "v62.0",
        _api_version,
        "Salesforce REST API version, e.g. v62.0.",
    ),
    Setting(
        "salesforce_mapping",
        lambda: "",
        str.strip,
        "Overrides of the Salesforce field mapping: entity.column=Field__c, channel.VALUE=channel, "
        "type.VALUE=type, comma separated (README, 'Field mappings').",
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    reporting_currency: str
    fiscal_year_start_month: int
    as_of_date: dt.date
    funnel_maturity_days: int
    renewal_window_days: int
    band_thresholds: tuple[float, float, float]
    stage_mapping: Path
    landing_dir: Path
    warehouse_dir: Path
    plausible_years: tuple[int, int]
    schedule_cron: str
    schedule_timezone: str
    freshness_days: int
    volume_drop_share: float
    quarantine_share: float
    duckdb_threads: int
    duckdb_memory_limit: str
    published_storage_version: str
    alert_webhook: str | None = field(repr=False)  # a secret: never in a repr or log
    stripe_api_key: str | None = field(default=None, repr=False)  # a secret
    stripe_api_base: str = "https://api.stripe.com"
    stripe_account_key: str = "crm_account_id"
    stripe_account_mapping: Path | None = None
    sql_source: Path | None = None
    sql_url: str | None = field(default=None, repr=False)  # a secret (holds the password)
    gl_export: Path | None = None
    gl_layout: str = "quickbooks"
    gl_account_mapping: Path | None = None
    hubspot_token: str | None = field(default=None, repr=False)  # a secret
    hubspot_api_base: str = "https://api.hubapi.com"
    hubspot_mapping: str = ""
    salesforce_instance_url: str | None = None
    salesforce_client_id: str | None = None
    salesforce_client_secret: str | None = field(default=None, repr=False)  # a secret
    salesforce_access_token: str | None = field(default=None, repr=False)  # a secret
    salesforce_api_version: str = "v62.0"
    salesforce_mapping: str = ""
    engine: str = "duckdb"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from `env` (default: the process environment).

        Keyword overrides take the raw text a user would put in the variable.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = overrides.get(setting.name)
            origin = "argument"
            if raw is None:
                raw = env.get(setting.env_var)
                origin = setting.env_var
            if raw is None:
                raw = setting.default()
                origin = f"default of {setting.env_var}"
            try:
                values[setting.name] = setting.parse(str(raw))
            except ValueError as error:
                shown = "<hidden>" if setting.secret else repr(str(raw))
                raise SettingsError(
                    f"Setting {setting.name} ({origin}) = {shown}: {error}"
                ) from None
        return cls(**values)

    # -- derived locations -------------------------------------------------
    @property
    def work_db_path(self) -> Path:
        return self.warehouse_dir / "work.duckdb"

    @property
    def published_db_path(self) -> Path:
        return self.warehouse_dir / "published.duckdb"

    @property
    def report_path(self) -> Path:
        return self.warehouse_dir / "metrics_report.html"

    @property
    def data_docs_dir(self) -> Path:
        return self.warehouse_dir / "data_docs"

    @property
    def pull_dir(self) -> Path:
        """dlt's pipeline state (incremental cursors) and extracts being staged by `gtm pull`."""
        return self.warehouse_dir / "pull"

    @property
    def parquet_dir(self) -> Path:
        """The ingested rows as Parquet, one folder per table (raw/<entity>, quarantine/<entity>),
        which Spark reads as the dbt sources (engine spark only)."""
        return self.warehouse_dir / "parquet"

    @property
    def spark_dir(self) -> Path:
        """Local Spark's own files: its table warehouse (the models as Parquet) and metastore."""
        return self.warehouse_dir / "spark"

    @property
    def dbt_target(self) -> str:
        """The profiles.yml target of the refresh's dbt build."""
        return "refresh" if self.engine == "duckdb" else "spark"

    @property
    def lock_path(self) -> Path:
        return self.warehouse_dir / ".refresh.lock"

    def dbt_vars(self) -> dict[str, Any]:
        """The settings the dbt models read, as dbt `--vars` (all but as_of_date: see dbt_env)."""
        t1, t2, t3 = self.band_thresholds
        return {
            "reporting_currency": self.reporting_currency,
            "fiscal_year_start_month": self.fiscal_year_start_month,
            "funnel_maturity_days": self.funnel_maturity_days,
            "renewal_window_days": self.renewal_window_days,
            "band_t1": t1,
            "band_t2": t2,
            "band_t3": t3,
        }

    def dbt_env(self) -> dict[str, str]:
        """Environment the dbt process needs: the database path (profiles.yml) and
        as_of_date. as_of_date changes every night; as a var it would make dbt re-parse
        the whole project every night (any changed var does), as an environment variable
        only the few files that read it (macros/settings.sql)."""
        return {
            "GTM_AS_OF_DATE": self.as_of_date.isoformat(),
            "GTM_WORK_DB_PATH": str(self.work_db_path),
            "GTM_DUCKDB_THREADS": str(self.duckdb_threads),
            "GTM_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "GTM_PARQUET_DIR": str(self.parquet_dir),
            "GTM_SPARK_DIR": str(self.spark_dir),
        }

    def as_display(self) -> list[tuple[str, str, str]]:
        """(variable, value, help) for every setting, secrets hidden."""
        rows = []
        for f in fields(self):
            setting = SETTINGS_BY_NAME[f.name]
            value = getattr(self, f.name)
            if setting.secret:
                shown = "<set>" if value else "<not set>"
            elif f.name == "plausible_years":
                shown = "-".join(str(v) for v in value)
            elif isinstance(value, tuple):
                shown = ",".join(str(v) for v in value)
            else:
                shown = str(value)
            rows.append((setting.env_var, shown, setting.help))
        return rows


def load_settings(**overrides: Any) -> Settings:
    """The settings of this process: environment variables over defaults."""
    return Settings.from_env(**overrides)
