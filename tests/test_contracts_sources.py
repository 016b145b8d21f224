"""The dbt sources agree with the landing contract (orchestration/lib/contract.py).

The contract is the one home of every source entity; the dbt source ymls
(`dbt_project/models/staging/<source>/_<source>__sources.yml`) restate it for dbt and
its docs. They are checked, not generated: a drift test is simpler and as robust as a
generator (which would need its own `--check` test anyway), and the ymls stay plain
hand-readable dbt files. The check reads the sources from the dbt manifest, so it sees
exactly what dbt sees, and names the entity and column that differ:

- one source table per contract entity (identifier `<source>__<entity>`, schema `raw`),
  and none the contract lacks;
- the same columns in the same order;
- each column's description is the contract's, prefixed `Required.` for a required one;
- each column's `data_type`, when the yml states one, is the contract type's DuckDB type;
- the table description opens with the entity's description.

A snapshots table the ingest writes beside an entity (`<source>__<entity>_snapshots`,
lib/ingest/snapshots.py) is checked the same way, its columns being the entity's followed
by `SNAPSHOT_COLUMNS`, and it names its entity in `meta.snapshots_of` (the Dagster key).
"""

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME, Entity
from orchestration.lib.dbt_manifest import load_manifest
from orchestration.lib.ingest.snapshots import SNAPSHOT_COLUMNS, SNAPSHOT_ENTITIES

RAW_SCHEMA = "raw"


def expected_description(entity: Entity, column: str) -> str:
    spec = entity.column(column)
    return " ".join(part for part in ("Required." if spec.required else "", spec.description) if part)


def _entity_drift(entity: Entity, source: Mapping[str, Any], snapshots: bool = False) -> list[str]:
    name = f"{entity.qualified_name}_snapshots" if snapshots else entity.qualified_name
    table = f"{entity.name}_snapshots" if snapshots else entity.name
    extra_types = dict(SNAPSHOT_COLUMNS) if snapshots else {}
    column_names = list(entity.column_names) + list(extra_types)
    problems = []
    if (source["source_name"], source["name"], source["schema"]) != (entity.source, table, RAW_SCHEMA):
        problems.append(
            f"{name}: declared as source {source['source_name']}.{source['name']} in schema {source['schema']}, "
            f"the contract says {entity.source}.{table} in {RAW_SCHEMA}"
        )
    if snapshots and source.get("meta", {}).get("snapshots_of") != entity.name:
        problems.append(f"{name}: meta.snapshots_of is not {entity.name!r}")
    if not source["description"].startswith(entity.description):
        problems.append(f"{name}: table description does not open with {entity.description!r}")
    columns = source["columns"]
    if list(columns) != column_names:
        missing = [c for c in column_names if c not in columns]
        extra = [c for c in columns if c not in column_names]
        problems.append(
            f"{name}: columns differ from the contract (missing {missing}, not in the contract {extra}, "
            f"order {list(columns)} vs {column_names})"
        )
    for column, declared in columns.items():
        if column in extra_types:
            if (declared.get("data_type") or "").upper() != extra_types[column]:
                problems.append(f"{name}.{column}: data_type {declared.get('data_type')}, ingest {extra_types[column]}")
            continue
        if column not in entity.column_names:
            continue
        wanted = expected_description(entity, column)
        if declared.get("description", "").strip() != wanted:
            problems.append(f"{name}.{column}: description {declared.get('description')!r}, contract {wanted!r}")
        data_type = declared.get("data_type")
        contract_type = DUCKDB_TYPES[entity.column(column).type]
        if data_type and data_type.upper() != contract_type:
            problems.append(f"{name}.{column}: data_type {data_type}, contract {contract_type}")
    return problems


def source_drift(manifest: Mapping[str, Any]) -> list[str]:
    """Every difference between the manifest's sources and the landing contract."""
    sources = {s["identifier"]: s for s in manifest["sources"].values()}
    snapshot_tables = {f"{e.qualified_name}_snapshots": e for e in SNAPSHOT_ENTITIES}
    expected = [*ENTITIES_BY_NAME, *snapshot_tables]
    problems = [f"{name}: in the contract but no dbt source" for name in expected if name not in sources]
    problems += [f"{name}: a dbt source the contract does not define" for name in sources if name not in expected]
    for name, entity in ENTITIES_BY_NAME.items():
        if name in sources:
            problems += _entity_drift(entity, sources[name])
    for name, entity in snapshot_tables.items():
        if name in sources:
            problems += _entity_drift(entity, sources[name], snapshots=True)
    return problems


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_manifest()


def test_the_dbt_sources_are_the_landing_contract(manifest):
    assert source_drift(manifest) == []


def test_every_source_column_states_its_type(manifest):
    untyped = [
        f"{source['identifier']}.{column}"
        for source in manifest["sources"].values()
        for column, declared in source["columns"].items()
        if not declared.get("data_type")
    ]
    assert untyped == []


def _source(manifest: dict[str, Any], identifier: str) -> dict[str, Any]:
    return next(s for s in manifest["sources"].values() if s["identifier"] == identifier)


def test_a_drifted_source_is_named_by_entity_and_column(manifest):
    drifted = copy.deepcopy(manifest)
    spend = _source(drifted, "finance__spend")
    spend["columns"]["amount"]["data_type"] = "integer"
    spend["columns"]["department"]["description"] = "marketing, sales or partners."
    del _source(drifted, "crm__leads")["columns"]["mql_at"]
    accounts = _source(drifted, "crm__accounts")
    accounts["columns"] = {"industry_code" if c == "industry" else c: v for c, v in accounts["columns"].items()}
    assert source_drift(drifted) == [
        "crm__accounts: columns differ from the contract (missing ['industry'], not in the contract "
        "['industry_code'], order ['account_id', 'account_name', 'segment', 'industry_code', 'country', 'created_at'] vs "
        "['account_id', 'account_name', 'segment', 'industry', 'country', 'created_at'])",
        "crm__leads: columns differ from the contract (missing ['mql_at'], not in the contract [], order "
        "['lead_id', 'created_at', 'channel', 'campaign_id', 'account_id', 'sql_at', 'converted_at', "
        "'opportunity_id', 'disqualified_at'] vs ['lead_id', 'created_at', 'channel', 'campaign_id', 'account_id', "
        "'mql_at', 'sql_at', 'converted_at', 'opportunity_id', 'disqualified_at'])",
        "finance__spend.department: description 'marketing, sales or partners.', contract "
        "'Required. marketing or sales.'",
        "finance__spend.amount: data_type integer, contract DOUBLE",
    ]


def test_a_missing_or_extra_source_table_is_named(manifest):
    drifted = copy.deepcopy(manifest)
    fx = next(key for key, s in drifted["sources"].items() if s["identifier"] == "finance__fx_rates")
    drifted["sources"]["source.gtm_warehouse.finance.budgets"] = {**drifted["sources"].pop(fx),
                                                                  "identifier": "finance__budgets"}  # fmt: skip
    assert source_drift(drifted) == [
        "finance__fx_rates: in the contract but no dbt source",
        "finance__budgets: a dbt source the contract does not define",
    ]


def test_a_drifted_snapshots_source_is_named(manifest):
    drifted = copy.deepcopy(manifest)
    snapshots = _source(drifted, "crm__opportunities_snapshots")
    snapshots["columns"]["_extract_date"]["data_type"] = "varchar"
    snapshots["meta"] = {}
    assert source_drift(drifted) == [
        "crm__opportunities_snapshots: meta.snapshots_of is not 'opportunities'",
        "crm__opportunities_snapshots._extract_date: data_type varchar, ingest DATE",
    ]


def test_the_snapshots_source_is_keyed_as_its_entitys_ingest_asset(manifest):
    from orchestration.lib.dbt_translator import GtmDbtTranslator

    snapshots = _source(manifest, "crm__opportunities_snapshots")
    assert GtmDbtTranslator().get_asset_key(snapshots).path == ["raw", "crm__opportunities"]
