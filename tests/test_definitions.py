"""The one Definitions object: assets with lineage from raw files to marts, job, schedule."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.lib.contract import SOURCE_ENTITIES


def _asset_graph():
    return defs.resolve_asset_graph()


def test_one_ingest_asset_per_source_entity_and_the_stage_mapping():
    keys = {key.to_user_string() for key in _asset_graph().get_all_asset_keys()}
    for entity in SOURCE_ENTITIES:
        assert f"raw/{entity.qualified_name}" in keys
    assert "raw/config__stage_mapping" in keys
    assert "published/warehouse" in keys


def test_dbt_sources_are_the_ingest_assets_so_lineage_is_unbroken():
    graph = _asset_graph()
    staging = dg.AssetKey(["staging", "stg_crm__opportunities"])
    assert dg.AssetKey(["raw", "crm__opportunities"]) in graph.get(staging).parent_keys
    mapping = dg.AssetKey(["staging", "stg_config__stage_mapping"])
    assert dg.AssetKey(["raw", "config__stage_mapping"]) in graph.get(mapping).parent_keys


def test_dbt_models_are_grouped_by_layer():
    graph = _asset_graph()
    for key in graph.get_all_asset_keys():
        layer = key.path[0]
        if layer in ("staging", "intermediate", "marts"):
            assert graph.get(key).group_name == layer


def test_publish_runs_after_every_model():
    graph = _asset_graph()
    publish_parents = graph.get(dg.AssetKey(["published", "warehouse"])).parent_keys
    models = {k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "intermediate", "marts")}
    assert models <= publish_parents


def test_nightly_job_and_schedule():
    job = defs.resolve_job_def("nightly_refresh")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "nightly_refresh"


def test_dbt_tests_are_not_dagster_checks_only_the_quality_suites_are():
    names = {key.name for key in _asset_graph().asset_check_keys}
    assert names == {"gx_errors", "gx_warnings"}


def test_ingest_is_one_step_that_writes_every_raw_asset():
    raw_keys = [key for key in _asset_graph().get_all_asset_keys() if key.path[0] == "raw"]
    assert len(raw_keys) == len(SOURCE_ENTITIES) + 1  # and the stage mapping
    assert {defs.resolve_assets_def(key).node_def.name for key in raw_keys} == {"raw__sources"}
    steps = [node.name for node in defs.resolve_job_def("nightly_refresh").nodes_in_topological_order]
    # only the pulls (which land what ingest reads) run before it
    assert all(s.startswith("pull__") for s in steps[: steps.index("raw__sources")])
    assert [s for s in steps if s.startswith("raw__")] == ["raw__sources"]
