"""The pull assets, built with dagster-dlt: one asset per entity a connector can land, in group
"pull", upstream of the ingest of that entity, on the nightly job; skipped when not configured,
failing (naming the source, never a secret) before ingest, keeping dlt's incremental state."""

import sqlite3
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from dagster_dlt import DagsterDltResource

from orchestration.definitions import defs
from orchestration.defs.ingest.assets import INGEST_STEP
from orchestration.defs.pull.assets import pull_assets
from orchestration.defs.resources import WarehouseResource

GL = Path(__file__).parent / "support" / "gl"
CONTRACT_ENTITIES = (
    "billing__invoice_lines",
    "billing__subscriptions",
    "crm__accounts",
    "crm__campaigns",
    "crm__leads",
    "crm__opportunities",
    "crm__opportunity_stage_history",
    "finance__fx_rates",
    "finance__spend",
)
CRM_ENTITIES = ("crm__accounts", "crm__campaigns", "crm__leads", "crm__opportunities", "crm__opportunity_stage_history")
PULL_KEYS = {
    ("pull", "general_ledger", "finance__spend"),
    ("pull", "stripe", "billing__subscriptions"),
    ("pull", "stripe", "billing__invoice_lines"),
    *(("pull", "sql_database", entity) for entity in CONTRACT_ENTITIES),  # the mapping file picks at run time
    *(("pull", crm, entity) for crm in ("hubspot", "salesforce") for entity in CRM_ENTITIES),
}
RESOURCES = {"warehouse": WarehouseResource(), "dlt": DagsterDltResource()}


def _pull_assets_of(connector: str) -> dg.AssetsDefinition:
    [assets] = [a for a in pull_assets if a.op.name == f"pull__{connector}"]
    return assets


def test_one_pull_asset_per_entity_in_group_pull_upstream_of_its_ingest():
    graph = defs.resolve_asset_graph()
    pull_keys = {key for key in graph.get_all_asset_keys() if key.path[0] == "pull"}
    assert {tuple(key.path) for key in pull_keys} == PULL_KEYS
    for key in pull_keys:
        node = graph.get(key)
        assert node.group_name == "pull"
        assert node.parent_keys == set()
        assert node.child_keys == {dg.AssetKey(["raw", key.path[2]])}
    assert {key for key in graph.get(dg.AssetKey(["raw", "billing__subscriptions"])).parent_keys} == {
        dg.AssetKey(["pull", "sql_database", "billing__subscriptions"]),
        dg.AssetKey(["pull", "stripe", "billing__subscriptions"]),
    }
    job_keys = defs.resolve_job_def("nightly_refresh").asset_layer.executable_asset_keys
    assert pull_keys <= set(job_keys)


def test_each_source_is_one_dagster_dlt_step_using_the_dlt_resource():
    for connector in ("general_ledger", "sql_database", "stripe", "hubspot", "salesforce"):
        assets = _pull_assets_of(connector)
        assert assets.can_subset  # dagster-dlt's multi-asset: one entity can be pulled alone
        assert "dlt" in assets.required_resource_keys
        assert {key.path[1] for key in assets.keys} == {connector}


def test_in_the_nightly_job_ingest_waits_for_every_pull():
    """Wired in the job itself, not only drawn as lineage: ingest is one step (a multi-asset) that
    runs after every pull, and is skipped when one failed, so nothing downstream (publish) runs on
    half-pulled data."""
    job = defs.resolve_job_def("nightly_refresh")
    upstream = job.graph.dependency_structure.input_to_upstream_outputs_for_node(INGEST_STEP)
    assert {output.node_name for outputs in upstream.values() for output in outputs} == {
        "pull__general_ledger",
        "pull__sql_database",
        "pull__stripe",
        "pull__hubspot",
        "pull__salesforce",
    }


def _env(monkeypatch, tmp_path, **values):
    monkeypatch.setenv("GTM_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("GTM_WAREHOUSE_DIR", str(tmp_path / "wh"))
    for name in ("GTM_GL_EXPORT", "GTM_GL_ACCOUNT_MAPPING", "GTM_SQL_SOURCE", "GTM_SQL_URL", "GTM_STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _materializations(result, assets) -> dict[str, dict]:
    return {
        m.asset_key.path[-1]: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node(assets.op.name)
    }


def test_a_source_not_configured_materializes_every_asset_as_skipped(monkeypatch, tmp_path):
    _env(monkeypatch, tmp_path)
    stripe = _pull_assets_of("stripe")
    result = dg.materialize([stripe], resources=RESOURCES)
    assert result.success
    done = _materializations(result, stripe)
    assert set(done) == {"billing__subscriptions", "billing__invoice_lines"}
    for metadata in done.values():
        assert metadata["skipped"] == "not configured (set GTM_STRIPE_API_KEY)"
        assert metadata["rows"] == 0
    assert not (tmp_path / "landing").exists()


def _gl_env(monkeypatch, tmp_path):
    _env(
        monkeypatch,
        tmp_path,
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(GL / "xero_mapping.csv"),
    )


def test_a_pull_lands_an_extract_and_dlt_state_survives_between_runs(monkeypatch, tmp_path):
    _gl_env(monkeypatch, tmp_path)
    gl = _pull_assets_of("general_ledger")
    first = _materializations(dg.materialize([gl], resources=RESOURCES), gl)["finance__spend"]
    [extract] = (tmp_path / "landing" / "finance" / "spend").glob("*.parquet")
    assert pq.read_table(extract).num_rows == 7  # the Xero fixture: 7 lines of mapped accounts, 1 excluded
    assert first["rows"] == 7 and first["files"] == [str(extract)]
    assert first["skipped"] == ""
    assert first["rows_loaded"] == 7  # dagster-dlt's own figure agrees
    assert [c.name for c in first["dagster/column_schema"].columns][:3] == ["spend_id", "spend_date", "department"]

    # dlt's resource state (the export's fingerprint) is kept: dagster-dlt must not drop it before a run
    second = _materializations(dg.materialize([gl], resources=RESOURCES), gl)["finance__spend"]
    assert second["rows"] == 0 and second["files"] == []
    assert "GL export and mapping unchanged since the last import" in second["notes"]
    assert len(list((tmp_path / "landing" / "finance" / "spend").glob("*.parquet"))) == 1

    # run config `full` (gtm pull --full) drops that state: everything is pulled again
    full = {"ops": {gl.op.name: {"config": {"full": True}}}}
    third = _materializations(dg.materialize([gl], resources=RESOURCES, run_config=full), gl)["finance__spend"]
    assert third["rows"] == 7


def test_a_failing_pull_fails_the_step_naming_source_and_reason(monkeypatch, tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("account,department,category,channel\n6100,marketing,advertising,\n")
    _env(
        monkeypatch,
        tmp_path,
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(mapping),
    )
    gl = _pull_assets_of("general_ledger")
    result = dg.materialize([gl], resources=RESOURCES, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "pull of general_ledger failed" in message and "neither mapped nor excluded" in message
    assert not (tmp_path / "landing" / "finance").exists()


def test_a_refusing_database_fails_the_step_without_showing_the_password(monkeypatch, tmp_path):
    source = tmp_path / "sql_source.toml"
    source.write_text('[[entity]]\nname = "crm/accounts"\ntable = "accounts"\n')
    # port 9 (discard) has no database: the connection is refused at once
    _env(
        monkeypatch,
        tmp_path,
        GTM_SQL_SOURCE=str(source),
        GTM_SQL_URL="postgresql+psycopg://gtm:pa55-w0rd@127.0.0.1:9/x",
    )
    sql = _pull_assets_of("sql_database")
    result = dg.materialize([sql], resources=RESOURCES, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "pull of sql_database failed at the database (GTM_SQL_URL)" in failure.step_failure_data.error.cause.message
    for event in result.all_events:
        assert "pa55-w0rd" not in str(event)


def _sqlite_source(monkeypatch, tmp_path):
    database = tmp_path / "billing.sqlite"
    with sqlite3.connect(database) as con:
        con.execute("create table accounts (id text, name text, created_at text)")
        con.execute("insert into accounts values ('A1', 'Acme', '2026-01-05 10:00:00'), ('A2', 'Globex', '2026-02-01')")
        con.execute("create table fx (d text, ccy text, rate real)")
        con.execute("insert into fx values ('2026-11-01', 'EUR', 1.1)")
    source = tmp_path / "sql_source.toml"
    source.write_text(
        '[[entity]]\nname = "crm/accounts"\ntable = "accounts"\n[entity.columns]\naccount_id = "id"\n'
        'account_name = "name"\n\n'
        '[[entity]]\nname = "finance/fx_rates"\ntable = "fx"\n[entity.columns]\nrate_date = "d"\n'
        'currency = "ccy"\nrate_to_reporting = "rate"\n'
    )
    _env(monkeypatch, tmp_path, GTM_SQL_SOURCE=str(source), GTM_SQL_URL=f"sqlite:///{database}")


def test_entities_the_mapping_leaves_out_materialize_with_no_rows(monkeypatch, tmp_path):
    _sqlite_source(monkeypatch, tmp_path)
    sql = _pull_assets_of("sql_database")
    done = _materializations(dg.materialize([sql], resources=RESOURCES), sql)
    assert set(done) == set(CONTRACT_ENTITIES)
    assert {entity: m["rows"] for entity, m in done.items() if m["rows"]} == {
        "crm__accounts": 2,
        "finance__fx_rates": 1,
    }
    assert all(m["skipped"] == "" for m in done.values())


def test_one_entity_can_be_pulled_alone(monkeypatch, tmp_path):
    _sqlite_source(monkeypatch, tmp_path)
    sql = _pull_assets_of("sql_database")
    key = dg.AssetKey(["pull", "sql_database", "crm__accounts"])
    result = dg.materialize([sql], selection=[key], resources=RESOURCES)
    assert [m.asset_key for m in result.asset_materializations_for_node(sql.op.name)] == [key]
    assert [p.parent.name for p in (tmp_path / "landing").rglob("*.parquet")] == ["accounts"]


def test_rows_a_failed_run_left_pending_are_delivered_once(monkeypatch, tmp_path):
    """A run that stopped after dlt extracted (state committed, package pending): the next
    materialization delivers those rows, and the one after has nothing new."""
    from orchestration.lib.connectors import CONNECTORS
    from orchestration.lib.connectors.runner import connector_source, landing_pipeline
    from orchestration.settings import load_settings

    _gl_env(monkeypatch, tmp_path)
    connector = CONNECTORS["general_ledger"]
    settings = load_settings()
    extraction = connector.extraction(settings)
    landing_pipeline(connector, settings).extract(connector_source(connector, extraction.resources))
    assert not (tmp_path / "landing").exists()

    gl = _pull_assets_of("general_ledger")
    delivered = _materializations(dg.materialize([gl], resources=RESOURCES), gl)["finance__spend"]
    assert delivered["rows"] == 7
    again = _materializations(dg.materialize([gl], resources=RESOURCES), gl)["finance__spend"]
    assert again["rows"] == 0
    [extract] = (tmp_path / "landing" / "finance" / "spend").glob("*.parquet")
    assert pq.read_table(extract).num_rows == 7
