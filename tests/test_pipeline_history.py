"""Pipeline history (opportunity_history, pipeline_snapshots, pipeline_movements) over a
small hand-made CRM whose extracts and numbers are worked out below (as_of_date
2026-03-15; EUR converts at 1.10 from 2026-01-01, 1.20 from 2026-02-01, 1.25 from
2026-03-01; accounts A1 Enterprise, A2 without segment -> Unknown).

Extracts (file name -> extract date):
  f1 2026-01-10.csv   f2 2026-01-31.csv   f3a 2026-02-20.csv   f3b 2026-02-20T1800.csv
  f4 2026-02-28.csv   f5 manual_fix.csv (no date: as_of_date 2026-03-15)
  f6 2026-03-20.csv   (after as_of_date: ignored)
Snapshot dates 01-31, 02-28, 03-15; waterfall months Feb (P 01-31) and Mar (P 02-28);
January's P (12-31) is before the earliest extract (01-10).

Deals (USD unless said; new_business on A1 unless said):
  W  created and won in Feb: f3a Proposal 100; f4 Closed Won 120.
     Feb: added 120, won 120.
  R  reopened after lost: f1 Demo 200; f2..f4 Closed Lost 200; f5 Negotiation 250.
     Feb: closed at P and E, in no column. Mar: added 250, ending 250.
  C  amount and currency change: f1, f2 Qualification 1000 EUR; f4 1100 EUR;
     f5 1200 USD; f6 9999 (ignored).
     Feb: starting 1000x1.10 = 1100, fx 1000x1.20 - 1100 = 100,
          increased (1100 - 1000) x 1.20 = 120, ending 1320.
     Mar: starting 1320, fx 1100x1.25 - 1320 = 55, decreased 1200 - 1375 = -175, ending 1200.
  S  slipped, then missing from f5 (kept): f1..f3b Negotiation 500 close 02-15;
     f4 close 03-20. Feb: slipped (P < 02-15 <= E, then 03-20 > E), 500.
     Mar: 03-20 > E (03-15): not slipped; open 500 at both ends.
  Q  pulled in (expansion): f1..f3b Proposal 300 close 04-30; f4 close 02-26
     (overdue on 02-28); f5 Closed Won 300 close 03-10. Mar: starting 300, won 300.
  L  lost in Mar: f1..f4 Proposal 80 close 03-01; f5 Closed Lost 80. Mar: lost 80.
  M  missing from every later extract (account A2, Unknown): only f1, Prospecting
     (Discovery) 400 close 01-20: open and overdue on every snapshot date.
  D  two extracts on 02-20: f3a Discovery Call 50, f3b Demo 60 (the greater file name,
     `2026-02-20T1800.csv`, wins), f4 and f5 Demo 60. Feb: added 60.
  X  only in f6 (after as_of_date): nowhere.

Waterfall (Enterprise, new_business):
  Feb: starting 1100+500+80 = 1680, fx 100, added 120+60 = 180, increased 120, won 120,
       ending 1320+500+80+60 = 1960 (1680+100+180+120-120).
  Mar: starting 1960, fx 55, added 250, decreased -175, lost 80,
       ending 1200+500+60+250 = 2010 (1960+55+250-175-80).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support.dbt_fixtures import assert_row_values, build_fixture, dbt_build, query

AS_OF = "2026-03-15"
SELECT = ("+marts.pipeline +pipeline_by_stage +pipeline_movements_monthly +assert_pipeline_movements_identity "
          "+assert_every_amount_converts")
FILES = {
    "f1": "2026-01-10.csv",
    "f2": "2026-01-31.csv",
    "f3a": "2026-02-20.csv",
    "f3b": "2026-02-20T1800.csv",
    "f4": "2026-02-28.csv",
    "f5": "manual_fix.csv",
    "f6": "2026-03-20.csv",
}


def _row(file, oid, stage, amount, close, *, created, currency="USD", account="A1", kind="new_business", owner="u1"):
    name = FILES[file]
    closed = stage.startswith("Closed")
    return {
        "opportunity_id": oid,
        "account_id": account,
        "opportunity_type": kind,
        "created_at": created,
        "close_date": close,
        "stage": stage,
        "is_closed": closed,
        "is_won": stage == "Closed Won",
        "amount": amount,
        "currency": currency,
        "owner_id": owner,
        "_source_file": f"crm/opportunities/{name}",
        "_extract_date": name[:10] if name[:4].isdigit() else None,
        "_source_row": 1,
    }


def _deal(oid, created, versions_by_file, **kwargs):
    return [_row(f, oid, *values, created=created, **kwargs) for f, values in versions_by_file.items()]


SNAPSHOTS = [
    *_deal("W", "2026-02-03", {"f3a": ("Proposal", 100, "2026-02-25"), "f3b": ("Proposal", 100, "2026-02-25"),
                               "f4": ("Closed Won", 120, "2026-02-25"), "f5": ("Closed Won", 120, "2026-02-25")}),
    *_deal("R", "2026-01-05", {"f1": ("Demo", 200, "2026-01-25"), "f2": ("Closed Lost", 200, "2026-01-28"),
                               "f3a": ("Closed Lost", 200, "2026-01-28"), "f4": ("Closed Lost", 200, "2026-01-28"),
                               "f5": ("Negotiation", 250, "2026-03-31")}),
    *_deal("C", "2025-12-15", {"f1": ("Qualification", 1000, "2026-04-30"),
                               "f2": ("Qualification", 1000, "2026-04-30"),
                               "f4": ("Qualification", 1100, "2026-04-30")}, currency="EUR"),
    *_deal("C", "2025-12-15", {"f5": ("Qualification", 1200, "2026-04-30"),
                               "f6": ("Qualification", 9999, "2026-04-30")}),
    *_deal("S", "2026-01-02", {"f1": ("Negotiation", 500, "2026-02-15"), "f2": ("Negotiation", 500, "2026-02-15"),
                               "f3b": ("Negotiation", 500, "2026-02-15"), "f4": ("Negotiation", 500, "2026-03-20")}),
    *_deal("Q", "2026-01-03", {"f1": ("Proposal", 300, "2026-04-30"), "f3a": ("Proposal", 300, "2026-04-30"),
                               "f4": ("Proposal", 300, "2026-02-26"), "f5": ("Closed Won", 300, "2026-03-10")},
           kind="expansion"),
    *_deal("L", "2026-01-04", {"f1": ("Proposal", 80, "2026-03-01"), "f4": ("Proposal", 80, "2026-03-01"),
                               "f5": ("Closed Lost", 80, "2026-03-05")}),
    *_deal("M", "2026-01-08", {"f1": ("Prospecting", 400, "2026-01-20")}, account="A2"),
    *_deal("D", "2026-02-10", {"f3a": ("Discovery Call", 50, "2026-03-31"), "f3b": ("Demo", 60, "2026-03-31"),
                               "f4": ("Demo", 60, "2026-03-31"), "f5": ("Demo", 60, "2026-03-31")}),
    *_deal("X", "2026-03-01", {"f6": ("Proposal", 700, "2026-05-01")}),
]

ROWS = {
    "crm__accounts": [
        {"account_id": "A1", "account_name": "One", "segment": "Enterprise", "created_at": "2025-01-01"},
        {"account_id": "A2", "account_name": "Two", "created_at": "2025-01-01"},
    ],
    "finance__fx_rates": [
        {"rate_date": "2026-01-01", "currency": "EUR", "rate_to_reporting": 1.10},
        {"rate_date": "2026-02-01", "currency": "EUR", "rate_to_reporting": 1.20},
        {"rate_date": "2026-03-01", "currency": "EUR", "rate_to_reporting": 1.25},
    ],
    "crm__opportunities_snapshots": SNAPSHOTS,
}

D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "pipeline_history", ROWS, SELECT, {"as_of_date": AS_OF})


# ---- opportunity_history ------------------------------------------------------------

HISTORY_COLUMNS = ["valid_to", "stage", "is_closed", "amount", "currency", "close_date", "funnel_stage",
                   "amount_reporting"]  # fmt: skip


@pytest.mark.parametrize(
    ("opportunity", "expected"),
    [
        # reopened after lost: three versions; f3a and f4 repeat the lost one
        ("R", {"2026-01-10": ("2026-01-31", "Demo", False, 200, "USD", "2026-01-25", "Solution", 200),
               "2026-01-31": ("2026-03-15", "Closed Lost", True, 200, "USD", "2026-01-28", "Lost", 200),
               "2026-03-15": (None, "Negotiation", False, 250, "USD", "2026-03-31", "Negotiation", 250)}),
        # amount, then currency change; each version converts at its valid_from; f6 ignored
        ("C", {"2026-01-10": ("2026-02-28", "Qualification", False, 1000, "EUR", "2026-04-30", "Qualification", 1100),
               "2026-02-28": ("2026-03-15", "Qualification", False, 1100, "EUR", "2026-04-30", "Qualification", 1320),
               "2026-03-15": (None, "Qualification", False, 1200, "USD", "2026-04-30", "Qualification", 1200)}),
        # created and won within February
        ("W", {"2026-02-20": ("2026-02-28", "Proposal", False, 100, "USD", "2026-02-25", "Proposal", 100),
               "2026-02-28": (None, "Closed Won", True, 120, "USD", "2026-02-25", "Won", 120)}),
        # slipped: the close date change is a version
        ("S", {"2026-01-10": ("2026-02-28", "Negotiation", False, 500, "USD", "2026-02-15", "Negotiation", 500),
               "2026-02-28": (None, "Negotiation", False, 500, "USD", "2026-03-20", "Negotiation", 500)}),
        # two extracts on 02-20: the greater file name (T1800) wins, and nothing changes after
        ("D", {"2026-02-20": (None, "Demo", False, 60, "USD", "2026-03-31", "Solution", 60)}),
        # missing from every later extract: one version, still current
        ("M", {"2026-01-10": (None, "Prospecting", False, 400, "USD", "2026-01-20", "Discovery", 400)}),
    ],
)
def test_opportunity_versions(db, opportunity, expected):
    rows = query(db, "select * from marts.opportunity_history where opportunity_id = ? order by valid_from",
                 [opportunity])  # fmt: skip
    assert [str(r["valid_from"]) for r in rows] == list(expected)
    for row, values in zip(rows, expected.values(), strict=True):
        hand = [D(v) if isinstance(v, str) and v[:2] == "20" else v for v in values]
        assert_row_values(row, HISTORY_COLUMNS, hand)


def test_an_extract_dated_after_as_of_date_is_ignored(db):
    assert query(db, "select * from marts.opportunity_history where opportunity_id = 'X'") == []
    assert query(db, "select max(valid_from) as last from marts.opportunity_history")[0]["last"] == D(AS_OF)


# ---- pipeline_snapshots -------------------------------------------------------------

SNAPSHOT_COLUMNS = ["stage_order", "open_opportunities", "open_amount", "overdue_opportunities", "overdue_amount"]


def test_pipeline_snapshots(db):
    rows = query(db, "select * from marts.pipeline_snapshots")
    got = {(str(r["snapshot_date"]), r["segment"], r["opportunity_type"], r["funnel_stage"]): r for r in rows}
    expected = {
        # 01-31 (EUR 1.10): C, S, L, Q, M open; R lost
        ("2026-01-31", "Enterprise", "new_business", "Qualification"): (2, 1, 1100, 0, 0),
        ("2026-01-31", "Enterprise", "new_business", "Negotiation"): (5, 1, 500, 0, 0),
        ("2026-01-31", "Enterprise", "new_business", "Proposal"): (4, 1, 80, 0, 0),
        ("2026-01-31", "Enterprise", "expansion", "Proposal"): (4, 1, 300, 0, 0),
        ("2026-01-31", "Unknown", "new_business", "Discovery"): (1, 1, 400, 1, 400),
        # 02-28 (EUR 1.20): W won; D added; Q pulled in to 02-26: overdue
        ("2026-02-28", "Enterprise", "new_business", "Qualification"): (2, 1, 1320, 0, 0),
        ("2026-02-28", "Enterprise", "new_business", "Negotiation"): (5, 1, 500, 0, 0),
        ("2026-02-28", "Enterprise", "new_business", "Proposal"): (4, 1, 80, 0, 0),
        ("2026-02-28", "Enterprise", "new_business", "Solution"): (3, 1, 60, 0, 0),
        ("2026-02-28", "Enterprise", "expansion", "Proposal"): (4, 1, 300, 1, 300),
        ("2026-02-28", "Unknown", "new_business", "Discovery"): (1, 1, 400, 1, 400),
        # 03-15 (as_of_date): R reopened beside S (kept though missing from f5); Q won, L lost
        ("2026-03-15", "Enterprise", "new_business", "Qualification"): (2, 1, 1200, 0, 0),
        ("2026-03-15", "Enterprise", "new_business", "Negotiation"): (5, 2, 750, 0, 0),
        ("2026-03-15", "Enterprise", "new_business", "Solution"): (3, 1, 60, 0, 0),
        ("2026-03-15", "Unknown", "new_business", "Discovery"): (1, 1, 400, 1, 400),
    }
    assert sorted(got) == sorted(expected)
    for key, values in expected.items():
        assert_row_values(got[key], SNAPSHOT_COLUMNS, values)


# ---- pipeline_movements -------------------------------------------------------------

MOVEMENT_COLUMNS = [
    "starting_amount", "fx_revaluation", "added_amount", "increased_amount", "decreased_amount", "won_amount",
    "lost_amount", "ending_amount", "slipped_amount", "starting_opportunities", "added_opportunities",
    "won_opportunities", "lost_opportunities", "ending_opportunities", "slipped_opportunities",
]  # fmt: skip


def test_pipeline_movements(db):
    rows = query(db, "select * from marts.pipeline_movements")
    got = {(str(r["month"]), r["segment"], r["opportunity_type"]): r for r in rows}
    expected = {
        ("2026-02-01", "Enterprise", "new_business"): (1680, 100, 180, 120, 0, 120, 0, 1960, 500, 3, 2, 1, 0, 4, 1),
        ("2026-02-01", "Enterprise", "expansion"): (300, 0, 0, 0, 0, 0, 0, 300, 0, 1, 0, 0, 0, 1, 0),
        ("2026-02-01", "Unknown", "new_business"): (400, 0, 0, 0, 0, 0, 0, 400, 0, 1, 0, 0, 0, 1, 0),
        ("2026-03-01", "Enterprise", "new_business"): (1960, 55, 250, 0, -175, 0, 80, 2010, 0, 4, 1, 0, 1, 4, 0),
        ("2026-03-01", "Enterprise", "expansion"): (300, 0, 0, 0, 0, 300, 0, 0, 0, 1, 0, 1, 0, 0, 0),
        ("2026-03-01", "Unknown", "new_business"): (400, 0, 0, 0, 0, 0, 0, 400, 0, 1, 0, 0, 0, 1, 0),
    }
    assert sorted(got) == sorted(expected)
    for key, values in expected.items():
        assert_row_values(got[key], MOVEMENT_COLUMNS, values)
    assert (got[("2026-03-01", "Enterprise", "new_business")]["starting_date"],
            got[("2026-03-01", "Enterprise", "new_business")]["ending_date"]) == (D("2026-02-28"), D(AS_OF))  # fmt: skip


def test_the_whole_pipelines_waterfall(db):
    rows = {str(r["month"]): r for r in query(db, "select * from marts.pipeline_movements_monthly")}
    columns = ["is_complete", *MOVEMENT_COLUMNS]
    # Feb: (Enterprise, new_business) + Q 300 + M 400; Mar: 2660 + 55 + 250 - 175 - 300 - 80 = 2410
    assert_row_values(rows["2026-02-01"], columns,
                      (True, 2380, 100, 180, 120, 0, 120, 0, 2660, 500, 5, 2, 1, 0, 6, 1))  # fmt: skip
    assert_row_values(rows["2026-03-01"], columns,
                      (False, 2660, 55, 250, 0, -175, 300, 80, 2410, 0, 6, 1, 1, 1, 5, 0))  # fmt: skip
    assert list(rows) == ["2026-02-01", "2026-03-01"]


def test_the_pipeline_by_stage(db):
    rows = query(db, "select * from marts.pipeline_by_stage where snapshot_date = date '2026-02-28' "
                     "order by stage_order")  # fmt: skip
    assert [(r["funnel_stage"], r["open_opportunities"], r["open_amount"], r["overdue_amount"]) for r in rows] == [
        ("Discovery", 1, 400, 400), ("Qualification", 1, 1320, 0), ("Solution", 1, 60, 0),
        ("Proposal", 2, 380, 300), ("Negotiation", 1, 500, 0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("month", "opportunity", "flags"),
    [
        # (open at P, added, won, lost, open at E, slipped)
        ("2026-02-01", "W", (False, True, True, False, False, False)),  # created and won within the month
        ("2026-03-01", "R", (False, True, False, False, True, False)),  # reopened after lost
        ("2026-02-01", "S", (True, False, False, False, True, True)),  # slipped past the month end
        ("2026-03-01", "S", (True, False, False, False, True, False)),  # 03-20 is after E: not slipped
        ("2026-02-01", "Q", (True, False, False, False, True, False)),  # pulled in: not slipped
    ],
)
def test_each_deal_counts_where_the_rules_say(db, month, opportunity, flags):
    rows = query(
        db,
        "select is_open_start, is_added, is_won, is_lost, is_open_end, is_slipped "
        "from intermediate.int_opportunity_movements where month = ? and opportunity_id = ?",
        [month, opportunity],
    )
    assert [tuple(r.values()) for r in rows] == [flags]


def test_a_deal_closed_at_both_ends_counts_nowhere(db):
    rows = query(db, "select month from intermediate.int_opportunity_movements where opportunity_id = 'R'")
    assert [str(r["month"]) for r in rows] == ["2026-03-01"]


def test_an_amount_without_a_rate_blocks(tmp_path_factory):
    gbp = _row("f4", "G", "Proposal", 10, "2026-03-31", created="2026-02-01", currency="GBP")
    rows = {**ROWS, "crm__opportunities_snapshots": [*SNAPSHOTS, gbp]}
    with pytest.raises(AssertionError, match="assert_every_amount_converts"):
        build_fixture(tmp_path_factory, "pipeline_no_rate", rows, SELECT, {"as_of_date": AS_OF})


def test_the_identity_test_catches_a_broken_waterfall(db, tmp_path):
    import shutil
    from contextlib import closing

    import duckdb

    broken = tmp_path / "broken.duckdb"
    shutil.copy(db, broken)
    with closing(duckdb.connect(str(broken))) as con:
        con.execute("update marts.pipeline_movements set ending_amount = ending_amount + 1 "
                    "where month = date '2026-02-01' and opportunity_type = 'expansion'")  # fmt: skip
    with pytest.raises(AssertionError, match="assert_pipeline_movements_identity"):
        dbt_build(broken, tmp_path / "target", select="assert_pipeline_movements_identity",
                  vars={"as_of_date": AS_OF}, command="test")  # fmt: skip
