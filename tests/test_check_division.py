"""The division of checks (docs/data-quality.md): Great Expectations' source suites guard
what comes into raw.*, dbt tests the models' logic; no staging test repeats a source
expectation on the same values with the same severity.

The planted cases are worked out by hand from the source suites:
- raw.crm__leads: lead_id not null and unique (error); campaign_id a foreign key to
  raw.crm__campaigns (warn); no rule on opportunity_id.
- raw.crm__opportunities: account_id not null (error), lead_id may be null;
  opportunity_type in {new_business, expansion, renewal} (error); account_id a foreign
  key to raw.crm__accounts (error).
- raw.finance__fx_rates: (rate_date, currency) unique, rate_date and currency not null (error);
  staging upper-cases the currency.
- raw.crm__opportunities_snapshots has no source suite.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from orchestration.lib.dbt_manifest import load_manifest
from orchestration.lib.quality.suites import SUITES_DIR
from tests.support.check_division import (
    RawColumn,
    raw_column,
    repeats,
    source_suite_rules,
    staging_tests,
)

PROJECT = "gtm_warehouse"


@pytest.fixture(scope="module")
def rules():
    return source_suite_rules(SUITES_DIR)


@pytest.fixture()
def manifest() -> dict[str, Any]:
    return copy.deepcopy(load_manifest())


def _model(name: str) -> str:
    return f"model.{PROJECT}.{name}"


def _plant(manifest: dict, test: str, model: str, severity: str = "error", **kwargs: Any) -> str:
    """Add a generic test on a staging model to the manifest, as `dbt parse` writes it."""
    name = f"planted_{test}_{model}_{len(manifest['nodes'])}"
    unique_id = f"test.{PROJECT}.{name}"
    parents = [_model(model)]
    if kwargs.get("to", "").startswith("ref("):  # relationships: ref('<parent model>')
        parents.append(_model(kwargs["to"].split("'")[1]))
    manifest["nodes"][unique_id] = {
        "resource_type": "test",
        "unique_id": unique_id,
        "name": name,
        "original_file_path": manifest["nodes"][_model(model)]["patch_path"].split("://")[-1],
        "attached_node": _model(model),
        "column_name": kwargs.get("column_name"),
        "test_metadata": {"name": test, "kwargs": kwargs},
        "config": {"severity": severity},
        "depends_on": {"nodes": parents, "macros": []},
    }
    return name


def test_no_staging_test_repeats_a_source_expectation(manifest, rules):
    assert repeats(manifest, rules) == []


def test_the_staging_tests_that_stay_check_what_no_suite_sees(manifest):
    kept = {t["name"] for t in staging_tests(manifest)}
    assert kept == {
        # every version in every extract: raw.crm__opportunities_snapshots has no suite
        "not_null_columns_stg_crm__opportunities_snapshots_opportunity_id__account_id__opportunity_type__"
        "stage__is_closed__is_won__amount__currency__created_at__close_date__source_file",
        # the grain after upper(currency): 'EUR' and 'eur' on one day are one row twice
        "grain_stg_finance__fx_rates_False__rate_date__currency",
    }


def test_a_planted_duplicate_key_test_fails_naming_test_and_expectation(manifest, rules):
    planted = _plant(manifest, "unique", "stg_crm__leads", column_name="lead_id")

    (found,) = repeats(manifest, rules)

    assert found.startswith(
        f"dbt test {planted} (models/staging/crm/_crm__models.yml, lead_id) repeats raw.crm__leads:"
    )
    assert 'expect_column_values_to_be_unique {"column": "lead_id"}' in found
    assert found.endswith("(severity error)")


def test_a_planted_grain_repeats_both_halves_of_a_raw_key(manifest, rules):
    """A grain is not null and unique: on lead_id, each half repeats a raw.crm__leads rule."""
    planted = _plant(manifest, "grain", "stg_crm__leads", columns=["lead_id"])

    not_null, unique = repeats(manifest, rules)

    assert not_null.startswith(f"dbt test {planted} (models/staging/crm/_crm__models.yml, lead_id) repeats")
    assert 'expect_column_values_to_not_be_null {"column": "lead_id"}' in not_null
    assert 'expect_column_values_to_be_unique {"column": "lead_id"}' in unique


def test_the_fx_rates_grain_checks_no_null_the_source_suite_checks(manifest, rules):
    """Its nulls are raw's (upper() keeps them): the grain there checks uniqueness only;
    with its null half on, both key columns would repeat the raw not-null rules."""
    (grain,) = [t for t in staging_tests(manifest) if t["test_metadata"]["name"] == "grain"]
    assert grain["test_metadata"]["kwargs"]["check_nulls"] is False

    grain["test_metadata"]["kwargs"]["check_nulls"] = True
    found = repeats(manifest, rules)

    assert [line.split(" repeats ")[1].split(" (severity")[0] for line in found] == [
        'raw.finance__fx_rates: expect_column_values_to_not_be_null {"column": "rate_date"}',
        'raw.finance__fx_rates: expect_column_values_to_not_be_null {"column": "currency"}',
    ]


def test_the_fx_rates_grain_on_the_upper_cased_currency_is_no_repeat(manifest, rules):
    currency = raw_column(manifest, _model("stg_finance__fx_rates"), "currency")
    rate_date = raw_column(manifest, _model("stg_finance__fx_rates"), "rate_date")
    assert currency == RawColumn("finance__fx_rates", "currency", exact=False)
    assert rate_date == RawColumn("finance__fx_rates", "rate_date", exact=True)
    assert ("unique", "finance__fx_rates", frozenset({"rate_date", "currency"})) in rules

    assert repeats(manifest, rules) == []


def test_not_null_on_an_upper_cased_column_repeats_the_raw_not_null(manifest, rules):
    """upper() is null exactly when its argument is: the nulls are the raw ones."""
    _plant(manifest, "not_null", "stg_finance__fx_rates", column_name="currency")

    (found,) = repeats(manifest, rules)

    assert "repeats raw.finance__fx_rates: expect_column_values_to_not_be_null" in found


def test_not_null_columns_names_only_the_listed_columns_a_suite_requires(manifest, rules):
    planted = _plant(manifest, "not_null_columns", "stg_crm__opportunities", columns=["account_id", "lead_id"])

    (found,) = repeats(manifest, rules)

    assert found.startswith(f"dbt test {planted} (models/staging/crm/_crm__models.yml, account_id) repeats")


def test_a_stricter_severity_is_no_repeat(manifest, rules):
    campaign = {"column_name": "campaign_id", "to": "ref('stg_crm__campaigns')", "field": "campaign_id"}
    _plant(manifest, "relationships", "stg_crm__leads", severity="error", **campaign)
    assert repeats(manifest, rules) == []

    warned = _plant(manifest, "relationships", "stg_crm__leads", severity="warn", **campaign)
    (found,) = repeats(manifest, rules)
    assert found.startswith(f"dbt test {warned} ")
    assert "from raw.crm__campaigns as r where r.campaign_id = b.campaign_id" in found


def test_a_key_to_the_raw_source_itself_is_a_repeat(manifest, rules):
    key = {"column_name": "campaign_id", "to": "source('crm', 'campaigns')", "field": "campaign_id"}
    planted = _plant(manifest, "relationships", "stg_crm__leads", severity="warn", **key)

    (found,) = repeats(manifest, rules)

    assert found.startswith(f"dbt test {planted} ")


def test_accepted_values_repeat_only_with_the_same_values(manifest, rules):
    column = {"column_name": "opportunity_type"}
    _plant(manifest, "accepted_values", "stg_crm__opportunities", values=["new_business", "expansion"], **column)
    assert repeats(manifest, rules) == []

    same = ["renewal", "new_business", "expansion"]
    planted = _plant(manifest, "accepted_values", "stg_crm__opportunities", values=same, **column)
    (found,) = repeats(manifest, rules)
    assert found.startswith(f"dbt test {planted} ")


def test_a_key_whose_parent_model_drops_rows_is_no_repeat(manifest, rules):
    """Staging keeping fewer accounts than raw makes the foreign key a stricter rule."""
    key = {"column_name": "account_id", "to": "ref('stg_crm__accounts')", "field": "account_id"}
    _plant(manifest, "relationships", "stg_crm__opportunities", **key)
    assert len(repeats(manifest, rules)) == 1

    accounts = manifest["nodes"][_model("stg_crm__accounts")]
    accounts["raw_code"] = accounts["raw_code"].replace("from source", "from source where segment is not null")
    assert raw_column(manifest, _model("stg_crm__accounts"), "account_id") is None
    assert repeats(manifest, rules) == []


def test_a_table_without_a_suite_has_no_rule_to_repeat(manifest, rules):
    _plant(manifest, "not_null", "stg_crm__opportunities_snapshots", column_name="opportunity_id")
    source_file = raw_column(manifest, _model("stg_crm__opportunities_snapshots"), "source_file")

    assert source_file == RawColumn("crm__opportunities_snapshots", "_source_file", exact=True)
    assert repeats(manifest, rules) == []


def test_every_foreign_key_of_the_source_suites_is_read(rules):
    """A change to the generated query must not hide a suite's key from this check."""
    queries = [
        e["kwargs"]["unexpected_rows_query"]
        for path in (SUITES_DIR / "raw").glob("*.json")
        for e in json.loads(path.read_text())["expectations"]
        if e["type"] == "expect_no_unexpected_rows"
    ]
    keys = [rule for rule in rules if rule[0] == "foreign_key"]
    assert len(keys) == sum("not exists (select 1 from raw." in q for q in queries) > 0
    assert ("foreign_key", "crm__leads", "campaign_id", "crm__campaigns", "campaign_id") in keys
