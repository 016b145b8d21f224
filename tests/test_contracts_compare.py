"""bench/compare_published.py: two hand-made published files, compared cell by cell."""

import datetime as dt
import subprocess
import sys
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bench.compare_published import compare_files, same_value

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "compare_published.py"
GRAINS = {"renewals": ("expiry_month",)}
D = dt.date.fromisoformat


def _published(path: Path, renewals: list[tuple], counts_type: str = "bigint", publication_run: str = "run-a") -> Path:
    with closing(duckdb.connect(str(path))) as con:
        con.execute("create schema marts")
        con.execute(
            f"create table marts.renewals (expiry_month date, accounts_renewed {counts_type}, renewed_arr double, "
            "is_mature boolean)"
        )
        con.executemany("insert into marts.renewals values (?, ?, ?, ?)", renewals)
        # no grain for this one: its rows are matched by sorting
        con.execute("create table marts.notes (note varchar, amount double)")
        con.executemany("insert into marts.notes values (?, ?)", [("b", 2.0), ("a", 1.0)])
        con.execute(
            "create table marts.publication (published_at timestamp, run_id varchar, rows_loaded bigint)"
        )
        con.execute(
            "insert into marts.publication values (?, ?, 100)", [dt.datetime.now(), publication_run]
        )
    return path


ROWS = [
    (D("2026-08-01"), 3, 2900.0, True),
    (D("2026-09-01"), 6, 6000.25, True),
    (D("2026-11-01"), 1, 0.0, False),
]


def test_the_same_cells_in_another_order_and_type_are_equal(tmp_path):
    baseline = _published(tmp_path / "a.duckdb", ROWS, counts_type="hugeint", publication_run="run-a")
    candidate = _published(tmp_path / "b.duckdb", list(reversed(ROWS)), publication_run="run-b")
    result = compare_files(baseline, candidate, grains=GRAINS)
    assert result.equal, result.value_differences
    # the type change is reported on its own; published_at and run_id are not compared
    assert result.type_differences == ["renewals.accounts_renewed: HUGEINT -> BIGINT"]
    assert result.rows_compared == {"notes": 2, "publication": 1, "renewals": 3}


def test_a_changed_amount_names_the_table_row_and_column(tmp_path):
    changed = [ROWS[0], (D("2026-09-01"), 6, 6000.25 * (1 + 1e-7), True), ROWS[2]]
    result = compare_files(_published(tmp_path / "a.duckdb", ROWS), _published(tmp_path / "b.duckdb", changed),
                           grains=GRAINS)  # fmt: skip
    assert not result.equal
    (difference,) = result.value_differences
    assert difference.startswith("renewals.renewed_arr: 1 of 3 cells differ")
    assert "(expiry_month) = (datetime.date(2026, 9, 1),)" in difference


def test_missing_rows_columns_and_tables_are_differences(tmp_path):
    baseline = _published(tmp_path / "a.duckdb", ROWS)
    candidate = _published(tmp_path / "b.duckdb", ROWS[:2])
    with closing(duckdb.connect(str(candidate))) as con:
        con.execute("alter table marts.renewals drop column is_mature")
        con.execute("drop table marts.notes")
    result = compare_files(baseline, candidate, grains=GRAINS)
    assert result.value_differences == [
        "marts.notes only in baseline",
        "renewals: column(s) is_mature only in baseline",
        "renewals: row (expiry_month) = (datetime.date(2026, 11, 1),) only in baseline",
    ]


def test_a_further_column_can_be_ignored(tmp_path):
    baseline = _published(tmp_path / "a.duckdb", ROWS)
    candidate = _published(tmp_path / "b.duckdb", ROWS)
    with closing(duckdb.connect(str(candidate))) as con:
        con.execute("update marts.publication set rows_loaded = 99")
    assert compare_files(baseline, candidate, grains=GRAINS).value_differences == [
        "publication.rows_loaded: 1 of 1 cells differ, e.g. row 1 in sorted order: 100 -> 99"
    ]
    assert compare_files(baseline, candidate, grains=GRAINS, ignore=["publication.rows_loaded"]).equal


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1.0, 1.0 + 1e-12, True),  # 1e-12 relative: floating-point noise
        (1000.0, 1000.0 * (1 + 2e-9), False),  # 2e-9 relative
        (0.0, 5.6e-17, True),  # a sum netting to zero
        (0.0, 1e-6, False),
        (3, 3.0, True),  # HUGEINT/BIGINT against DOUBLE
        (2**70, 2**70 + 1, False),  # integers compare exactly
        (Decimal("2.50"), 2.5 * (1 + 1e-12), True),  # DECIMAL against DOUBLE
        (Decimal("2.50"), Decimal("2.51"), False),
        (None, None, True),
        (None, 0, False),
        ("a", "a", True),
        (True, 1, False),  # a boolean is not a number
        (D("2026-01-01"), D("2026-01-01"), True),
    ],
)
def test_same_value(a, b, same):
    assert same_value(a, b) is same


def test_the_command_exits_non_zero_on_a_value_difference(tmp_path):
    baseline = _published(tmp_path / "a.duckdb", ROWS)
    candidate = _published(tmp_path / "b.duckdb", [ROWS[0], ROWS[1], (D("2026-11-01"), 2, 0.0, False)])
    run = subprocess.run([sys.executable, str(SCRIPT), str(baseline), str(candidate)], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "renewals.accounts_renewed: 1 of 3 cells differ" in run.stdout
    assert run.stdout.rstrip().endswith("NOT EQUAL")
    same = subprocess.run([sys.executable, str(SCRIPT), str(baseline), str(baseline)], capture_output=True, text=True)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "EQUAL: every published cell is the same." in same.stdout
