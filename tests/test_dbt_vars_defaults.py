"""orchestration/settings.py owns the default of every setting the dbt models read and
passes it as dbt --vars; the defaults in dbt_project.yml exist only for `dbt parse` and
an ad-hoc `dbt build`, and must say the same (the band thresholds above all: the
published bands, marts.commercial_ratio_bands, come from them)."""

from __future__ import annotations

import yaml

from orchestration.settings import DBT_PROJECT_DIR, Settings


def test_dbt_project_var_defaults_equal_the_settings_defaults():
    project_vars = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    settings_vars = Settings.from_env({}).dbt_vars()
    assert project_vars == settings_vars


def test_the_band_thresholds_reach_dbt_as_three_vars():
    settings = Settings.from_env({"GTM_BAND_THRESHOLDS": "0.5,1,2"})
    assert {k: v for k, v in settings.dbt_vars().items() if k.startswith("band_")} == {
        "band_t1": 0.5, "band_t2": 1.0, "band_t3": 2.0,
    }  # fmt: skip
