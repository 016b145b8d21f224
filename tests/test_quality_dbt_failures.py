"""A failed dbt test is named with the first few of its failing rows, kept for it after
the build (store_failing_rows), so the refresh says which stage, currency or month is
wrong (hand-made rows)."""

from contextlib import closing

import duckdb

from orchestration.lib.quality.dbt_tests import failed_nodes, store_failing_rows

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


FAILED_BUILD_MANIFEST = {
    "nodes": {
        "test.gtm.grain_x": {"resource_type": "test", "name": "grain_x", "alias": "grain_x"},
        "test.gtm.warns": {"resource_type": "test", "name": "warns", "alias": "warns"},
        "test.gtm.passes": {"resource_type": "test", "name": "passes", "alias": "passes"},
        "test.gtm.accepted_values_with_a_long_name": {
            "resource_type": "test",
            "name": "accepted_values_with_a_long_name",
            "alias": "accepted_values_wi_0123abcd",  # dbt's alias: a long name shortened, with a hash
        },
    }
}


def _failed_build(tmp_path):
    db = tmp_path / "work.duckdb"
    with closing(duckdb.connect(str(db))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.x as select * from (values (1, 'a'), (1, 'b'), (2, 'c'), (3, 'zz')) t(id, kind)")
        con.execute("create schema dbt_test__audit")  # an earlier build's failure, fixed since
        con.execute("create table dbt_test__audit.passes as select 1 as id")
    run_results = _results(
        {"unique_id": "test.gtm.grain_x", "status": "fail", "message": "Got 1 result",
         "compiled_code": "select id, count(*) as row_count from marts.x group by id having count(*) > 1"},
        {"unique_id": "test.gtm.warns", "status": "warn", "message": "Got 2 results",
         "compiled_code": "select id from marts.x where kind > 'a' and id < 3"},
        {"unique_id": "test.gtm.passes", "status": "pass", "message": None,
         "compiled_code": "select id from marts.x where id is null"},
        {"unique_id": "test.gtm.accepted_values_with_a_long_name", "status": "fail", "message": "Got 1 result",
         "compiled_code": "select kind as value_field, count(*) as n_records from marts.x "
                          "where kind not in ('a', 'b', 'c') group by kind"},
    )  # fmt: skip
    return db, run_results


def test_the_rows_of_each_failed_or_warned_test_are_kept_and_nothing_else(tmp_path):
    db, run_results = _failed_build(tmp_path)
    written = store_failing_rows(db, run_results, FAILED_BUILD_MANIFEST)
    assert written == [
        'dbt_test__audit."grain_x"',
        'dbt_test__audit."warns"',
        'dbt_test__audit."accepted_values_wi_0123abcd"',
    ]
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'dbt_test__audit' order by 1"
        ).fetchall()
        assert tables == [("accepted_values_wi_0123abcd",), ("grain_x",), ("warns",)]  # `passes`' old rows gone
        assert con.execute("select * from dbt_test__audit.grain_x").fetchall() == [(1, 2)]
        assert con.execute("select * from dbt_test__audit.warns order by id").fetchall() == [(1,), (2,)]


def test_a_failed_test_is_quoted_with_the_rows_kept_for_it(tmp_path):
    db, run_results = _failed_build(tmp_path)
    store_failing_rows(db, run_results, FAILED_BUILD_MANIFEST)
    assert failed_nodes(run_results, FAILED_BUILD_MANIFEST, db) == [
        "test grain_x: Got 1 result e.g. id=1, row_count=2",
        "test accepted_values_with_a_long_name: Got 1 result e.g. value_field=zz, n_records=1",
    ]  # a warned test does not fail the build: not listed


def test_rows_dbt_stored_itself_are_kept(tmp_path):
    """On Spark dbt stores them during the build; they are copied in before and left alone."""
    db, run_results = _failed_build(tmp_path)
    for result in run_results["results"]:
        result["relation_name"] = f"`dbt_test__audit`.`{FAILED_BUILD_MANIFEST['nodes'][result['unique_id']]['alias']}`"
    assert store_failing_rows(db, run_results, FAILED_BUILD_MANIFEST) == []
    with closing(duckdb.connect(str(db), read_only=True)) as con:
        assert con.execute("select * from dbt_test__audit.passes").fetchall() == [(1,)]
