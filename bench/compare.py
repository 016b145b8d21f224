"""Is a contender's output the published output? Same rows, same values.

Rows are matched on the mart's grain; every published column must be present. Numbers
are equal when |a - b| <= 1e-6 * max(|a|, |b|, 1) (relative, with a floor of a
millionth of a unit so that 0 and 1e-12 of floating-point noise compare equal); other
values (dates, text, booleans) must be identical; null equals only null.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

GRAINS: dict[str, tuple[str, ...]] = {
    "commercial_ratio": ("period_grain", "period_start"),
    "lead_funnel": ("cohort_month", "channel", "segment"),
    "mrr_movements": ("month",),
}
REL_TOL = 1e-6


def read_marts(database: Path, marts: tuple[str, ...] = tuple(GRAINS)) -> dict[str, pd.DataFrame]:
    with contextlib.closing(duckdb.connect(str(database), read_only=True)) as con:
        return {m: con.execute(f"select * from marts.{m}").df() for m in marts}


def _normalise(frame: pd.DataFrame, grain: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        if column in grain and not pd.api.types.is_numeric_dtype(values):
            if pd.api.types.is_datetime64_any_dtype(values) or values.map(type).eq(type(pd.Timestamp(0).date())).any():
                frame[column] = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
            else:
                frame[column] = values.astype(str)
    return frame.set_index(list(grain)).sort_index()


def _same(column: str, expected: pd.Series, actual: pd.Series) -> list[str]:
    problems = []
    null_e, null_a = expected.isna().to_numpy(), actual.isna().to_numpy()
    if (null_e != null_a).any():
        where = expected.index[null_e != null_a][:3].tolist()
        problems.append(f"{column}: null in one and not the other at {where}")
    both = ~null_e & ~null_a
    e, a = expected[both], actual[both]
    if pd.api.types.is_bool_dtype(e) or pd.api.types.is_bool_dtype(a):
        bad = e.astype(bool).to_numpy() != a.astype(bool).to_numpy()
    elif pd.api.types.is_numeric_dtype(e) and pd.api.types.is_numeric_dtype(a):
        x, y = e.astype(float).to_numpy(), a.astype(float).to_numpy()
        bad = np.abs(x - y) > REL_TOL * np.maximum(np.maximum(np.abs(x), np.abs(y)), 1.0)
    elif pd.api.types.is_datetime64_any_dtype(e) or pd.api.types.is_datetime64_any_dtype(a):
        bad = pd.to_datetime(e).to_numpy() != pd.to_datetime(a).to_numpy()
    else:
        bad = e.astype(str).to_numpy() != a.astype(str).to_numpy()
    if bad.any():
        first = e.index[bad][0]
        problems.append(
            f"{column}: {int(bad.sum())} value(s) differ, e.g. at {first}: expected {e[first]!r}, got {a[first]!r}"
        )
    return problems


def compare(mart: str, expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """What differs between the published `expected` and a contender's `actual`."""
    grain = GRAINS[mart]
    missing = [c for c in expected.columns if c not in actual.columns]
    if missing:
        return [f"{mart}: columns missing: {missing}"]
    e = _normalise(expected, grain)
    a = _normalise(actual[list(expected.columns)], grain)
    problems = []
    if a.index.has_duplicates:
        problems.append(f"{mart}: {int(a.index.duplicated().sum())} duplicate grain row(s)")
        a = a[~a.index.duplicated()]
    only_e, only_a = e.index.difference(a.index), a.index.difference(e.index)
    if len(only_e) or len(only_a):
        problems.append(
            f"{mart}: {len(e)} published rows, {len(a)} computed; "
            f"{len(only_e)} only published (e.g. {only_e[:2].tolist()}), "
            f"{len(only_a)} only computed (e.g. {only_a[:2].tolist()})"
        )
    common = e.index.intersection(a.index)
    for column in e.columns:
        problems.extend(f"{mart}.{p}" for p in _same(column, e.loc[common, column], a.loc[common, column]))
    return problems


def compare_all(expected: dict[str, pd.DataFrame], actual: dict[str, pd.DataFrame]) -> list[str]:
    problems = []
    for mart in GRAINS:
        problems.extend(compare(mart, expected[mart], actual[mart]))
    return problems


def read_parquet_marts(folder: Path) -> dict[str, pd.DataFrame]:
    return {m: pd.read_parquet(folder / f"{m}.parquet") for m in GRAINS}
