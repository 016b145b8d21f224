"""Writing one extract file of an entity, typed by the contract, as CSV or Parquet.

CSV: UTF-8, header row, RFC 4180 quoting; timestamps ISO 8601 in UTC with `Z`,
dates YYYY-MM-DD, booleans true/false, empty = null. Parquet: native types
(naive UTC timestamps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.lib.contract import Column, Entity

Format = Literal["csv", "parquet"]
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("s"),
    "date": pa.date32(),
    "decimal": pa.float64(),
    "boolean": pa.bool_(),
    "integer": pa.int64(),
}


def to_table(entity: Entity, columns: dict[str, np.ndarray]) -> pa.Table:
    """The entity's columns, in contract order and types; every column must be given."""
    missing = set(entity.column_names) - set(columns)
    unknown = set(columns) - set(entity.column_names)
    if missing or unknown:
        raise ValueError(
            f"{entity.qualified_name}: missing columns {sorted(missing)}, unknown {sorted(unknown)}"
        )
    return pa.table({c.name: _array(c, columns[c.name]) for c in entity.columns})


def sort_rows(columns: dict[str, np.ndarray], *keys: str) -> dict[str, np.ndarray]:
    """The rows ordered by the named columns, the first one primary (ids sort as text)."""
    order = np.lexsort([np.asarray(columns[k]).astype(str) if columns[k].dtype == object
                        else columns[k] for k in reversed(keys)])
    return {name: values[order] for name, values in columns.items()}


def _array(column: Column, values: np.ndarray) -> pa.Array:
    return pa.array(values, type=ARROW_TYPES[column.type], from_pandas=True)


def write_extract(
    out_dir: Path, entity: Entity, columns: dict[str, np.ndarray], name: str, format_: Format
) -> int:
    """Write `<out_dir>/<source>/<entity>/<name>.<format>`; returns the rows written."""
    table = to_table(entity, columns)
    folder = Path(out_dir) / entity.folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{format_}"
    if format_ == "csv":
        pa_csv.write_csv(_as_csv_text(table), path, pa_csv.WriteOptions(quoting_style="needed"))
    else:
        pq.write_table(table, path, compression="zstd")
    return table.num_rows


def _as_csv_text(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 with a `Z` (Arrow's CSV writer would use a space)."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(table.column(index), format=TIMESTAMP_FORMAT)
            table = table.set_column(index, field.name, text)
    return table
