"""The ingest step: one Dagster step, one asset per entity, any subset of them."""

from contextlib import closing

import dagster as dg
import duckdb
import pytest

from orchestration.defs.ingest.assets import ingest_sources
from orchestration.defs.resources import WarehouseResource

CAMPAIGNS = dg.AssetKey(["raw", "crm__campaigns"])
ACCOUNTS = dg.AssetKey(["raw", "crm__accounts"])


@pytest.fixture
def landing(tmp_path, monkeypatch):
    monkeypatch.setenv("GTM_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("GTM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    folder = tmp_path / "landing" / "crm" / "campaigns"
    folder.mkdir(parents=True)
    (folder / "2026-11-26.csv").write_text(
        "campaign_id,campaign_name,channel,start_date,end_date\n"
        "c1,Spring,events,2026-03-01,\n"
        "c2,Autumn,paid_search,2026-09-01,2026-09-30\n"
    )
    return tmp_path


def _materialize(selection: list[dg.AssetKey]) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [ingest_sources],
        selection=selection,
        resources={"warehouse": WarehouseResource()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _raw_tables(tmp_path) -> list[str]:
    with closing(duckdb.connect(str(tmp_path / "warehouse" / "work.duckdb"), read_only=True)) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and not starts_with(table_name, '_') order by all"
        ).fetchall()
    return [name for (name,) in rows]


def test_one_entity_can_be_materialized_alone(landing):
    # crm/accounts is required and not landed: not selected, so not read at all
    result = _materialize([CAMPAIGNS])
    assert result.success
    materialized = [e.asset_key for e in result.get_asset_materialization_events()]
    assert materialized == [CAMPAIGNS]
    assert result.asset_materializations_for_node("raw__sources")[0].metadata["rows_loaded"].value == 2
    assert _raw_tables(landing) == ["crm__campaigns"]


def test_an_entity_that_fails_names_itself_and_the_others_still_load(landing):
    result = _materialize([ACCOUNTS, CAMPAIGNS])
    assert not result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [CAMPAIGNS]
    (failure,) = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.message
    assert "crm__accounts: crm/accounts: required folder" in message
    assert "crm__campaigns" not in message
    assert _raw_tables(landing) == ["crm__campaigns"]
