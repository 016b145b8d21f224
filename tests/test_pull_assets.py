"""The pull assets: group "pull", upstream of the ingest of what they write, on the nightly job."""

from pathlib import Path

import dagster as dg

from orchestration.definitions import defs
from orchestration.defs.ingest.assets import INGEST_STEP
from orchestration.defs.pull.assets import pull_assets
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.connectors import CONNECTORS

GL = Path(__file__).parent / "support" / "gl"


def test_one_pull_asset_per_connector_upstream_of_the_ingest_of_its_entities():
    graph = defs.resolve_asset_graph()
    for name, connector in CONNECTORS.items():
        key = dg.AssetKey(["pull", name])
        assert graph.get(key).group_name == "pull"
        for entity in connector.entities:
            assert key in graph.get(dg.AssetKey(["raw", entity.qualified_name])).parent_keys
    job_keys = defs.resolve_job_def("nightly_refresh").asset_layer.executable_asset_keys
    assert {dg.AssetKey(["pull", name]) for name in CONNECTORS} <= set(job_keys)


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
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_a_source_not_configured_materializes_as_skipped(monkeypatch, tmp_path):
    _env(monkeypatch, tmp_path)
    for name in ("GTM_GL_EXPORT", "GTM_GL_ACCOUNT_MAPPING"):
        monkeypatch.delenv(name, raising=False)
    gl = next(a for a in pull_assets if a.key == dg.AssetKey(["pull", "general_ledger"]))
    result = dg.materialize([gl], resources={"warehouse": WarehouseResource()})
    [materialization] = result.asset_materializations_for_node(gl.op.name)
    assert "not configured" in materialization.metadata["skipped"].value


def test_a_failing_pull_fails_the_run_naming_source_and_reason(monkeypatch, tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("account,department,category,channel\n6100,marketing,advertising,\n")
    _env(
        monkeypatch,
        tmp_path,
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(mapping),
    )
    gl = next(a for a in pull_assets if a.key == dg.AssetKey(["pull", "general_ledger"]))
    result = dg.materialize([gl], resources={"warehouse": WarehouseResource()}, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.cause.message
    assert "pull of general_ledger failed" in message and "neither mapped nor excluded" in message
    assert not (tmp_path / "landing" / "finance").exists()
