import datetime as dt
from pathlib import Path

import pytest

from orchestration.settings import DEFAULT_STAGE_MAPPING, Settings, SettingsError


def test_defaults_match_metrics_md():
    settings = Settings.from_env({})
    assert settings.reporting_currency == "USD"
    assert settings.fiscal_year_start_month == 1
    assert settings.as_of_date == dt.datetime.now(dt.UTC).date()
    assert settings.funnel_maturity_days == 90
    assert settings.renewal_window_days == 30
    assert settings.band_thresholds == (0.75, 1.25, 1.5)
    assert settings.stage_mapping == DEFAULT_STAGE_MAPPING
    assert settings.schedule_cron == "0 2 * * *"
    assert settings.schedule_timezone == "UTC"
    assert settings.alert_webhook is None


def test_environment_overrides_every_setting(tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("crm_stage,funnel_stage,stage_order,outcome\n")
    env = {
        "GTM_REPORTING_CURRENCY": "EUR",
        "GTM_FISCAL_YEAR_START_MONTH": "2",
        "GTM_AS_OF_DATE": "2026-09-17",
        "GTM_FUNNEL_MATURITY_DAYS": "60",
        "GTM_RENEWAL_WINDOW_DAYS": "45",
        "GTM_BAND_THRESHOLDS": "0.5,1,2",
        "GTM_STAGE_MAPPING": str(mapping),
        "GTM_LANDING_DIR": str(tmp_path / "in"),
        "GTM_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "GTM_SCHEDULE_CRON": "30 5 * * 1-5",
        "GTM_SCHEDULE_TIMEZONE": "Europe/Berlin",
    }
    settings = Settings.from_env(env)
    assert settings.reporting_currency == "EUR"
    assert settings.fiscal_year_start_month == 2
    assert settings.as_of_date == dt.date(2026, 9, 17)
    assert settings.funnel_maturity_days == 60
    assert settings.renewal_window_days == 45
    assert settings.band_thresholds == (0.5, 1.0, 2.0)
    assert settings.stage_mapping == mapping
    assert settings.work_db_path == tmp_path / "wh" / "work.duckdb"
    assert settings.published_db_path == tmp_path / "wh" / "published.duckdb"
    assert settings.landing_dir == tmp_path / "in"
    assert settings.schedule_cron == "30 5 * * 1-5"
    assert settings.schedule_timezone == "Europe/Berlin"
    assert settings.dbt_vars()["fiscal_year_start_month"] == 2
    assert settings.dbt_env()["GTM_AS_OF_DATE"] == "2026-09-17"
    assert "as_of_date" not in settings.dbt_vars()  # a nightly var change would re-parse dbt


def test_relative_paths_resolve_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"GTM_LANDING_DIR": "data/landing"})
    assert settings.landing_dir == tmp_path / "data" / "landing"
    assert settings.warehouse_dir == tmp_path / "warehouse"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("GTM_FISCAL_YEAR_START_MONTH", "13", "from 1 to 12"),
        ("GTM_FISCAL_YEAR_START_MONTH", "0", "from 1 to 12"),
        ("GTM_AS_OF_DATE", "2026-02-30", "YYYY-MM-DD"),
        ("GTM_AS_OF_DATE", "yesterday", "YYYY-MM-DD"),
        ("GTM_STAGE_MAPPING", "/no/such/mapping.csv", "does not exist"),
        ("GTM_BAND_THRESHOLDS", "1.5,1.25,0.75", "increasing"),
        ("GTM_BAND_THRESHOLDS", "0.75,1.25", "three"),
        ("GTM_REPORTING_CURRENCY", "usd", "ISO 4217"),
        ("GTM_FUNNEL_MATURITY_DAYS", "-1", "at least 0"),
        ("GTM_SCHEDULE_CRON", "every night", "cron"),
        ("GTM_SCHEDULE_TIMEZONE", "Mars/Base", "time zone"),
        ("GTM_VOLUME_DROP_SHARE", "15", "fraction"),
        ("GTM_DUCKDB_MEMORY_LIMIT", "abc", "amount of memory"),
        ("GTM_PLAUSIBLE_YEARS", "2200-1900", "two increasing years"),
        ("GTM_PLAUSIBLE_YEARS", "1900", "two increasing years"),
        ("GTM_PLAUSIBLE_YEARS", "0-2200", "from 1 to 9999"),
        ("GTM_DUCKDB_MEMORY_LIMIT", "0", "amount of memory"),
    ],
)
def test_bad_values_name_the_setting_and_the_value(variable, value, expected):
    with pytest.raises(SettingsError) as error:
        Settings.from_env({variable: value})
    message = str(error.value)
    assert variable in message
    assert repr(value) in message
    assert expected in message


def test_plausible_years_default_and_override():
    assert Settings.from_env({}).plausible_years == (1900, 2200)
    settings = Settings.from_env({"GTM_PLAUSIBLE_YEARS": " 1990 - 2100 "})
    assert settings.plausible_years == (1990, 2100)
    assert ("GTM_PLAUSIBLE_YEARS", "1990-2100") in [(name, value) for name, value, _ in settings.as_display()]


def test_a_memory_limit_duckdb_understands_is_kept():
    assert Settings.from_env({"GTM_DUCKDB_MEMORY_LIMIT": " 512MiB "}).duckdb_memory_limit == "512MiB"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("mapping.txt", "crm_stage,funnel_stage,stage_order,outcome\n", "must be a .csv or .parquet file"),
        ("passwd", "root:x:0:0:root:/root:/bin/bash\n", "must be a .csv or .parquet file"),
        ("mapping.csv", "root:x:0:0:root:/root:/bin/bash\n", "has no column 'crm_stage' (required)"),
        ("mapping.csv", "crm_stage,funnel_stage,stage_order,outcome,Outcome\n", "'outcome' more than once"),
        ("mapping.csv", "", "is empty"),
    ],
)
def test_a_stage_mapping_that_is_not_one_is_refused_naming_the_setting(tmp_path, name, text, expected):
    """Before any step runs: the ingest would otherwise fail with `KeyError: '.txt'` (issue 13)."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"GTM_STAGE_MAPPING": str(path)})
    message = str(error.value)
    assert message.startswith(f"Setting stage_mapping (GTM_STAGE_MAPPING) = {str(path)!r}: ")
    assert expected in message


def test_secret_webhook_is_never_shown():
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"GTM_ALERT_WEBHOOK": "ftp://secret-token@example"})
    assert "secret-token" not in str(error.value)
    settings = Settings.from_env({"GTM_ALERT_WEBHOOK": "https://hooks.example/T0/tok-xyz"})
    shown = dict((name, value) for name, value, _ in settings.as_display())
    assert shown["GTM_ALERT_WEBHOOK"] == "<set>"
    assert "tok-xyz" not in repr(settings.as_display())


def test_default_stage_mapping_ships_with_the_project():
    assert Path(DEFAULT_STAGE_MAPPING).read_text().startswith("crm_stage,funnel_stage,stage_order,outcome")


def test_settings_repr_hides_the_webhook():
    settings = Settings.from_env({"GTM_ALERT_WEBHOOK": "https://hooks.example/T0/tok-xyz"})
    assert "tok-xyz" not in repr(settings)


def test_dbt_reads_as_of_date_from_the_environment_when_no_var_is_given(tmp_path, monkeypatch):
    """The refresh's path: as_of_date in GTM_AS_OF_DATE (a var would make dbt re-parse
    the project every night); a --vars as_of_date, as in the unit tests, still wins."""
    import json

    from dbt.cli.main import dbtRunner

    from orchestration.settings import DBT_PROJECT_DIR

    monkeypatch.setenv("GTM_WORK_DB_PATH", str(tmp_path / "work.duckdb"))
    monkeypatch.setenv("GTM_AS_OF_DATE", "2026-02-03")

    def compiled(vars_: dict) -> str:
        target = tmp_path / f"target_{len(vars_)}"
        result = dbtRunner().invoke([
            "compile", "--quiet", "--select", "int_mrr_months",
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target), "--log-path", str(target), "--vars", json.dumps(vars_),
        ])  # fmt: skip
        assert result.success, result.exception
        return next(target.rglob("int_mrr_months.sql")).read_text()

    assert "cast('2026-02-03' as date)" in compiled({})
    from_var = compiled({"as_of_date": "2025-12-31"})
    assert "cast('2025-12-31' as date)" in from_var and "2026-02-03" not in from_var
