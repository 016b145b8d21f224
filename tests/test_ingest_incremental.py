"""Issue 16: an ingest reads only the extract files it has not read before, and publishes
exactly what reading every file afresh would (docs/landing-contract.md, "What a refresh reads")."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.lib.contract import CAMPAIGNS, OPPORTUNITIES, Entity
from orchestration.lib.ingest import SourceContractError, ingest_entity

LOADED_AT = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
CAMPAIGN_HEADER = "campaign_id,campaign_name,channel,start_date,end_date"
FOLDER = "crm/campaigns"


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield connection
    connection.close()


def land(landing: Path, name: str, lines: list[str], header: str = CAMPAIGN_HEADER, folder: str = FOLDER) -> Path:
    path = landing / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def published_tables(con: duckdb.DuckDBPyConnection, entity: Entity) -> dict[str, object]:
    """Every table an ingest writes for the entity: its columns in order and its rows (the
    run's own `_loaded_at` aside, which differs between any two runs)."""
    name = entity.qualified_name
    tables = [f"raw.{name}", f"quarantine.{name}"]
    if entity == OPPORTUNITIES:
        tables.append(f"raw.{name}_snapshots")
    got: dict[str, object] = {}
    for table in tables:
        columns = [c for c, _ in rows(con, f"SELECT name, type FROM pragma_table_info('{table}')")]
        kept = ", ".join(f'"{c}"' for c in columns if c != "_loaded_at")
        got[table] = (
            rows(con, f"SELECT name, type FROM pragma_table_info('{table}')"),
            rows(con, f"SELECT {kept} FROM {table} ORDER BY ALL"),
        )
    got["log"] = rows(
        con,
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, duplicates_dropped "
        f"FROM raw._ingest_log WHERE entity = '{name}' ORDER BY ALL",
    )
    got["conflicts"] = rows(con, f"SELECT * FROM raw._key_conflicts WHERE entity = '{name}' ORDER BY ALL")
    return got


def full_ingest(landing: Path, entity: Entity) -> dict[str, object]:
    with duckdb.connect() as fresh:
        ingest_entity(fresh, entity, landing, LOADED_AT)
        return published_tables(fresh, entity)


# -- worked by hand ----------------------------------------------------------------------


def test_a_new_file_is_read_alone_and_wins_the_keys_it_shares(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,", "c2,B,events,2026-01-01,"])
    first = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-26.csv", ["c1,A2,events,2026-01-01,", "c3,C,x,bad,"])
    second = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    assert (first.files_read, first.files_skipped, first.reread) == ((f"{FOLDER}/2026-11-25.csv",), 0, None)
    assert (second.files_read, second.files_skipped, second.reread) == ((f"{FOLDER}/2026-11-26.csv",), 1, None)
    assert rows(con, "SELECT campaign_id, campaign_name, _source_file FROM raw.crm__campaigns ORDER BY 1") == [
        ("c1", "A2", f"{FOLDER}/2026-11-26.csv"),
        ("c2", "B", f"{FOLDER}/2026-11-25.csv"),
    ]
    assert rows(con, "SELECT campaign_id, _source_file, _source_row, _column FROM quarantine.crm__campaigns") == [
        ("c3", f"{FOLDER}/2026-11-26.csv", 2, "start_date")
    ]
    # the older file's row of c1 is now a duplicate: its accounting changed without re-reading it
    assert rows(
        con,
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, duplicates_dropped "
        "FROM raw._ingest_log ORDER BY 1",
    ) == [(f"{FOLDER}/2026-11-25.csv", 2, 1, 0, 1), (f"{FOLDER}/2026-11-26.csv", 2, 1, 1, 0)]


def test_a_late_file_whose_name_sorts_first_loses_the_keys_later_files_hold(con, tmp_path):
    land(tmp_path, "2026-11-26.csv", ["c1,new,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-20.csv", ["c1,old,events,2026-01-01,", "c2,only-here,events,2026-01-01,"])
    late = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    assert (late.files_read, late.files_skipped) == ((f"{FOLDER}/2026-11-20.csv",), 1)
    assert late.files == (f"{FOLDER}/2026-11-20.csv", f"{FOLDER}/2026-11-26.csv")  # name order, not arrival
    assert rows(con, "SELECT campaign_id, campaign_name FROM raw.crm__campaigns ORDER BY 1") == [
        ("c1", "new"),
        ("c2", "only-here"),
    ]
    assert published_tables(con, CAMPAIGNS) == full_ingest(tmp_path, CAMPAIGNS)


def test_a_changed_file_makes_the_entity_reread_in_full_and_says_so(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,"])
    land(tmp_path, "2026-11-26.csv", ["c2,B,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-25.csv", ["c1,A corrected,events,2026-01-01,"])
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    assert result.reread == f"{FOLDER}/2026-11-25.csv changed"
    assert (len(result.files_read), result.files_skipped) == (2, 0)
    assert rows(con, "SELECT campaign_name FROM raw.crm__campaigns ORDER BY 1") == [("A corrected",), ("B",)]


def test_a_file_rewritten_with_the_same_size_right_after_its_ingest_is_still_seen_changed(con, tmp_path):
    # same size, within the file system's timestamp granularity of the hashing: hashed again
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-25.csv", ["c1,B,events,2026-01-01,"])
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    assert result.reread == f"{FOLDER}/2026-11-25.csv changed"
    assert rows(con, "SELECT campaign_name FROM raw.crm__campaigns") == [("B",)]


def test_an_unchanged_file_is_not_hashed_again_but_one_rewritten_with_its_old_times_is(con, tmp_path):
    path = land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    # as if hashed an hour after its last change, and with a hash no content has: a
    # night that hashed the file again would find it changed
    con.execute(
        "UPDATE ingest_store.files SET sha256 = 'not hashed again', hashed_at_ns = hashed_at_ns + 3600 * 10^9"
    )
    land(tmp_path, "2026-11-26.csv", ["c2,B,events,2026-01-01,"])
    night = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert (night.reread, night.files_read, night.files_skipped) == (None, (f"{FOLDER}/2026-11-26.csv",), 1)

    # same size and modification time put back: its change time and inode still tell
    times = path.stat()
    land(tmp_path, "2026-11-25.csv", ["c1,Z,events,2026-01-01,"])
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    rewritten = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rewritten.reread == f"{FOLDER}/2026-11-25.csv changed"
    assert rows(con, "SELECT campaign_name FROM raw.crm__campaigns ORDER BY 1") == [("B",), ("Z",)]


def test_a_file_that_disappeared_makes_the_entity_reread_and_its_rows_go(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,"])
    gone = land(tmp_path, "2026-11-26.csv", ["c2,B,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    gone.unlink()
    result = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    assert result.reread == f"{FOLDER}/2026-11-26.csv disappeared"
    assert rows(con, "SELECT campaign_id FROM raw.crm__campaigns") == [("c1",)]
    assert rows(con, "SELECT source_file FROM raw._ingest_log") == [(f"{FOLDER}/2026-11-25.csv",)]


def test_full_rereads_every_file_and_other_typing_rules_do_too(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,1950-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    full = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT, full=True)
    assert (full.files_read, full.reread) == ((f"{FOLDER}/2026-11-25.csv",), "a full refresh was asked for")

    # plausible_years changed: the stored typed rows were typed by other rules
    narrower = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT, years=(2000, 2100))
    assert narrower.reread == "the typing rules (contract columns or plausible_years) changed"
    assert rows(con, "SELECT campaign_id, _column FROM quarantine.crm__campaigns") == [("c1", "start_date")]
    assert rows(con, "SELECT count(*) FROM raw.crm__campaigns") == [(0,)]


def test_a_new_file_that_cannot_be_read_changes_nothing_and_is_read_once_fixed(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", ["c1,A,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-26.csv", ["c1,B,events,2026-01-01,"], header="campaign_id,channel")
    with pytest.raises(SourceContractError, match=r"2026-11-26\.csv has no column 'campaign_name'"):
        ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert rows(con, "SELECT campaign_name FROM raw.crm__campaigns") == [("A",)]

    land(tmp_path, "2026-11-26.csv", ["c1,B,events,2026-01-01,"])
    fixed = ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    assert (fixed.files_read, fixed.files_skipped, fixed.reread) == ((f"{FOLDER}/2026-11-26.csv",), 1, None)
    assert rows(con, "SELECT campaign_name FROM raw.crm__campaigns") == [("B",)]


def test_extra_columns_of_a_late_file_take_their_place_in_name_order(con, tmp_path):
    land(tmp_path, "2026-11-26.csv", ["c1,A,events,2026-01-01,,x"], header=f"{CAMPAIGN_HEADER},later_extra")
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-20.csv", ["c2,B,events,2026-01-01,,y"], header=f"{CAMPAIGN_HEADER},early_extra")
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    columns = [c for (c,) in rows(con, "SELECT name FROM pragma_table_info('raw.crm__campaigns')")]
    assert columns[5:7] == ["early_extra", "later_extra"]
    assert rows(con, "SELECT campaign_id, early_extra, later_extra FROM raw.crm__campaigns ORDER BY 1") == [
        ("c1", None, "x"),
        ("c2", "y", None),
    ]


# -- the same as a full ingest, whatever the order of arrival ----------------------------

NAMES = ("2026-01-01.csv", "2026-01-08.csv", "2026-01-15.csv", "2026-01-22.csv", "manual-fix.csv")
CAMPAIGN_ROWS = st.tuples(
    st.sampled_from(["c1", "c2", "c3", ""]),  # a null key now and then
    st.sampled_from(["A", "B"]),
    st.sampled_from(["2026-01-01", "not-a-date"]),  # quarantined now and then
).map(lambda r: f"{r[0]},{r[1]},events,{r[2]},")
EXTRACT = st.tuples(st.lists(CAMPAIGN_ROWS, max_size=4), st.booleans())  # rows, with an extra column


@st.composite
def arrivals(draw) -> list[list[tuple[str, tuple[list[str], bool]]]]:
    """Nights of arrivals: files (name, content) in a random order, a few per night, and
    perhaps one earlier file landed again with other content."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=len(NAMES), unique=True))
    files = [(name, draw(EXTRACT)) for name in names]
    if draw(st.booleans()):
        files.append((draw(st.sampled_from(names)), draw(EXTRACT)))  # a corrected file
    cuts = sorted(draw(st.lists(st.integers(1, len(files)), max_size=3, unique=True)))
    bounds = [0, *[c for c in cuts if c < len(files)], len(files)]
    return [files[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nights=arrivals())
def test_night_by_night_ingest_equals_a_full_ingest_of_the_same_files(nights, tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    with duckdb.connect() as con:
        for night in nights:
            for name, (lines, extra) in night:
                header = f"{CAMPAIGN_HEADER},note" if extra else CAMPAIGN_HEADER
                land(landing, name, [f"{line},n" if extra else line for line in lines], header=header)
            ingest_entity(con, CAMPAIGNS, landing, LOADED_AT)
        assert published_tables(con, CAMPAIGNS) == full_ingest(landing, CAMPAIGNS)


OPP_HEADER = "opportunity_id,account_id,opportunity_type,created_at,close_date,stage,is_closed,is_won,amount,currency"


def test_opportunity_snapshots_night_by_night_equal_a_full_ingest(con, tmp_path):
    def opp(opp_id: str, stage: str, amount: str) -> str:
        return f"{opp_id},a1,new_business,2026-01-05,2026-03-01,{stage},false,false,{amount},USD"

    folder = "crm/opportunities"
    land(tmp_path, "2026-01-31.csv", [opp("o1", "Discovery", "100"), opp("o2", "Proposal", "5")], OPP_HEADER, folder)
    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    land(tmp_path, "2026-02-28.csv", [opp("o1", "Proposal", "150"), opp("o1", "Proposal", "150")], OPP_HEADER, folder)
    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)
    land(tmp_path, "2026-02-14.csv", [opp("o1", "Discovery", "120"), opp("o3", "Discovery", "x")], OPP_HEADER, folder)
    ingest_entity(con, OPPORTUNITIES, tmp_path, LOADED_AT)

    assert rows(
        con,
        "SELECT opportunity_id, amount, _extract_date, _source_row FROM raw.crm__opportunities_snapshots ORDER BY ALL",
    ) == [
        ("o1", 100, dt.date(2026, 1, 31), 1),
        ("o1", 120, dt.date(2026, 2, 14), 1),
        ("o1", 150, dt.date(2026, 2, 28), 1),
        ("o2", 5, dt.date(2026, 1, 31), 2),
    ]
    assert published_tables(con, OPPORTUNITIES) == full_ingest(tmp_path, OPPORTUNITIES)


def test_a_new_last_file_supersedes_keys_and_identical_null_key_rows_of_older_files(con, tmp_path):
    land(tmp_path, "2026-11-25.csv", [",nameless,events,2026-01-01,", "c1,A,events,2026-01-01,", "c2,B,ads,bad,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)
    land(tmp_path, "2026-11-26.csv", [",nameless,events,2026-01-01,", "c1,A2,events,2026-01-01,"])
    ingest_entity(con, CAMPAIGNS, tmp_path, LOADED_AT)

    older, newer = f"{FOLDER}/2026-11-25.csv", f"{FOLDER}/2026-11-26.csv"
    assert rows(con, "SELECT campaign_id, campaign_name, _source_file FROM raw.crm__campaigns ORDER BY 2") == [
        ("c1", "A2", newer),
        (None, "nameless", newer),
    ]
    assert rows(
        con,
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, duplicates_dropped "
        "FROM raw._ingest_log ORDER BY 1",
    ) == [(older, 3, 0, 1, 2), (newer, 2, 2, 0, 0)]
    assert published_tables(con, CAMPAIGNS) == full_ingest(tmp_path, CAMPAIGNS)
