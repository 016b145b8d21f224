"""marts.opportunity_funnel (docs/metrics.md "Opportunity stage funnel") and the stage
mapping checks, over hand-made raw tables with the shipped default stage mapping:

    1 Discovery      <- Prospecting, Discovery Call
    2 Qualification  <- Qualification, Needs Analysis
    3 Solution       <- Demo
    4 Proposal       <- Proposal
    5 Negotiation    <- Negotiation          (then Closed Won / Closed Lost)

as_of_date is 2026-06-30. Expected numbers are worked out by hand below.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.support.dbt_fixtures import (
    assert_row_values,
    build_fixture,
    dbt_build,
    default_stage_mapping_rows,
    query,
    write_raw_tables,
)

AS_OF = "2026-06-30"
SELECT = "+opportunity_funnel +fct_opportunities"


def _opportunity(opportunity_id: str, created_at: str, stage: str, *, account_id: str = "B1",
                 opportunity_type: str = "new_business", close_date: str = "2026-09-30",
                 is_closed: bool = False, is_won: bool = False) -> dict:
    return {
        "opportunity_id": opportunity_id, "account_id": account_id,
        "opportunity_type": opportunity_type, "created_at": created_at,
        "close_date": close_date, "stage": stage, "is_closed": is_closed, "is_won": is_won,
        "amount": 100, "currency": "USD",
    }


def _history(opportunity_id: str, *entries: tuple[str, str]) -> list[dict]:
    return [{"opportunity_id": opportunity_id, "stage": s, "entered_at": t} for s, t in entries]


RAW = {
    "crm__accounts": [
        {"account_id": "B1", "account_name": "One", "segment": "SMB",
         "created_at": "2025-01-01"},
        {"account_id": "B2", "account_name": "Two", "segment": "Mid-Market",
         "created_at": "2025-01-01"},
        {"account_id": "B3", "account_name": "Three", "segment": None,
         "created_at": "2025-01-01"},
    ],
    "crm__opportunities": [
        # group (2026-03, SMB, new_business)
        _opportunity("P1", "2026-03-01", "Demo"),  # goes back a stage; highest 3
        _opportunity("P2", "2026-03-02", "Closed Won", close_date="2026-05-15",
                     is_closed=True, is_won=True),  # won, no history: every stage
        _opportunity("P3", "2026-03-02", "Closed Lost", close_date="2026-03-10",
                     is_closed=True),  # lost at the first stage
        _opportunity("P4", "2026-03-03", "Closed Won", close_date="2026-04-04",
                     is_closed=True, is_won=True),  # won through the alternate CRM names
        _opportunity("P5", "2026-03-04", "Proposal"),  # history after as_of_date: highest 2
        _opportunity("P6", "2026-03-05", "Needs Analysis"),  # no history: current stage, 2
        _opportunity("P7", "2026-03-05 10:00", "Qualification"),
        _opportunity("P8", "2026-03-10", "Closed Won", close_date="2026-03-31",
                     is_closed=True, is_won=True),
        # group (2026-04, Mid-Market, expansion): only the first stage entered
        _opportunity("P9", "2026-04-02", "Prospecting", account_id="B2",
                     opportunity_type="expansion"),
        # group (2026-04, Unknown, renewal): lost without history -> entered no stage
        _opportunity("P11", "2026-04-03", "Closed Lost", account_id="B3",
                     opportunity_type="renewal", close_date="2026-04-20", is_closed=True),
        # created after as_of_date: no group
        _opportunity("P10", "2026-07-02", "Prospecting"),
    ],
    "crm__opportunity_stage_history": [
        *_history("P1", ("Prospecting", "2026-03-01"), ("Qualification", "2026-03-05"),
                  ("Discovery Call", "2026-03-08"), ("Needs Analysis", "2026-03-12"),
                  ("Demo", "2026-03-20")),
        *_history("P3", ("Prospecting", "2026-03-02"), ("Closed Lost", "2026-03-10")),
        *_history("P4", ("Discovery Call", "2026-03-03"), ("Needs Analysis", "2026-03-05"),
                  ("Demo", "2026-03-09"), ("Proposal", "2026-03-19"),
                  ("Negotiation", "2026-03-25"), ("Closed Won", "2026-04-04")),
        *_history("P5", ("Prospecting", "2026-03-04"), ("Qualification", "2026-03-06"),
                  ("Proposal", "2026-07-05")),
        *_history("P7", ("Prospecting", "2026-03-05 10:00"), ("Qualification", "2026-03-13 23:00")),
        *_history("P8", ("Prospecting", "2026-03-10"), ("Qualification", "2026-03-12"),
                  ("Demo", "2026-03-15"), ("Proposal", "2026-03-16"),
                  ("Negotiation", "2026-03-20"), ("Closed Won", "2026-03-31")),
        *_history("P9", ("Prospecting", "2026-04-02")),
        *_history("P10", ("Prospecting", "2026-07-02")),
    ],
    "config__stage_mapping": default_stage_mapping_rows(),
}

STAGES = {1: "Discovery", 2: "Qualification", 3: "Solution", 4: "Proposal", 5: "Negotiation"}
COLUMNS = ["entered", "advanced", "conversion_rate", "won", "lost", "open", "median_days_to_next"]

# Highest stage in group (2026-03, SMB, new_business): P1 3, P2 5 (won), P3 1, P4 5 (won),
# P5 2, P6 2, P7 2, P8 5 (won). Outcomes: won P2 P4 P8; lost P3; open P1 P5 P6 P7.
# Days to next stage (first entries, UTC dates):
#   1->2: P1 4, P4 2, P5 2, P7 8, P8 2 -> 2,2,2,4,8 -> median 2 (odd)
#   2->3: P1 15, P4 4, P8 3           -> 3,4,15     -> median 4 (odd)
#   3->4: P4 10, P8 1                 -> median 5.5 (even)
#   4->5: P4 6, P8 4                  -> median 5
#   5->won: P4 10, P8 11              -> median 10.5
GROUP_SMB = {
    1: (8, 7, 7 / 8, 3, 1, 4, 2.0),
    2: (7, 4, 4 / 7, 3, 0, 4, 4.0),
    3: (4, 3, 3 / 4, 3, 0, 1, 5.5),
    4: (3, 3, 1.0, 3, 0, 0, 5.0),
    5: (3, 3, 1.0, 3, 0, 0, 10.5),
}
GROUP_MID_MARKET = {
    1: (1, 0, 0.0, 0, 0, 1, None),
    **{k: (0, 0, None, 0, 0, 0, None) for k in (2, 3, 4, 5)},
}
GROUP_UNKNOWN = {k: (0, 0, None, 0, 0, 0, None) for k in (1, 2, 3, 4, 5)}

EXPECTED = {
    **{("2026-03-01", "SMB", "new_business", k): v for k, v in GROUP_SMB.items()},
    **{("2026-04-01", "Mid-Market", "expansion", k): v for k, v in GROUP_MID_MARKET.items()},
    **{("2026-04-01", "Unknown", "renewal", k): v for k, v in GROUP_UNKNOWN.items()},
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture(tmp_path_factory, "opportunity_funnel", RAW, SELECT, {"as_of_date": AS_OF})


@pytest.fixture(scope="module")
def funnel(db: Path) -> dict[tuple, dict]:
    rows = query(db, "select *, cast(cohort_month as varchar) as cohort "
                     "from marts.opportunity_funnel")
    return {(r["cohort"], r["segment"], r["opportunity_type"], r["stage_order"]): r for r in rows}


def test_a_row_for_every_open_stage_of_every_group(funnel: dict) -> None:
    assert sorted(funnel) == sorted(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_stage_values(funnel: dict, key: tuple) -> None:
    row = funnel[key]
    assert row["stage"] == STAGES[key[3]]
    assert_row_values(row, COLUMNS, EXPECTED[key])


def test_highest_stage_in_fct_opportunities(db: Path) -> None:
    rows = {r["opportunity_id"]: r for r in query(db, "select * from marts.fct_opportunities")}
    assert "P10" not in rows
    got = {k: (r["highest_stage_order"], r["highest_funnel_stage"], r["outcome"])
           for k, r in rows.items()}
    assert got == {
        "P1": (3, "Solution", "open"),
        "P2": (5, "Negotiation", "won"),
        "P3": (1, "Discovery", "lost"),
        "P4": (5, "Negotiation", "won"),
        "P5": (2, "Qualification", "open"),  # Proposal entered only after as_of_date
        "P6": (2, "Qualification", "open"),
        "P7": (2, "Qualification", "open"),
        "P8": (5, "Negotiation", "won"),
        "P9": (1, "Discovery", "open"),
        "P11": (None, None, "lost"),
    }
    assert rows["P3"]["sales_cycle_days"] == 8
    assert rows["P11"]["segment"] == "Unknown"


BROKEN_MAPPING = [
    {"crm_stage": "Prospecting", "funnel_stage": "Discovery", "stage_order": 1, "outcome": "open"},
    {"crm_stage": "Discovery Call", "funnel_stage": "Discovery Call", "stage_order": 1,
     "outcome": "open"},
    {"crm_stage": "Demo", "funnel_stage": "Solution", "stage_order": 3, "outcome": "open"},
    {"crm_stage": "Proposal", "funnel_stage": "Proposal", "stage_order": None, "outcome": "open"},
    {"crm_stage": "Closed Won", "funnel_stage": "Won", "stage_order": 6, "outcome": "won"},
    {"crm_stage": "Closed Lost", "funnel_stage": "Lost", "stage_order": None, "outcome": "lost"},
]


def _failing_rows(db_path: Path, target: Path, test_name: str) -> set[tuple]:
    """Rows returned by a singular test, from its compiled SQL."""
    sql = (target / "compiled" / "gtm_warehouse" / "tests" / f"{test_name}.sql").read_text()
    with duckdb.connect(str(db_path), read_only=True) as con:
        return set(con.execute(sql).fetchall())


def test_unmapped_stages_and_a_broken_mapping_block_the_build(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    work = tmp_path_factory.mktemp("unmapped_stage")
    db_path = work / "work.duckdb"
    target = work / "target"
    write_raw_tables(db_path, {
        "crm__accounts": RAW["crm__accounts"],
        "crm__opportunities": [
            _opportunity("Q1", "2026-03-01", "Contract Sent"),
            _opportunity("Q2", "2026-03-01", "Contract Sent"),
            _opportunity("Q3", "2026-03-01", "Proposal"),
        ],
        "crm__opportunity_stage_history": [
            *_history("Q1", ("Contract Sent", "2026-03-02")),
            *_history("Q2", ("Needs Analysis", "2026-03-02")),
            *_history("Q3", ("Legal Review", "2026-03-02"), ("Needs Analysis", "2026-03-03")),
        ],
        "config__stage_mapping": BROKEN_MAPPING,
    })
    select = "+assert_every_crm_stage_mapped +assert_stage_mapping_is_consistent"
    with pytest.raises(AssertionError) as failure:
        dbt_build(db_path, target, select=select, vars={"as_of_date": AS_OF})
    assert "assert_every_crm_stage_mapped" in str(failure.value)
    assert "assert_stage_mapping_is_consistent" in str(failure.value)

    assert _failing_rows(db_path, target, "assert_every_crm_stage_mapped") == {
        ("Contract Sent", 2, "current stage and stage history"),
        ("Legal Review", 1, "stage history"),
        ("Needs Analysis", 2, "stage history"),
    }
    assert _failing_rows(db_path, target, "assert_stage_mapping_is_consistent") == {
        ("Proposal", "open stage without a stage_order >= 1"),
        ("Closed Won", "won stage with a stage_order"),
        ("1", "stage_order shared by open stages with different funnel_stage names"),
        ("2 orders up to 3", "open stage_orders do not run 1..n without a gap"),
    }
