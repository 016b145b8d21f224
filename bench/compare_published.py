"""Did any published number change? Two `published.duckdb` files compared cell by cell.

    python bench/compare_published.py BASELINE CANDIDATE

Every table of the `marts` schema in either file is compared: the same tables, the same
columns, the same rows (order-insensitive) and every cell equal. Rows are matched on the
mart's grain (its dbt unique test, read from the manifest) when that grain is unique in
both files, else both sides are sorted on the whole row and compared in order. Numbers
(whatever their type: BIGINT, HUGEINT, DOUBLE, DECIMAL) are equal when
|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol), rel_tol 1e-9; the abs_tol of 1e-9 (a
billionth of a currency unit) only lets floating-point noise around 0 (a sum that nets
to zero) compare equal. Other values must be identical, null equals only null.

Column types are reported apart (HUGEINT -> BIGINT is the change issue 12 expects) and
do not fail the comparison; any value difference, missing table, column or row exits 1.

Ignored, because they differ on every run whatever the code (--ignore adds more):
- marts.publication: published_at, run_id
- marts.check_results: run_id, evaluated_at
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import duckdb

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

SCHEMA = "marts"
REL_TOL = 1e-9
ABS_TOL = 1e-9
RUN_DEPENDENT: dict[str, tuple[str, ...]] = {
    "publication": ("published_at", "run_id", "files_read", "files_skipped"),  # what the run did, not the data
    "check_results": ("run_id", "evaluated_at"),
}
EXAMPLES = 5


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    types: dict[str, str]
    rows: list[tuple[Any, ...]]


@dataclass
class Comparison:
    value_differences: list[str] = field(default_factory=list)
    type_differences: list[str] = field(default_factory=list)
    rows_compared: dict[str, int] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.value_differences


def read_tables(database: Path) -> dict[str, Table]:
    """Every table of the `marts` schema: its columns, their DuckDB types and its rows."""
    with contextlib.closing(duckdb.connect(str(database), read_only=True)) as con:
        described = con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = ? order by table_name, ordinal_position",
            [SCHEMA],
        ).fetchall()
        types: dict[str, dict[str, str]] = {}
        for table, column, data_type in described:
            types.setdefault(table, {})[column] = data_type
        return {
            table: Table(tuple(cols), cols, con.execute(f'select * from {SCHEMA}."{table}"').fetchall())
            for table, cols in types.items()
        }


def manifest_grains() -> dict[str, tuple[str, ...]]:
    """Each mart's grain from the dbt manifest; none when the manifest cannot be built."""
    from orchestration.lib import dbt_manifest

    try:
        return {name: mart.grain for name, mart in dbt_manifest.marts().items() if mart.grain}
    except dbt_manifest.ManifestError as error:
        click.echo(f"no grains from the dbt manifest, rows are matched by sorting: {error}", err=True)
        return {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def same_value(a: Any, b: Any, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if _is_number(a) and _is_number(b):
        x, y = float(a), float(b)
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        if isinstance(a, int) and isinstance(b, int):  # exactly: a float cannot hold every HUGEINT
            return a == b
        return math.isclose(x, y, rel_tol=rel_tol, abs_tol=abs_tol)
    return type(a) is type(b) and a == b


def _sort_key(value: Any) -> tuple[Any, ...]:
    """Orders any cell: nulls first, numbers by value (rounded to 9 significant digits, so
    floating-point noise does not reorder rows), everything else by type, then text."""
    if value is None:
        return (0,)
    if _is_number(value):
        x = float(value)
        return (1, 0.0 if x == 0 or math.isnan(x) else float(f"{x:.9g}"))
    if isinstance(value, dt.date | dt.datetime):
        return (2, value.isoformat())
    return (3, type(value).__name__, str(value))


def _pair_rows(
    table: str, baseline: Table, candidate: Table, columns: Sequence[str], grain: Sequence[str]
) -> tuple[list[tuple[str, dict[str, Any], dict[str, Any]]], list[str]]:
    """The matched (key, baseline row, candidate row) pairs, and rows present on one side only."""
    base_rows = [dict(zip(baseline.columns, row, strict=True)) for row in baseline.rows]
    cand_rows = [dict(zip(candidate.columns, row, strict=True)) for row in candidate.rows]
    keyed = bool(grain) and all(c in columns for c in grain)
    if keyed:
        base_by_key = {tuple(r[c] for c in grain): r for r in base_rows}
        cand_by_key = {tuple(r[c] for c in grain): r for r in cand_rows}
        keyed = len(base_by_key) == len(base_rows) and len(cand_by_key) == len(cand_rows)
    if keyed:
        names = ", ".join(grain)
        unmatched = [
            f"{table}: row ({names}) = {key} only in {side}"
            for side, mine, theirs in (("baseline", base_by_key, cand_by_key), ("candidate", cand_by_key, base_by_key))
            for key in sorted(set(mine) - set(theirs), key=lambda k: tuple(map(_sort_key, k)))
        ]
        pairs = [
            (f"({names}) = {key}", row, cand_by_key[key])
            for key, row in base_by_key.items() if key in cand_by_key
        ]
        return pairs, unmatched

    def row_key(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(_sort_key(row[c]) for c in columns)

    base_sorted, cand_sorted = sorted(base_rows, key=row_key), sorted(cand_rows, key=row_key)
    unmatched = []
    if len(base_sorted) != len(cand_sorted):
        unmatched.append(f"{table}: {len(base_sorted)} rows in baseline, {len(cand_sorted)} in candidate")
    pairs = [
        (f"row {i} in sorted order", b, c)
        for i, (b, c) in enumerate(zip(base_sorted, cand_sorted, strict=False), start=1)
    ]
    return pairs, unmatched


def compare_table(
    table: str,
    baseline: Table,
    candidate: Table,
    grain: Sequence[str] = (),
    ignored: Iterable[str] = (),
    rel_tol: float = REL_TOL,
    abs_tol: float = ABS_TOL,
    examples: int = EXAMPLES,
) -> tuple[list[str], list[str]]:
    """(value differences, type differences) of one table."""
    ignored = set(ignored)
    values: list[str] = []
    for side, mine, theirs in (("baseline", baseline, candidate), ("candidate", candidate, baseline)):
        missing = [c for c in mine.columns if c not in theirs.columns and c not in ignored]
        if missing:
            values.append(f"{table}: column(s) {', '.join(missing)} only in {side}")
    columns = [c for c in baseline.columns if c in candidate.columns and c not in ignored]
    types = [
        f"{table}.{c}: {baseline.types[c]} -> {candidate.types[c]}"
        for c in columns
        if baseline.types[c] != candidate.types[c]
    ]
    pairs, unmatched = _pair_rows(table, baseline, candidate, columns, grain)
    values += unmatched[:examples]
    if len(unmatched) > examples:
        values.append(f"{table}: ... {len(unmatched) - examples} more rows on one side only")
    for column in columns:
        differing = [
            (key, b[column], c[column]) for key, b, c in pairs if not same_value(b[column], c[column], rel_tol, abs_tol)
        ]
        if differing:
            shown = "; ".join(f"{key}: {b!r} -> {c!r}" for key, b, c in differing[:examples])
            values.append(f"{table}.{column}: {len(differing)} of {len(pairs)} cells differ, e.g. {shown}")
    return values, types


def compare_files(
    baseline: Path,
    candidate: Path,
    grains: Mapping[str, Sequence[str]] | None = None,
    ignore: Iterable[str] = (),
    rel_tol: float = REL_TOL,
    abs_tol: float = ABS_TOL,
    examples: int = EXAMPLES,
) -> Comparison:
    """Compare every `marts` table of two published files. `ignore` names whole tables
    (`check_results`) or columns (`publication.rows_loaded`), added to RUN_DEPENDENT."""
    grains = manifest_grains() if grains is None else grains
    ignored_tables = {name for name in ignore if "." not in name}
    ignored_columns: dict[str, set[str]] = {t: set(cols) for t, cols in RUN_DEPENDENT.items()}
    for name in ignore:
        if "." in name:
            table, column = name.split(".", 1)
            ignored_columns.setdefault(table, set()).add(column)
    base_tables, cand_tables = read_tables(baseline), read_tables(candidate)
    result = Comparison()
    for table in sorted((set(base_tables) | set(cand_tables)) - ignored_tables):
        if table not in cand_tables or table not in base_tables:
            side = "baseline" if table in base_tables else "candidate"
            result.value_differences.append(f"{SCHEMA}.{table} only in {side}")
            continue
        values, types = compare_table(
            table, base_tables[table], cand_tables[table], grains.get(table, ()),
            ignored_columns.get(table, ()), rel_tol, abs_tol, examples,
        )  # fmt: skip
        result.value_differences += values
        result.type_differences += types
        result.rows_compared[table] = len(base_tables[table].rows)
    return result


@click.command(help=__doc__.split("\n\n")[0])
@click.argument("baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ignore", multiple=True, metavar="TABLE[.COLUMN]",
    help="A further table or column to leave out (repeatable), e.g. check_results or publication.checks_passed.",
)  # fmt: skip
@click.option("--rel-tol", type=float, default=REL_TOL, show_default=True, help="Relative tolerance for numbers.")
@click.option(
    "--abs-tol", type=float, default=ABS_TOL, show_default=True,
    help="Absolute tolerance for numbers near 0 (floating-point noise of sums that net to zero).",
)  # fmt: skip
@click.option("--examples", type=int, default=EXAMPLES, show_default=True, help="Differing cells shown per column.")
def main(
    baseline: Path, candidate: Path, ignore: tuple[str, ...], rel_tol: float, abs_tol: float, examples: int
) -> None:
    result = compare_files(baseline, candidate, ignore=ignore, rel_tol=rel_tol, abs_tol=abs_tol, examples=examples)
    for table, rows in result.rows_compared.items():
        click.echo(f"{SCHEMA}.{table}: {rows} rows")
    click.echo(f"\nType differences ({len(result.type_differences)}; reported, not failing):")
    for line in result.type_differences:
        click.echo(f"  {line}")
    click.echo(f"\nValue differences ({len(result.value_differences)}):")
    for line in result.value_differences:
        click.echo(f"  {line}")
    click.echo("\nEQUAL: every published cell is the same." if result.equal else "\nNOT EQUAL")
    sys.exit(0 if result.equal else 1)


if __name__ == "__main__":
    main()
