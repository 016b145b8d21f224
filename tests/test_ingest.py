"""Tests of the orchestration.lib.ingest package: landed files -> raw and quarantine (docs/landing-contract.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.contract import CAMPAIGNS, FX_RATES, OPPORTUNITIES, STAGE_MAPPING
from orchestration.lib.ingest import (
    IngestResult,
    RowAccountingError,
    SourceContractError,
    append,
    ingest_entity,
    ingest_file_entity,
    load,
)
from tests.support.landing_files import (
    CAMPAIGN_HEADER,
    LOADED_AT,
    OPP_HEADER,
    land,
    land_campaigns,
    land_csv,
    rows,
    work_database,
)

T = dt.datetime
D = dt.date


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A work database on disk, as in production (the landing dir is tmp_path)."""
    yield from work_database(tmp_path)


def counts(result: IngestResult) -> tuple[int, int, int, int, int]:
    return (
        result.rows_read,
        result.rows_loaded,
        result.rows_quarantined,
        result.duplicates_dropped,
        result.key_conflicts,
    )


# -- typing --------------------------------------------------------------------


def test_every_contract_type_is_typed(con, tmp_path):
    land(
        tmp_path,
        "crm/opportunities",
        "2026-11-26.csv",
        f"{OPP_HEADER},owner_id\n"
        "o1,a1,new_business,2026-01-01T10:00:00+02:00,2026-02-01,  Won  ,TRUE,Yes, 1000.50 ,USD,\n"
        "o2,a1,renewal,2026-01-01 10:00:00,2026-02-01,Open,0,no,-5,EUR,  \n"
        "o3,a1,expansion,2026-01-01,2026-02-01,Open,false,NO,1e3,USD,u1\n"
        "o4,a1,expansion,2026-01-01T23:30Z,2026-02-01,Open,1,FALSE,.5,USD,u2\n"
        "o5,a1,expansion,2026-01-01T01:00:00-05:30,2026-02-01,Open,yes,False,7,USD,u3\n",
    )
    result = ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    assert counts(result) == (5, 5, 0, 0, 0)
    got = rows(
        con,
        "select opportunity_id, created_at, close_date, stage, is_closed, is_won, amount, "
        "owner_id from raw.crm__opportunities order by opportunity_id",
    )
    assert got == [
        ("o1", T(2026, 1, 1, 8, 0), D(2026, 2, 1), "Won", True, True, 1000.5, None),
        ("o2", T(2026, 1, 1, 10, 0), D(2026, 2, 1), "Open", False, False, -5.0, None),
        ("o3", T(2026, 1, 1, 0, 0), D(2026, 2, 1), "Open", False, False, 1000.0, "u1"),
        ("o4", T(2026, 1, 1, 23, 30), D(2026, 2, 1), "Open", True, False, 0.5, "u2"),
        ("o5", T(2026, 1, 1, 6, 30), D(2026, 2, 1), "Open", True, False, 7.0, "u3"),
    ]
    types = dict(rows(con, "select column_name, column_type from (describe raw.crm__opportunities)"))
    assert types["created_at"] == "TIMESTAMP"
    assert types["close_date"] == "DATE"
    assert types["is_won"] == "BOOLEAN"
    assert types["amount"] == "DOUBLE"
    assert types["stage"] == "VARCHAR"
    assert rows(con, "select current_setting('TimeZone')") == [("UTC",)]


def test_integer_and_text_white_space(con, tmp_path):
    mapping = land(
        tmp_path,
        "config",
        "stage_mapping.csv",
        "crm_stage,funnel_stage,stage_order,outcome\n"
        '"\tDiscovery ",discovery, 1 ,open\n'
        "Demo,demo,+2,open\n"
        "Won,won,,won\n"
        "Lost,lost,1.5,lost\n",
    )
    result = ingest_file_entity(con, STAGE_MAPPING, [mapping], LOADED_AT)
    assert result.entity == "config__stage_mapping"
    assert result.files == ("stage_mapping.csv",)
    assert counts(result) == (4, 3, 1, 0, 0)
    assert rows(con, "select crm_stage, stage_order from raw.config__stage_mapping") == [
        ("Discovery", 1),
        ("Demo", 2),
        ("Won", None),
    ]
    assert rows(
        con,
        "select crm_stage, _source_file, _source_row, _column, _reason from quarantine.config__stage_mapping",
    ) == [("Lost", "stage_mapping.csv", 4, "stage_order", "stage_order: '1.5' is not an integer")]


# -- quarantine -------------------------------------------------------------------


def test_untypeable_rows_are_quarantined_with_file_row_column_and_reason(con, tmp_path):
    land(
        tmp_path,
        "crm/opportunities",
        "2026-11-26.csv",
        f"{OPP_HEADER}\n"
        'o1,a1,new_business,2026-01-01,2026-02-01,Open,false,false,"1,000",USD\n'
        "o2,a1,new_business,2026-01-01,2026/02/01,Open,false,false,10,USD\n"
        "o3,,new_business,2026-01-01,2026-02-01,Open,false,false,10,USD\n"
        "o4,a1,new_business,2026-01-01 10:00 Europe/Berlin,2026-02-01,Open,false,maybe,10,USD\n"
        "o5,a1,new_business, 2026-01-01 ,2026-02-30,Open,false,false,abc,USD\n",
    )
    result = ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    # o3 lacks a required value: not a typing failure, so it is loaded (the gate reports it)
    assert counts(result) == (5, 1, 4, 0, 0)
    assert rows(con, "select opportunity_id, account_id from raw.crm__opportunities") == [("o3", None)]
    got = rows(
        con,
        "select opportunity_id, created_at, amount, _source_file, _source_row, _column, _reason, "
        "_loaded_at from quarantine.crm__opportunities order by _source_row",
    )
    file, loaded = "crm/opportunities/2026-11-26.csv", T(2026, 11, 27, 2, 0)
    assert got == [
        (
            "o1",
            "2026-01-01",
            "1,000",
            file,
            1,
            "amount",
            "amount: '1,000' is not a decimal",
            loaded,
        ),
        (
            "o2",
            "2026-01-01",
            "10",
            file,
            2,
            "close_date",
            "close_date: '2026/02/01' is not a date (YYYY-MM-DD)",
            loaded,
        ),
        (
            "o4",
            "2026-01-01 10:00 Europe/Berlin",
            "10",
            file,
            4,
            "created_at,is_won",
            "created_at: '2026-01-01 10:00 Europe/Berlin' is not an ISO 8601 timestamp; "
            "is_won: 'maybe' is not a boolean (true/false, 1/0, yes/no)",
            loaded,
        ),
        # original values are kept as read, untrimmed
        (
            "o5",
            " 2026-01-01 ",
            "abc",
            file,
            5,
            "close_date,amount",
            "close_date: '2026-02-30' is not a date (YYYY-MM-DD); amount: 'abc' is not a decimal",
            loaded,
        ),
    ]
    types = set(rows(con, "select column_type from (describe quarantine.crm__opportunities)"))
    assert types == {("VARCHAR",), ("BIGINT",), ("TIMESTAMP",)}


def test_row_numbers_count_data_rows_also_across_multi_line_fields(con, tmp_path):
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        f"{CAMPAIGN_HEADER}\n"
        'c1,"Spring\nlaunch",events,2026-01-01,\n'
        "c2,#hashtag,content,2026-01-01,\n"
        "c3,Bad,events,yesterday,\n",
    )
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (3, 2, 1, 0, 0)
    # a value starting with '#' is data, not a comment line
    assert rows(con, "select campaign_name, _source_row from raw.crm__campaigns") == [
        ("Spring\nlaunch", 1),
        ("#hashtag", 2),
    ]
    assert rows(con, "select campaign_id, _source_row from quarantine.crm__campaigns") == [("c3", 3)]


# -- repeated extracts ---------------------------------------------------------------


def test_later_extract_wins_identical_rows_count_once_and_deletes_are_not_inferred(con, tmp_path):
    folder = "crm/campaigns"
    land_csv(tmp_path, folder, "2026-11-25.csv", CAMPAIGN_HEADER, [
        "c1,Old name,events,2026-01-01,",
        "c2,Same,events,2026-01-01,",
        "c3,Only old,events,2026-01-01,",
        "c3,Only old,events,2026-01-01,",
        "c5,Also only old,events,2026-01-01,",
    ])
    land_csv(tmp_path, folder, "2026-11-26.csv", CAMPAIGN_HEADER, [
        "c1,New name,events,2026-01-01,",
        "c2,Same,events,2026-01-01,",
        "c4,New,events,2026-01-01,2026-03-01",
    ])
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert result.files == ("crm/campaigns/2026-11-25.csv", "crm/campaigns/2026-11-26.csv")
    assert counts(result) == (8, 5, 0, 3, 0)
    assert [(f.source_file[-14:], f.rows_read, f.rows_loaded, f.duplicates_dropped) for f in result.per_file] == [
        ("2026-11-25.csv", 5, 2, 3),
        ("2026-11-26.csv", 3, 3, 0),
    ]
    assert rows(
        con,
        "select campaign_id, campaign_name, end_date, _source_file, _source_row from raw.crm__campaigns",
    ) == [
        ("c3", "Only old", None, "crm/campaigns/2026-11-25.csv", 3),
        ("c5", "Also only old", None, "crm/campaigns/2026-11-25.csv", 5),
        ("c1", "New name", None, "crm/campaigns/2026-11-26.csv", 1),
        ("c2", "Same", None, "crm/campaigns/2026-11-26.csv", 2),
        ("c4", "New", D(2026, 3, 1), "crm/campaigns/2026-11-26.csv", 3),
    ]


def test_quarantined_row_does_not_replace_the_older_valid_version(con, tmp_path):
    land_campaigns(tmp_path, "a.csv", "c1,Good,events,2026-01-01,")
    land_campaigns(tmp_path, "b.csv", "c1,Bad,events,2026-13-01,")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (2, 1, 1, 0, 0)
    assert rows(con, "select campaign_name, _source_file from raw.crm__campaigns") == [("Good", "crm/campaigns/a.csv")]
    assert rows(con, "select campaign_name from quarantine.crm__campaigns") == [("Bad",)]


def test_conflicting_key_in_the_winning_file_keeps_all_versions(con, tmp_path):
    land_campaigns(
        tmp_path,
        "2026-11-26.csv",
        "c1,One,events,2026-01-01,",
        "c1,Two,events,2026-01-01,",
        "c1,One,events,2026-01-01,",
        "c2,Fine,events,2026-01-01,",
    )
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (4, 3, 0, 1, 1)
    assert rows(con, "select campaign_id, campaign_name, _source_row from raw.crm__campaigns") == [
        ("c1", "One", 1),
        ("c1", "Two", 2),
        ("c2", "Fine", 4),
    ]
    assert rows(con, "select * from raw._key_conflicts") == [
        ("crm__campaigns", "c1", "crm/campaigns/2026-11-26.csv", 3)
    ]


def test_conflict_in_an_older_file_is_recorded_though_a_later_file_holds_the_key(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,One,events,2026-01-01,", "c1,Two,events,2026-01-01,")
    land_campaigns(tmp_path, "2026-11-26.csv", "c1,Three,events,2026-01-01,")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (3, 1, 0, 2, 1)
    assert rows(con, "select campaign_name from raw.crm__campaigns") == [("Three",)]
    assert rows(con, "select key_value, source_file, rows from raw._key_conflicts") == [
        ("c1", "crm/campaigns/2026-11-25.csv", 2)
    ]


def test_composite_key_conflict_joins_the_key_with_a_bar(con, tmp_path):
    land(
        tmp_path,
        "finance/fx_rates",
        "rates.csv",
        "rate_date,currency,rate_to_reporting\n2026-01-01,EUR,1.1\n2026-01-01,EUR,1.2\n2026-01-01,GBP,1.3\n",
    )
    result = ingest_entity(con, FX_RATES, tmp_path, LOADED_AT)
    assert counts(result) == (3, 3, 0, 0, 1)
    assert rows(con, "select entity, key_value, rows from raw._key_conflicts") == [
        ("finance__fx_rates", "2026-01-01|EUR", 2)
    ]


def test_rows_with_a_null_key_are_kept_unless_identical(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", ",A,events,2026-01-01,", ",B,events,2026-01-01,")
    land_campaigns(tmp_path, "2026-11-26.csv", ",A,events,2026-01-01,", ",A,events,2026-01-01,")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (4, 2, 0, 2, 0)
    assert rows(con, "select campaign_name, _source_file, _source_row from raw.crm__campaigns") == [
        ("B", "crm/campaigns/2026-11-25.csv", 2),
        ("A", "crm/campaigns/2026-11-26.csv", 1),
    ]


# -- columns ----------------------------------------------------------------------


def test_headers_any_order_case_and_space_optional_missing_and_extras_kept(con, tmp_path):
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-25.csv",
        " Channel ,START_DATE,Campaign_Name,  campaign_id, Region ,RowId\n"
        "events,2026-01-01,Launch,c1, EMEA ,99\n"
        "events,2026-01-01,Broken,c2,APAC,98\n",
    )
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        f"{CAMPAIGN_HEADER},budget\nc2,Broken,events,2026-01-01,oops,500\n",
    )
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (3, 2, 1, 0, 0)
    columns = [c[0] for c in rows(con, "select column_name from (describe raw.crm__campaigns)")]
    assert columns == [
        "campaign_id",
        "campaign_name",
        "channel",
        "start_date",
        "end_date",
        "region",
        "rowid",
        "budget",
        "_source_file",
        "_source_row",
        "_loaded_at",
    ]
    assert rows(
        con,
        "select campaign_id, campaign_name, channel, end_date, region, rowid, budget, "
        "_source_row from raw.crm__campaigns",
    ) == [
        ("c1", "Launch", "events", None, "EMEA", "99", None, 1),
        ("c2", "Broken", "events", None, "APAC", "98", None, 2),
    ]
    assert rows(
        con,
        "select campaign_id, end_date, region, rowid, budget, _reason from quarantine.crm__campaigns",
    ) == [("c2", "oops", None, None, "500", "end_date: 'oops' is not a date (YYYY-MM-DD)")]


def test_byte_order_mark_crlf_line_ends_and_an_unnamed_column(con, tmp_path):
    path = tmp_path / "crm/campaigns/2026-11-26.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(f"\ufeff{CAMPAIGN_HEADER},\r\nc1,A,events,2026-01-01,,x\r\nc2,B,events,2026-01-01,,\r\n".encode())
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (2, 2, 0, 0, 0)
    # DuckDB's name for a header field without a name
    assert rows(con, "select campaign_id, end_date, column5, _source_row from raw.crm__campaigns") == [
        ("c1", None, "x", 1),
        ("c2", None, None, 2),
    ]


def test_missing_required_folder_names_it(con, tmp_path):
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: required folder .* is missing"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


def test_folder_without_extract_files_names_it(con, tmp_path):
    land(tmp_path, "crm/campaigns", "README.txt", "not an extract")
    land(tmp_path, "crm/campaigns", ".~lock.a.csv", "not an extract")
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: folder .* holds no extract"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


def test_missing_required_column_names_file_and_column(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,A,events,2026-01-01,")
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        "campaign_id,campaign_name,start_date\nc1,A,x\n",
    )
    with pytest.raises(SourceContractError) as error:
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert str(error.value) == ("crm/campaigns: file 2026-11-26.csv has no column 'channel' (required)")


def test_file_name_with_a_pattern_character_is_refused(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-26[1].csv")
    with pytest.raises(SourceContractError, match=r"file 2026-11-26\[1\].csv: the path .*rename"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


def test_empty_file_is_refused(con, tmp_path):
    land(tmp_path, "crm/campaigns", "2026-11-26.csv", "")
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: file 2026-11-26.csv is empty"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # not CSV at all: a compressed extract under a .csv name
        (gzip.compress(f"{CAMPAIGN_HEADER}\nc1,A,events,2026-01-01,\n".encode()), "the header row is not valid UTF-8"),
        # a header, then bytes the CSV reader gives up on
        (f"{CAMPAIGN_HEADER}\n".encode() + bytes(range(256)) * 20, "invalid state"),
        (b'campaign_id,"campaign_name,channel,start_date\nc2,B,events,2026-01-01\n', "unterminated quote"),
        (b"\nc2,B,events,2026-01-01,\n", "the first line is empty"),
    ],
    ids=["gzip", "binary body", "header quote", "no header"],
)
def test_a_file_that_is_not_csv_names_the_file_and_changes_nothing(con, tmp_path, content, problem):
    land_campaigns(tmp_path, "a.csv", "c1,A,events,2026-01-01,")
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    (tmp_path / "crm/campaigns/b.csv").write_bytes(content)
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: file b.csv cannot be read: .*" + problem):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rows(con, "select campaign_id from raw.crm__campaigns") == [("c1",)]
    assert rows(con, "select count(*) from duckdb_tables() where temporary") == [(0,)]


def test_a_column_named_twice_is_refused(con, tmp_path):
    land(tmp_path, "crm/campaigns", "a.csv", f"{CAMPAIGN_HEADER},Channel\nc1,A,events,2026-01-01,,x\n")
    with pytest.raises(
        SourceContractError, match=r"^crm/campaigns: file a.csv has the column 'channel' more than once"
    ):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_columns_that_differ_only_by_case_are_refused_in_csv_and_parquet_alike(con, tmp_path, fmt):
    """DuckDB's Parquet reader renames the second one `campaign_id_1`: the first would have
    become the key silently (issue 13 item 3)."""
    import pyarrow
    import pyarrow.parquet

    columns = {"Campaign_ID": ["c1"], "campaign_id": ["c9"], "campaign_name": ["A"], "channel": ["events"]}
    columns["start_date"] = ["2026-01-01"]
    path = land(
        tmp_path, "crm/campaigns", f"a.{fmt}", ",".join(columns) + "\n" + ",".join(v for (v,) in columns.values())
    )
    if fmt == "parquet":  # written by pyarrow: DuckDB would rename the second column on writing too
        pyarrow.parquet.write_table(pyarrow.table(list(columns.values()), names=list(columns)), path)
    with pytest.raises(
        SourceContractError, match=rf"^crm/campaigns: file a.{fmt} has the column 'campaign_id' more than once$"
    ):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


def test_a_parquet_file_that_is_not_one_names_the_file(con, tmp_path):
    land_campaigns(tmp_path, "a.parquet", "c1,A,events,2026-01-01,")
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: file a.parquet cannot be read: "):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)


# -- lines that are not records ----------------------------------------------------


@pytest.mark.parametrize(
    ("bad_line", "position", "reason", "raw_line"),
    [
        (b"c2,B,events,2026-01-01,,x,y", 2, "line 3: expected 5 fields, found 7", "c2,B,events,2026-01-01,,x,y"),
        (b"c2,B", 2, "line 3: expected 5 fields, found 2", "c2,B"),
        (
            b'c9,"Open,events,2026-01-01,',
            4,
            "line 5: unterminated quote (or text after a closing quote) in column campaign_name",
            'c9,"Open,events,2026-01-01,',
        ),
        (
            b"c2,B\xff\xfe,events,2026-01-01,",
            2,
            "line 3: invalid UTF-8 in column campaign_name",
            "c2,B??,events,2026-01-01,",
        ),
    ],
    ids=["too many fields", "too few fields", "unterminated quote at the end", "invalid UTF-8"],
)
def test_a_line_that_is_not_a_record_is_quarantined_and_the_rest_loads(
    con, tmp_path, bad_line, position, reason, raw_line
):
    good = [b"c1,A,events,2026-01-01,", b"c3,C,events,2026-01-01,", b"c4,D,events,2026-01-01,"]
    lines = [CAMPAIGN_HEADER.encode(), *good[: position - 1], bad_line, *good[position - 1 :]]
    (tmp_path / "crm/campaigns").mkdir(parents=True)
    (tmp_path / "crm/campaigns/2026-11-26.csv").write_bytes(b"\n".join(lines) + b"\n")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (4, 3, 1, 0, 0)
    file = "crm/campaigns/2026-11-26.csv"
    good_rows = [n for n in (1, 2, 3, 4) if n != position]
    assert rows(con, "select campaign_id, _source_file, _source_row from raw.crm__campaigns") == [
        (c, file, n) for c, n in zip(("c1", "c3", "c4"), good_rows, strict=True)
    ]
    assert rows(
        con,
        "select campaign_id, campaign_name, start_date, _source_file, _source_row, _column, _reason, _raw_line, "
        "_loaded_at from quarantine.crm__campaigns",
    ) == [(None, None, None, file, position, None, reason, raw_line, T(2026, 11, 27, 2, 0))]
    assert rows(con, "select rows_read, rows_loaded, rows_quarantined, duplicates_dropped from raw._ingest_log") == [
        (4, 3, 1, 0)
    ]
    assert rows(con, "select count(*) from duckdb_tables() where temporary") == [(0,)]


def test_rejected_lines_untypeable_rows_and_multi_line_fields_keep_their_row_numbers(con, tmp_path):
    # `_reason` has DuckDB's line number: the header is line 1, a record over two lines counts once
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-25.csv",
        f"{CAMPAIGN_HEADER}\n"
        "c1,A,events,2026-01-01,\n"  # row 1
        "c2,B,events\n"  # row 2: too few
        'c3,"Two\nlines",events,2026-01-01,\n'  # row 3
        "c4,D,events,2026-01-01,,x,\n"  # row 4: too many
        '"c5",E,events,2026-01-01,,"x\ny"\n'  # row 5: too many, over two lines
        "c6,F,events,someday,\n"  # row 6: untypeable
        'c7,"G"x,events,2026-01-01,\n'  # row 7: text after a closing quote
        "c8,H,events,2026-01-01,\r\n"  # row 8
        "c1,A,events,2026-01-01,\n",  # row 9: identical to row 1
    )
    land_campaigns(tmp_path, "2026-11-26.csv", "c8,H2,events,2026-01-01,", "c9,I,events")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined, f.duplicates_dropped) for f in result.per_file] == [
        (9, 2, 5, 2),
        (2, 1, 1, 0),
    ]
    assert counts(result) == (11, 3, 6, 2, 0)
    assert rows(con, "select campaign_id, campaign_name, _source_file[-14:], _source_row from raw.crm__campaigns") == [
        ("c1", "A", "2026-11-25.csv", 1),
        ("c3", "Two\nlines", "2026-11-25.csv", 3),
        ("c8", "H2", "2026-11-26.csv", 1),
    ]
    assert rows(
        con,
        "select campaign_id, _source_file[-14:], _source_row, _column, _reason, _raw_line "
        "from quarantine.crm__campaigns order by _source_file, _source_row",
    ) == [
        (None, "2026-11-25.csv", 2, None, "line 3: expected 5 fields, found 3", "c2,B,events"),
        (None, "2026-11-25.csv", 4, None, "line 5: expected 5 fields, found 7", "c4,D,events,2026-01-01,,x,"),
        (None, "2026-11-25.csv", 5, None, "line 6: expected 5 fields, found 6", '"c5",E,events,2026-01-01,,"x\ny"'),
        ("c6", "2026-11-25.csv", 6, "start_date", "start_date: 'someday' is not a date (YYYY-MM-DD)", None),
        (
            None,
            "2026-11-25.csv",
            7,
            None,
            "line 8: unterminated quote (or text after a closing quote) in column campaign_name",
            'c7,"G"x,events,2026-01-01,',
        ),
        (None, "2026-11-26.csv", 2, None, "line 3: expected 5 fields, found 3", "c9,I,events"),
    ]
    types = dict(rows(con, "select column_name, column_type from (describe quarantine.crm__campaigns)"))
    assert {t for c, t in types.items() if c not in ("_source_row", "_loaded_at")} == {"VARCHAR"}
    assert "_raw_line" in types


def test_a_quote_running_over_the_lines_after_it_refuses_the_file(con, tmp_path):
    """The reader would take lines 3-4 for part of a value: they would vanish inside one rejected line."""
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        f"{CAMPAIGN_HEADER}\n"
        "c1,A,events,2026-01-01,\n"
        'c2,"Open,events,2026-01-01,\n'
        "c3,C,events,2026-01-01,\n"
        'c4,"D",events,2026-01-01,\n'
        "c5,E,events,2026-01-01,\n",
    )
    with pytest.raises(SourceContractError, match=r"^crm/campaigns: file 2026-11-26.csv cannot be read: line 3 has a"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rows(con, "select count(*) from duckdb_tables() where temporary") == [(0,)]


def test_missing_optional_folder_gives_empty_typed_tables(con, tmp_path):
    result = ingest_entity(con, FX_RATES, tmp_path, LOADED_AT)
    assert result == IngestResult("finance__fx_rates", (), 0, 0, 0, 0, 0)
    assert rows(con, "select column_name, column_type from (describe raw.finance__fx_rates)") == [
        ("rate_date", "DATE"),
        ("currency", "VARCHAR"),
        ("rate_to_reporting", "DOUBLE"),
        ("_source_file", "VARCHAR"),
        ("_source_row", "BIGINT"),
        ("_loaded_at", "TIMESTAMP"),
    ]
    assert rows(con, "select count(*) from raw.finance__fx_rates") == [(0,)]
    assert rows(con, "select count(*) from quarantine.finance__fx_rates") == [(0,)]


# -- Parquet -----------------------------------------------------------------------


def test_parquet_and_csv_in_one_entity(con, tmp_path):
    folder = tmp_path / "crm" / "opportunities"
    folder.mkdir(parents=True)
    # typed Parquet columns, one of them in a zone other than UTC
    con.execute("SET TimeZone = 'Europe/Berlin'")
    con.execute(
        f"""COPY (
            SELECT * FROM (VALUES
              ('o1', 'a1', 'new_business', TIMESTAMPTZ '2026-01-01 10:00:00+02', DATE '2026-02-01',
               'Open', false, false, 10.5::DECIMAL(18, 2), 'USD', 3),
              ('o2', 'a1', 'renewal', TIMESTAMPTZ '2026-01-02 00:00:00+00', DATE '2026-02-01',
               'Won', true, true, 20.25::DECIMAL(18, 2), 'USD', 4)
            ) t(Opportunity_ID, account_id, opportunity_type, created_at, close_date, stage,
                is_closed, is_won, amount, currency, seats)
        ) TO '{folder / "2026-11-25.parquet"}' (FORMAT parquet)"""
    )
    land_csv(tmp_path, "crm/opportunities", "2026-11-26.csv", OPP_HEADER, [
        "o2,a1,renewal,2026-01-02,2026-02-01,Won,true,true,30,USD",
    ])
    result = ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    assert counts(result) == (3, 2, 0, 1, 0)
    assert rows(
        con,
        "select opportunity_id, created_at, is_won, amount, seats, _source_file, _source_row "
        "from raw.crm__opportunities",
    ) == [
        ("o1", T(2026, 1, 1, 8, 0), False, 10.5, "3", "crm/opportunities/2026-11-25.parquet", 1),
        ("o2", T(2026, 1, 2, 0, 0), True, 30.0, None, "crm/opportunities/2026-11-26.csv", 1),
    ]


def test_row_numbers_are_right_with_parallel_reads(con, tmp_path):
    """Files large enough for several reader threads; `expected` is the data-row number."""
    con.execute("SET threads = 4")
    folder = tmp_path / "crm" / "campaigns"
    folder.mkdir(parents=True)
    n = 300_000

    def select(prefix: str) -> str:
        return f"""
            SELECT '{prefix}' || i AS campaign_id,
                   CASE WHEN i % 1000 = 0 THEN 'multi' || chr(10) || 'line, "quoted"'
                        ELSE repeat('x', 40) END AS campaign_name,
                   'events' AS channel,
                   CASE WHEN i % 777 = 0 THEN 'bad' ELSE '2026-01-01' END AS start_date,
                   i AS expected
            FROM range(1, {n + 1}) t(i)"""

    con.execute(f"COPY ({select('c')}) TO '{folder / 'a.csv'}' (HEADER)")
    con.execute(f"COPY ({select('p')}) TO '{folder / 'b.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE 10000)")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    bad = n // 777
    assert counts(result) == (2 * n, 2 * (n - bad), 2 * bad, 0, 0)
    # every row's _source_row equals its `expected` column, in both files
    matching = (
        "select _source_file, count(*), count(*) filter (expected::bigint = _source_row) "
        "from {} group by all order by 1"
    )
    assert rows(con, matching.format("raw.crm__campaigns")) == [
        ("crm/campaigns/a.csv", n - bad, n - bad),
        ("crm/campaigns/b.parquet", n - bad, n - bad),
    ]
    assert rows(con, matching.format("quarantine.crm__campaigns")) == [
        ("crm/campaigns/a.csv", bad, bad),
        ("crm/campaigns/b.parquet", bad, bad),
    ]


def test_row_numbers_are_right_with_parallel_reads_and_rejected_lines(con, tmp_path):
    """Rejected lines all over a file read by several threads; the id column is the row number."""
    con.execute("SET threads = 4")
    n = 200_000
    lines = [CAMPAIGN_HEADER]
    for i in range(1, n + 1):
        name = 'multi\nline, "quoted"' if i % 1000 == 0 else "x" * 40
        line = f'c{i},"{name.replace(chr(34), 2 * chr(34))}",events,2026-01-01,'
        if i % 997 == 0:
            line += ",extra"
        elif i % 1999 == 0:
            line = f"c{i},short"
        elif i % 4999 == 0:
            line = line.replace("x" * 40, "\udcff" * 2)  # an invalid byte once encoded
        lines.append(line)
    folder = tmp_path / "crm" / "campaigns"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    bad = {i for i in range(1, n + 1) if i % 997 == 0 or i % 1999 == 0 or i % 4999 == 0}
    assert counts(result) == (n, n - len(bad), len(bad), 0, 0)
    # every row's _source_row is its id, loaded or quarantined
    assert rows(
        con,
        "select count(*), count(*) filter (campaign_id[2:]::bigint = _source_row) from raw.crm__campaigns",
    ) == [(n - len(bad), n - len(bad))]
    assert rows(
        con,
        "select count(*), count(*) filter (split_part(_raw_line, ',', 1)[2:]::bigint = _source_row "
        "and _reason = 'line ' || (_source_row + 1) || ': ' || "
        "case when _source_row % 997 = 0 then 'expected 5 fields, found 6' "
        "when _source_row % 1999 = 0 then 'expected 5 fields, found 2' "
        "else 'invalid UTF-8 in column campaign_name' end) from quarantine.crm__campaigns",
    ) == [(len(bad), len(bad))]


# -- accounting and idempotence ------------------------------------------------------


def test_accounting_adds_up_per_file_and_is_logged(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,A,events,2026-01-01,", "c2,B,events,bad,", "c3,C,events,2026-01-01,")
    land_campaigns(tmp_path, "2026-11-26.csv", "c1,A2,events,2026-01-01,", "c1,A2,events,2026-01-01,")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    for f in result.per_file:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.duplicates_dropped
    assert result.rows_read == (result.rows_loaded + result.rows_quarantined + result.duplicates_dropped)
    assert rows(con, "select * from raw._ingest_log order by source_file") == [
        ("crm__campaigns", "crm/campaigns/2026-11-25.csv", 3, 1, 1, 1, T(2026, 11, 27, 2, 0)),
        ("crm__campaigns", "crm/campaigns/2026-11-26.csv", 2, 1, 0, 1, T(2026, 11, 27, 2, 0)),
    ]
    ingest_entity(con, FX_RATES, tmp_path, LOADED_AT)  # another entity leaves these rows be
    assert rows(con, "select count(*) from raw._ingest_log") == [(2,)]


def test_an_accounting_mismatch_raises_and_changes_nothing(con, tmp_path, monkeypatch):
    land_campaigns(tmp_path, "a.csv", "c1,A,events,2026-01-01,")
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land_campaigns(tmp_path, "b.csv", "c2,B,events,2026-01-01,")
    monkeypatch.setattr(load, "write_raw_rows", lambda *args: None)  # a bug losing rows
    monkeypatch.setattr(append, "write_raw_rows", lambda *args: None)  # b.csv sorts last: appended
    with pytest.raises(RowAccountingError, match=r"^crm/campaigns/b.csv: 1 rows read but 0 load"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rows(con, "select campaign_id from raw.crm__campaigns") == [("c1",)]
    assert rows(con, "select source_file from raw._ingest_log") == [("crm/campaigns/a.csv",)]
    # and recomputed in full: a late file sorting first
    land_campaigns(tmp_path, "0.csv", "c0,Z,events,2026-01-01,")
    with pytest.raises(RowAccountingError, match=r"^crm/campaigns/0.csv: 1 rows read but 0 load"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rows(con, "select campaign_id from raw.crm__campaigns") == [("c1",)]


def test_running_twice_gives_the_same_tables(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,A,events,2026-01-01,", "c1,B,events,2026-01-01,", "c2,B,x,bad,")
    land_campaigns(tmp_path, "2026-11-26.csv", "c3,C,events,2026-01-01,")
    tables = [
        "raw.crm__campaigns",
        "quarantine.crm__campaigns",
        "raw._key_conflicts",
        "raw._ingest_log",
    ]
    first = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    before = {t: rows(con, f"select * from {t}") for t in tables}
    con.execute("SET preserve_insertion_order = false")  # restored after the ingest
    second = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert (first.files_read, first.files_skipped) == (("crm/campaigns/2026-11-25.csv", "crm/campaigns/2026-11-26.csv"), 0)
    assert (second.files_read, second.files_skipped) == ((), 2)  # nothing new: both files skipped
    assert dataclasses.replace(second, files_read=first.files_read, files_skipped=0) == first
    assert {t: rows(con, f"select * from {t}") for t in tables} == before
    assert rows(con, "select current_setting('preserve_insertion_order')") == [(False,)]
    assert counts(first) == (4, 3, 1, 0, 1)


# -- extract names (issue 13 item 2) ---------------------------------------------------


def test_a_file_whose_name_is_not_an_extract_date_warns_and_the_file_that_won_most_keys_is_known(con, tmp_path):
    land_campaigns(
        tmp_path,
        "2026-11-25.csv",
        "c1,New,events,2026-03-01,",
        "c2,B,events,2026-03-01,",
        "c3,C,events,2026-03-01,",
    )
    land_campaigns(tmp_path, "2026-11-26T0200_part2.csv", "c4,D,events,2026-03-01,")
    # an old copy: 'b' sorts after '2', so it wins c1 and c2 with stale values
    land_campaigns(tmp_path, "backup.CSV", "c1,Old,events,2026-03-01,", "c2,B,events,2026-03-01,")
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert result.warnings == (
        "crm/campaigns: file backup.CSV: the name does not begin with an extract date (YYYY-MM-DD); files are "
        "read in name order, so it wins every key it shares with a file whose name sorts before it",
    )
    assert [(f.source_file, f.rows_loaded) for f in result.per_file] == [
        ("crm/campaigns/2026-11-25.csv", 1),
        ("crm/campaigns/2026-11-26T0200_part2.csv", 1),
        ("crm/campaigns/backup.CSV", 2),
    ]
    assert result.most_keys_from.source_file == "crm/campaigns/backup.CSV"
    assert rows(con, "select campaign_name from raw.crm__campaigns where campaign_id = 'c1'") == [("Old",)]


@pytest.mark.parametrize(
    ("name", "dated"),
    [
        ("2026-11-26.csv", True),
        ("2026-11-26T0200.parquet", True),
        ("2026-02-30.csv", False),
        ("26-11-2026.csv", False),
        ("backup.csv", False),
        ("2026-1-26.csv", False),
    ],
)
def test_a_name_is_dated_when_it_begins_with_a_real_iso_date(name, dated):
    from orchestration.lib.ingest.extracts import is_dated

    assert is_dated(name) is dated


# -- symbolic links (issue 13 item 4) --------------------------------------------------


def test_a_link_leaving_the_landing_folder_is_refused_naming_link_and_target(con, tmp_path):
    landing, elsewhere = tmp_path / "landing", tmp_path / "elsewhere"
    land_campaigns(landing, "2026-11-25.csv", "c1,A,events,2026-01-01,")
    outside = land(elsewhere, ".", "secret.csv", f"{CAMPAIGN_HEADER},salary\nc2,B,events,2026-01-01,,100\n")
    (landing / "crm/campaigns/2026-11-26.csv").symlink_to(outside)
    with pytest.raises(SourceContractError) as error:
        ingest_entity(con, CAMPAIGNS, landing, LOADED_AT)
    assert str(error.value) == (
        f"crm/campaigns/2026-11-26.csv is a link to {outside.resolve()}, outside the landing folder "
        f"{landing.resolve()}; copy the extract into the landing folder instead"
    )


def test_a_linked_entity_folder_leaving_the_landing_folder_is_refused(con, tmp_path):
    landing, elsewhere = tmp_path / "landing", tmp_path / "elsewhere"
    land_csv(elsewhere, "campaigns", "2026-11-25.csv", CAMPAIGN_HEADER, ["c1,A,events,2026-01-01,"])
    (landing / "crm").mkdir(parents=True)
    (landing / "crm/campaigns").symlink_to(elsewhere / "campaigns")
    with pytest.raises(SourceContractError, match=r"^crm/campaigns is a link to .*elsewhere/campaigns, outside"):
        ingest_entity(con, CAMPAIGNS, landing, LOADED_AT)


def test_a_dangling_link_is_refused_not_skipped(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,A,events,2026-01-01,")
    (tmp_path / "crm/campaigns/2026-11-26.csv").symlink_to(tmp_path / "gone.csv")
    with pytest.raises(SourceContractError) as error:
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert str(error.value) == (
        f"crm/campaigns/2026-11-26.csv is a link to {(tmp_path / 'gone.csv').resolve()}, which does not exist; "
        "remove or fix the link"
    )


def test_a_link_inside_the_landing_folder_is_read(con, tmp_path):
    land_campaigns(tmp_path, "2026-11-25.csv", "c1,A,events,2026-01-01,")
    shared = land_csv(tmp_path, "shared", "campaigns.csv", CAMPAIGN_HEADER, ["c2,B,events,2026-01-01,"])
    (tmp_path / "crm/campaigns/2026-11-26.csv").symlink_to(shared)
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (2, 2, 0, 0, 0)
    assert rows(con, "select campaign_id, _source_file from raw.crm__campaigns order by 1") == [
        ("c1", "crm/campaigns/2026-11-25.csv"),
        ("c2", "crm/campaigns/2026-11-26.csv"),
    ]


# -- records too long for the reader (issue 13 item 1) ---------------------------------

LONG = 34_000_000  # longer than DuckDB's CSV buffer: its reader drops such a record without a reject


@pytest.mark.parametrize(
    ("channel", "length"),
    [
        ("x" * LONG, "34,000,017"),  # "c2,B," + channel + ",2026-01-01,": 5 + 34,000,000 + 12 bytes
        ('"' + "x" * LONG + '"', "34,000,019"),
        ("x" * 3_000_000, "3,000,017"),  # the reader would reject it itself; the same reason
    ],
    ids=["unquoted 34 MB", "quoted 34 MB", "3 MB"],
)
def test_a_record_too_long_for_the_reader_is_quarantined_with_its_true_reason(con, tmp_path, channel, length):
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        f"{CAMPAIGN_HEADER}\nc1,A,events,2026-01-01,\nc2,B,{channel},2026-01-01,\nc3,C,events,2026-01-01,\n",
    )
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert counts(result) == (3, 2, 1, 0, 0)
    assert rows(con, "select campaign_id, _source_row from raw.crm__campaigns order by 2") == [("c1", 1), ("c3", 3)]
    ((row, reason, raw_line),) = rows(con, "select _source_row, _reason, _raw_line from quarantine.crm__campaigns")
    assert row == 2
    assert reason == f"line 3: the record is {length} bytes long, longer than the 2,097,152 bytes a CSV record may have"
    assert raw_line.startswith("c2,B,") and len(raw_line) == 10_000
    assert not list(Path(tempfile.gettempdir()).glob("_ingest_crm__campaigns_*"))  # the reader's copy is gone


def test_a_record_the_reader_loses_fails_the_accounting_instead_of_balancing(con, tmp_path, monkeypatch):
    """The guard beneath: with long records not set aside (the limit raised past the
    record), DuckDB's reader drops the 34 MB record silently, and the independent count of
    the file's records refuses the file."""
    from orchestration.lib.ingest import typed_rows

    monkeypatch.setattr(typed_rows, "MAX_LINE_BYTES", 10 * LONG)
    land(
        tmp_path,
        "crm/campaigns",
        "2026-11-26.csv",
        f"{CAMPAIGN_HEADER}\nc1,A,events,2026-01-01,\nc2,B,{'x' * LONG},2026-01-01,\nc3,C,events,2026-01-01,\n",
    )
    with pytest.raises(RowAccountingError) as error:
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert str(error.value) == (
        "crm/campaigns: file 2026-11-26.csv holds 3 records, but the CSV reader returned 2 (rows and rejected "
        "lines); the entity is not loaded, so no record is lost"
    )


@pytest.mark.parametrize(
    ("content", "width", "records"),
    [
        (b"a,b\n1,2\n3,4\n", 2, 2),
        (b"a,b\n1,2\n3,4", 2, 2),  # no line break at the end
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n\r\n", 2, 2),  # empty lines are skipped
        (b"a,b\r1,2\r3,4\r", 2, 2),  # a lone \r ends a record too
        (b'a,b\n1,"x\ny"\n3,"say ""hi""\n"\n', 2, 2),  # line breaks inside quotes belong to the value
        (b"a,b\n1,2\n  \n", 2, 2),  # white space is a record (the reader rejects it), not an empty line
        (b"a\n1\n\n2\n", 1, 3),  # with one field an empty line is a record
        (b"a,b\n", 2, 0),
    ],
)
def test_records_are_counted_without_the_reader(tmp_path, content, width, records):
    from orchestration.lib.ingest.csv_records import scan_records

    path = tmp_path / "a.csv"
    path.write_bytes(content)
    assert scan_records(path, width, 100).data_records == records


def test_long_records_are_found_with_their_row_and_place(tmp_path):
    from orchestration.lib.ingest.csv_records import LongRecord, scan_records

    path = tmp_path / "a.csv"
    path.write_bytes(b'a,b\n1,2\n\n3,"' + b"y\n" * 30 + b'"\n' + b"4," + b"z" * 50 + b"\n5,6\n")
    # header 4 bytes, "1,2\n" 4, empty line 1: record 3 (row 2, after the skipped empty line) starts at 9
    assert scan_records(path, 2, 40) == scan_records(path, 2, 40)
    found = scan_records(path, 2, 40)
    assert found.data_records == 4
    assert found.long_records == (LongRecord(row=2, offset=9, length=64), LongRecord(row=3, offset=74, length=52))


# -- absurd values (issue 13 item 5) -----------------------------------------------------


def test_absurd_amounts_dates_and_offsets_are_quarantined_with_their_reason(con, tmp_path):
    land_csv(tmp_path, "crm/opportunities", "2026-11-26.csv", OPP_HEADER, [
        "o1,a1,new_business,9999-12-31T23:59:59-14:00,2026-02-01,Won,1,1,10,USD",
        "o2,a1,new_business,2026-01-01T10:00:00+99:99,2026-02-01,Won,1,1,10,USD",
        "o3,a1,new_business,2026-01-01,0000-01-01,Won,1,1,10,USD",
        "o4,a1,new_business,2026-01-01,2026-02-01,Won,1,1,1e400,USD",
        "o5,a1,new_business,2026-01-01,2026-02-01,Won,1,1,NaN,USD",
        "o6,a1,new_business,2026-01-01,2026-02-01,Won,1,1,-inf,USD",
        "o7,a1,new_business,2026-01-01T10:00:00+14:00,2200-12-31,Won,1,1,1e308,USD",
        "o8,a1,new_business,1899-12-31T23:00:00-01:00,2026-02-01,Won,1,1,10,USD",
    ])
    result = ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    assert counts(result) == (8, 2, 6, 0, 0)
    assert rows(con, "select _source_row, _column, _reason from quarantine.crm__opportunities order by 1") == [
        (
            1,
            "created_at",
            "created_at: '9999-12-31T23:59:59-14:00' is outside the years 1900-2200 (setting plausible_years)",
        ),
        (2, "created_at", "created_at: '2026-01-01T10:00:00+99:99' is not an ISO 8601 timestamp"),
        (3, "close_date", "close_date: '0000-01-01' is outside the years 1900-2200 (setting plausible_years)"),
        (4, "amount", "amount: '1e400' is not a decimal"),
        (5, "amount", "amount: 'NaN' is not a decimal"),
        (6, "amount", "amount: '-inf' is not a decimal"),
    ]
    # o8 is 1900-01-01 00:00 in UTC: inside; +14:00 is the furthest offset there is
    assert rows(
        con, "select opportunity_id, created_at, close_date, amount from raw.crm__opportunities order by 1"
    ) == [
        ("o7", T(2025, 12, 31, 20, 0), D(2200, 12, 31), 1e308),
        ("o8", T(1900, 1, 1, 0, 0), D(2026, 2, 1), 10.0),
    ]


def test_the_plausible_years_are_a_setting(con, tmp_path):
    land_campaigns(
        tmp_path,
        "2026-11-26.csv",
        "c1,A,events,1989-12-31,",
        "c2,B,events,1990-01-01,2030-12-31",
        "c3,C,events,2026-01-01,2031-01-01",
    )
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT, years=(1990, 2030))
    assert counts(result) == (3, 1, 2, 0, 0)
    assert rows(con, "select _source_row, _reason from quarantine.crm__campaigns order by 1") == [
        (1, "start_date: '1989-12-31' is outside the years 1990-2030 (setting plausible_years)"),
        (3, "end_date: '2031-01-01' is outside the years 1990-2030 (setting plausible_years)"),
    ]
