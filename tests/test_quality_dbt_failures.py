"""A failed dbt test that stores its failing rows is named with the first few of them,
so the refresh says which stage, currency or month is wrong (hand-made rows)."""

from contextlib import closing

import duckdb

from orchestration.lib.quality.dbt_tests import failed_nodes

MANIFEST = {
    "nodes": {
        "test.gtm.assert_every_crm_stage_mapped": {"resource_type": "test", "name": "assert_every_crm_stage_mapped"},
        "test.gtm.unique_stg_x_id": {"resource_type": "test", "name": "unique_stg_x_id"},
        "model.gtm.stg_x": {"resource_type": "model", "name": "stg_x"},
    }
}


def _results(*results: dict) -> dict:
    return {"results": list(results)}


def test_a_failed_test_with_stored_failures_quotes_its_first_rows(tmp_path):
    db = tmp_path / "work.duckdb"
    with closing(duckdb.connect(str(db))) as con:
        con.execute("create schema dbt_test__audit")
        con.execute(
            "create table dbt_test__audit.assert_every_crm_stage_mapped as select * from (values "
            "('Legal Review', 2, 'current stage'), ('Pricing', 1, 'stage history'), "
            "('Security', 1, 'stage history'), ('Procurement', 3, 'current stage')) "
            "as t(crm_stage, opportunities, seen_in)"
        )
    run_results = _results(
        {
            "unique_id": "test.gtm.assert_every_crm_stage_mapped",
            "status": "fail",
            "message": "Got 4 results, configured to fail if != 0",
            "relation_name": '"work"."dbt_test__audit"."assert_every_crm_stage_mapped"',
        },
        {"unique_id": "test.gtm.unique_stg_x_id", "status": "fail", "message": "Got 1 result", "relation_name": None},
        {"unique_id": "model.gtm.stg_x", "status": "success", "message": "OK"},
    )
    assert failed_nodes(run_results, MANIFEST, db) == [
        "test assert_every_crm_stage_mapped: Got 4 results, configured to fail if != 0 e.g. "
        "crm_stage=Legal Review, opportunities=2, seen_in=current stage; "
        "crm_stage=Pricing, opportunities=1, seen_in=stage history; "
        "crm_stage=Security, opportunities=1, seen_in=stage history",
        "test unique_stg_x_id: Got 1 result",
    ]


def test_without_the_stored_table_the_line_is_dbts_message_alone(tmp_path):
    run_results = _results(
        {
            "unique_id": "test.gtm.assert_every_crm_stage_mapped",
            "status": "fail",
            "message": "Got 1 result, configured to fail if != 0",
            "relation_name": '"work"."dbt_test__audit"."assert_every_crm_stage_mapped"',
        }
    )
    expected = ["test assert_every_crm_stage_mapped: Got 1 result, configured to fail if != 0"]
    assert failed_nodes(run_results, MANIFEST, tmp_path / "work.duckdb") == expected
    assert failed_nodes(run_results, MANIFEST) == expected
