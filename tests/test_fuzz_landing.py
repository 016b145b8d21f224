"""A bounded fuzz test of the landing contract (issue 13): random corruptions of real extracts.

The demo generator writes a small landing folder (scale 0.01, seed 42). Each case copies
one entity's folder, corrupts one of its extracts in one of the ways of `CORRUPTIONS`
(chosen, with its position and its bytes, by a `random.Random(SEED)`), and ingests the
entity into a work database that holds the previous good ingest of every entity. For every
case the invariant of the issue holds:

- the ingest loads, and every record of every file is loaded, quarantined or dropped as a
  duplicate: per file, rows read = loaded + quarantined + duplicates (counted from the
  tables), and rows read = the records of the file counted here, independently of the
  ingest (Python's csv module; the Parquet footer's row count);
- or it refuses, with a `SourceContractError` or `RowAccountingError` whose message names
  the corrupted file, and the entity's raw and quarantine tables are as they were.

`CASES` cases run (a fixed number, about 30 s on two cores). A refusal fails the ingest
step, and a failed step publishes nothing: three refused cases are also run as whole
refreshes (`run_refresh`) over a last good publication, which must stay byte-identical.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import shutil
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow
import pyarrow.parquet
import pytest

from orchestration.demo_data import generate
from orchestration.lib.contract import ENTITIES_BY_NAME, Entity
from orchestration.lib.ingest import RowAccountingError, SourceContractError, ingest_entity
from orchestration.lib.publish import publish
from orchestration.lib.refresh import run_refresh
from orchestration.settings import load_settings

SEED = 20261126
CASES = 120
AS_OF = dt.date(2026, 11, 26)
LOADED_AT = dt.datetime(2026, 11, 27, 2, 0)
FUZZED = ("crm__accounts", "crm__leads", "crm__opportunities", "finance__spend", "billing__invoice_lines")
ABSURD_VALUES = ("abc", "1e400", "NaN", "-inf", "9999-12-31T23:59:59-14:00", "0000-01-01", "2026-13-45", "+99:99", "")


@dataclass(frozen=True)
class Case:
    number: int
    entity: Entity
    corruption: str
    file: str  # the corrupted extract's name after the corruption


# -- corruptions: each takes the extract, the case's random source and the landing dir;
#    it changes the file in place (or replaces it) and returns the extract's new path.


def _truncate(path: Path, rng: random.Random, _: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(1, len(data))])
    return path


def _invalid_utf8(path: Path, rng: random.Random, _: Path) -> Path:
    data = path.read_bytes()
    at = rng.randrange(len(data))
    path.write_bytes(data[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\x80\x80"]) + data[at:])
    return path


def _latin1(path: Path, rng: random.Random, _: Path) -> Path:
    header, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(header + b"\n" + body.replace(b"a", "\u00e4".encode("latin-1"), rng.randrange(1, 50)))
    return path


def _oversized_field(path: Path, rng: random.Random, _: Path) -> Path:
    lines = path.read_bytes().split(b"\n")
    row = rng.randrange(1, len(lines) - 1)
    fields = lines[row].split(b",")
    size = rng.choice([2_100_000, 3_000_000, 5_000_000])
    value = b"y" * size
    fields[rng.randrange(len(fields))] = b'"' + value + b'"' if rng.random() < 0.5 else value
    lines[row] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    return path


def _wrong_value(path: Path, rng: random.Random, _: Path) -> Path:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    for _ in range(rng.randrange(1, 6)):
        row = rows[rng.randrange(1, len(rows))]
        if row:
            row[rng.randrange(len(row))] = rng.choice(ABSURD_VALUES)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    return path


def _stray_quote(path: Path, rng: random.Random, _: Path) -> Path:
    """A quote inside an unquoted field (`paid"search`) of 1-5 records: to the reader a
    character of the value, so each such line is one record, loaded or quarantined."""
    lines = path.read_text().split("\n")
    for _ in range(rng.randrange(1, 6)):
        row = rng.randrange(1, len(lines) - 1)
        fields = next(csv.reader([lines[row]]))
        plain = [i for i, value in enumerate(fields) if not set(value) & set('",\r\n')]
        if not plain:
            continue
        column = rng.choice(plain)
        value = fields[column] or "x"
        at = rng.randrange(1, len(value) + 1)  # never first: a quote first in its field opens a value
        quoted = ['"' + v.replace('"', '""') + '"' if v else "" for v in fields]
        quoted[column] = value[:at] + '"' + value[at:]
        lines[row] = ",".join(quoted)
    path.write_text("\n".join(lines))
    return path


def _random_bytes(path: Path, rng: random.Random, _: Path) -> Path:
    data = bytearray(path.read_bytes())
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(len(data))
        data[at:at] = rng.choice([b'"', b",", b"\n", b"\r\n", b'""', b"\n\n", b" ", b"#", b"\t", b";"])
    path.write_bytes(bytes(data))
    return path


def _line_endings_and_bom(path: Path, rng: random.Random, _: Path) -> Path:
    data = path.read_bytes()
    if rng.random() < 0.5:
        data = data.replace(b"\n", b"\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + data if rng.random() < 0.5 else data + b"\n\n\n")
    return path


def _header(path: Path, rng: random.Random, _: Path) -> Path:
    header, _, body = path.read_text().partition("\n")
    names = header.split(",")
    kind = rng.choice(["drop", "case twin", "reserved", "extra"])
    if kind == "drop":
        names.pop(0)  # the first column is the key: required
    elif kind == "case twin":
        names.append(names[0].upper())
    elif kind == "reserved":
        names[-1] = "_source_row"
    else:
        names.append("notes")
    path.write_text(",".join(names) + "\n" + body)
    return path


def _odd_name(path: Path, rng: random.Random, _: Path) -> Path:
    name = rng.choice(["backup.CSV", "zz copy.csv", "2026-11-26 (1).csv", "caf\u00e9.csv", "2026-11-2[6].csv"])
    return path.rename(path.with_name(name.replace(".csv", path.suffix).replace(".CSV", path.suffix.upper())))


def _link_outside(path: Path, rng: random.Random, landing: Path) -> Path:
    outside = landing.parent / f"outside_{rng.randrange(1000)}{path.suffix}"
    shutil.move(path, outside)
    path.symlink_to(outside)
    return path


def _dangling_link(path: Path, rng: random.Random, landing: Path) -> Path:
    path.unlink()
    path.symlink_to(landing / "gone" / path.name)
    return path


def _empty(path: Path, rng: random.Random, _: Path) -> Path:
    path.write_bytes(b"")
    return path


def _parquet_wrong_values(path: Path, rng: random.Random, _: Path) -> Path:
    table = pyarrow.parquet.read_table(path)
    columns = {
        name: [None if v is None else str(v) for v in table.column(name).to_pylist()] for name in table.column_names
    }
    for _ in range(rng.randrange(1, 6)):
        name = rng.choice(table.column_names)
        columns[name][rng.randrange(table.num_rows)] = rng.choice(ABSURD_VALUES)
    pyarrow.parquet.write_table(pyarrow.table(columns), path)
    return path


def _parquet_case_twin(path: Path, rng: random.Random, _: Path) -> Path:
    table = pyarrow.parquet.read_table(path)
    first = table.column_names[0]
    pyarrow.parquet.write_table(table.append_column(first.upper(), table.column(first)), path)
    return path


CSV_CORRUPTIONS: dict[str, Callable[[Path, random.Random, Path], Path]] = {
    "truncated": _truncate,
    "invalid UTF-8": _invalid_utf8,
    "Latin-1 text": _latin1,
    "oversized field": _oversized_field,
    "wrong values": _wrong_value,
    "random bytes": _random_bytes,
    "stray quote": _stray_quote,
    "CRLF, BOM, empty lines": _line_endings_and_bom,
    "header": _header,
    "odd name": _odd_name,
    "link out of the landing folder": _link_outside,
    "dangling link": _dangling_link,
    "empty file": _empty,
}
PARQUET_CORRUPTIONS: dict[str, Callable[[Path, random.Random, Path], Path]] = {
    "truncated": _truncate,
    "wrong values": _parquet_wrong_values,
    "case twin": _parquet_case_twin,
    "odd name": _odd_name,
    "link out of the landing folder": _link_outside,
    "dangling link": _dangling_link,
    "empty file": _empty,
}


# -- the independent count -------------------------------------------------------------


def independent_records(path: Path) -> int:
    """Data records of an extract, counted without the ingest's code or DuckDB."""
    if path.suffix.lower() == ".parquet":
        return pyarrow.parquet.ParquetFile(path).metadata.num_rows
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="latin-1") as handle:  # every byte is one character
        records = list(csv.reader(handle))
    width = len(records[0])
    return sum(1 for record in records[1:] if record or width == 1)


def _table_state(con: duckdb.DuckDBPyConnection, entity: Entity) -> tuple[list, list]:
    name = entity.qualified_name
    return (
        con.execute(f"select * exclude (_loaded_at) from raw.{name} order by all").fetchall(),
        con.execute(f"select * exclude (_loaded_at) from quarantine.{name} order by all").fetchall(),
    )


# -- the cases ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    landing = tmp_path_factory.mktemp("demo") / "landing"
    generate(landing, scale=0.01, seed=42, as_of_date=AS_OF)
    return landing


def _cases() -> list[tuple[int, str, str]]:
    rng = random.Random(SEED)
    cases = []
    for number in range(CASES):
        entity = ENTITIES_BY_NAME[rng.choice(FUZZED)]
        parquet = entity.name == "invoice_lines"
        corruption = rng.choice(sorted(PARQUET_CORRUPTIONS if parquet else CSV_CORRUPTIONS))
        cases.append((number, entity.qualified_name, corruption))
    return cases


def _holds_rows(path: Path) -> bool:
    if path.suffix == ".parquet":
        return pyarrow.parquet.read_metadata(path).num_rows > 0
    return len(path.read_bytes().rstrip(b"\n").split(b"\n")) > 1


def _corrupt(demo: Path, root: Path, number: int, entity: Entity, corruption: str) -> tuple[Path, Case]:
    """A landing dir holding `entity`'s folder with one extract corrupted."""
    landing = root / f"case{number}" / "landing"
    shutil.copytree(demo / entity.folder, landing / entity.folder)
    rng = random.Random(f"{SEED}-{number}")
    # a corruption of rows needs rows: the demo's monthly deltas can be empty at this scale
    extracts = [p for p in sorted((landing / entity.folder).iterdir()) if _holds_rows(p)]
    target = rng.choice(extracts)
    corruptions = PARQUET_CORRUPTIONS if target.suffix == ".parquet" else CSV_CORRUPTIONS
    corrupted = corruptions[corruption](target, rng, landing)
    return landing, Case(number, entity, corruption, corrupted.name)


def test_every_corrupted_landing_is_loaded_in_full_or_refused_naming_the_file(demo, tmp_path):
    seen: dict[str, int] = {}
    with closing(duckdb.connect(str(tmp_path / "work.duckdb"))) as con:
        for name in FUZZED:
            ingest_entity(con, ENTITIES_BY_NAME[name], demo, LOADED_AT)
        for number, name, corruption in _cases():
            entity = ENTITIES_BY_NAME[name]
            landing, case = _corrupt(demo, tmp_path, number, entity, corruption)
            before = _table_state(con, entity)
            try:
                result = ingest_entity(con, entity, landing, LOADED_AT)
            except (SourceContractError, RowAccountingError) as error:
                assert case.file in str(error), f"{case}: the refusal does not name the file: {error}"
                assert _table_state(con, entity) == before, f"{case}: a refused ingest changed the tables"
                outcome = "refused"
            else:
                _assert_every_record_accounted_for(con, landing, case, result)
                outcome = "loaded"
            seen[f"{corruption}: {outcome}"] = seen.get(f"{corruption}: {outcome}", 0) + 1
    print(f"{CASES} cases:", dict(sorted(seen.items())))
    # the cases are fixed by the seed; every kind of corruption was tried
    tried = {key.split(": ")[0] for key in seen}
    assert tried == set(CSV_CORRUPTIONS) | set(PARQUET_CORRUPTIONS)
    # a quote inside an unquoted field is a character to the reader and to the count alike
    assert "stray quote: refused" not in seen


def _assert_every_record_accounted_for(con, landing: Path, case: Case, result) -> None:
    name = case.entity.qualified_name
    for counts in result.per_file:
        path = landing / counts.source_file
        loaded = con.execute(
            f"select count(*) from raw.{name} where _source_file = ?", [counts.source_file]
        ).fetchone()[0]
        quarantined = con.execute(
            f"select count(*) from quarantine.{name} where _source_file = ?", [counts.source_file]
        ).fetchone()[0]
        assert (counts.rows_loaded, counts.rows_quarantined) == (loaded, quarantined), case
        assert counts.rows_read == loaded + quarantined + counts.duplicates_dropped, case
        assert counts.rows_read == independent_records(path), f"{case}: {counts}"


def test_a_refused_landing_publishes_nothing_and_the_last_publication_stays_byte_identical(demo, tmp_path, monkeypatch):
    """Whole refreshes for three refused cases: the ingest step fails, nothing downstream runs."""
    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    seed = warehouse / "seed.duckdb"
    with closing(duckdb.connect(str(seed))) as con:
        con.execute("create schema marts")
        con.execute("create table marts.metric as select 'last good' as value")
    publish(
        seed,
        warehouse / "published.duckdb",
        {"published_at": dt.datetime(2026, 11, 25, 2), "as_of_date": AS_OF, "run_id": "last-good"},
    )
    seed.unlink()
    before = (warehouse / "published.duckdb").read_bytes()
    refused = [("crm__accounts", "dangling link"), ("crm__leads", "header"), ("billing__invoice_lines", "truncated")]
    for number, (name, corruption) in enumerate(refused, start=CASES):
        entity = ENTITIES_BY_NAME[name]
        landing = tmp_path / f"refresh{number}" / "landing"
        shutil.copytree(demo, landing)
        shutil.rmtree(landing / entity.folder)
        case_landing, case = _corrupt(demo, tmp_path, number, entity, corruption)
        shutil.copytree(case_landing / entity.folder, landing / entity.folder, symlinks=True)
        monkeypatch.setenv("GTM_LANDING_DIR", str(landing))
        monkeypatch.setenv("GTM_WAREHOUSE_DIR", str(warehouse))
        monkeypatch.setenv("GTM_AS_OF_DATE", AS_OF.isoformat())
        monkeypatch.delenv("GTM_ALERT_WEBHOOK", raising=False)
        outcome = run_refresh(load_settings(), instance=dg.DagsterInstance.ephemeral())
        assert not outcome.published, case
        assert case.file in outcome.summary(), outcome.summary()
        assert (warehouse / "published.duckdb").read_bytes() == before, case
