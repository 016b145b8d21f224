"""Write rows as one landing-contract extract: Parquet, typed by the contract, renamed into place.

A reader of the landing folder never sees a half-written file: the rows go to a hidden
temporary name in the entity's folder (ingest skips names starting with `.`), which is
renamed onto the final name only once complete.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.contract import Entity

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),  # naive UTC, as the contract reads it
    "date": pa.date32(),
    "decimal": pa.float64(),
    "boolean": pa.bool_(),
    "integer": pa.int64(),
}


def arrow_schema(entity: Entity) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in entity.columns])


def extract_name(pulled_at: dt.datetime, source: str) -> str:
    """`2026-12-06T174501Z-stripe.parquet`: begins with the extract date, so it sorts with the
    hand-landed `2026-12-06.csv` files (after them on the same day), and two pulls of one day
    never overwrite each other's deltas."""
    return f"{pulled_at.strftime('%Y-%m-%dT%H%M%SZ')}-{source}.parquet"


def _coerce(value: Any, column_type: str) -> Any:
    if value is None:
        return None
    if column_type == "text":
        return str(value)
    if column_type == "decimal":
        return float(value) if isinstance(value, decimal.Decimal | int | float | str) else value
    if column_type == "date" and isinstance(value, dt.datetime):
        return value.date()
    if column_type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if column_type == "timestamp" and isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if column_type == "timestamp" and isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def rows_to_table(entity: Entity, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """The contract's columns, in order and typed; other keys of a row are left out."""
    columns = {c.name: [] for c in entity.columns}
    for row in rows:
        for c in entity.columns:
            columns[c.name].append(_coerce(row.get(c.name), c.type))
    return pa.table(
        [
            pa.array(values, type=ARROW_TYPES[c.type])
            for c, values in zip(entity.columns, columns.values(), strict=True)
        ],
        schema=arrow_schema(entity),
    )


def write_extract(landing_dir: Path, entity: Entity, table: pa.Table, name: str) -> Path:
    """Write `table` to landing_dir/<entity folder>/<name> atomically; returns the final path."""
    folder = landing_dir / entity.folder
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    try:
        pq.write_table(table.cast(arrow_schema(entity)), temporary)
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    return final
