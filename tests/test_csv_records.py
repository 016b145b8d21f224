"""The CSV record count without the reader (orchestration/lib/ingest/csv_records.py) on
quotes where DuckDB's reader does not expect them (issue 13): a quote inside an unquoted
field is a character of the value, so its line is a record of its own, as the reader
takes it. Each count below is worked out by hand from the rules in the module's docstring
(and is what DuckDB's reader returns, rows plus rejected lines, for the same bytes).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.ingest import csv_records
from orchestration.lib.ingest.csv_records import scan_records
from orchestration.lib.ingest.extracts import _csv_reader_sql

HEADER = b"lead_id,channel,created_at\n"

CASES = [
    # a quote inside an unquoted field: a character; each line a record
    (HEADER + b'l1,ab"c,2026-01-01\nl2,x,2026-01-02\n', 3, 2),
    (HEADER + b'l1,ab",2026-01-01\nl2,x,2026-01-02\n', 3, 2),  # last in the field
    (HEADER + b'l1,x,2026-01-01"\nl2,x,2026-01-02\n', 3, 2),  # last on the line
    (HEADER + b'l1,a"b"c,2026-01-01\nl2,x"y,2026-01-02\nl3,z,2026-01-03\n', 3, 3),
    (HEADER + b'l1,ab"c,2026-01-01\r\nl2,x,2026-01-02\r\n', 3, 2),
    # ... and then a real quoted value, first in its field, holding a line break: 2 records
    (HEADER + b'l1,ab"c,"2026-01-01\n"\nl2,x,2026-01-02\n', 3, 2),
    # after a value's closing quote, spaces and a quote reopen it ("a" "b" is one value)
    (HEADER + b'l1,"a" "b\nc",2026-01-01\nl2,x,2026-01-02\n', 3, 2),
    # ... anything else ends it, and a quote after that is a character: 3 records
    (HEADER + b'l1,"a"b"\nc",2026-01-01\nl2,x,2026-01-02\n', 3, 3),
    # one space before a quote first in its field opens a value; two do not:
    # `l1,  "x` is a record, then `",y ... l3,"` one value (closed before r), ending at its line
    (HEADER + b'l1, "x\n",y\nl2,p,q\nl3,"r",s\n', 3, 3),
    (HEADER + b'l1,  "x\n",y\nl2,p,q\nl3,"r",s\n', 3, 2),
    # a value that never closes takes the rest of the file: one record
    (HEADER + b'l1,x,"y\nl2,p,q\nl3,a"b,c\n', 3, 1),
    # `""` is a quote inside a quoted value, and `"""` ends one with a quote
    (HEADER + b'l1,"say ""hi""\n",2026-01-01\nl2,"x""",2026-01-02\n', 3, 2),
    # one field: an empty line is a record (null); a quote inside the field a character
    (b'a\nx"y\n\n"p\nq"\n', 1, 3),
]


@pytest.mark.parametrize(("content", "width", "records"), CASES)
def test_a_quote_counts_where_the_reader_takes_it(tmp_path, content, width, records):
    path = tmp_path / "extract.csv"
    path.write_bytes(content)
    assert scan_records(path, width, 1_000).data_records == records


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 8])
def test_chunk_boundaries_anywhere_change_no_count(tmp_path, monkeypatch, chunk_bytes):
    """The file is read in chunks; a chunk may end inside a value, after its closing
    quote, between `\\r` and `\\n` or after a space before a quote."""
    monkeypatch.setattr(csv_records, "CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "extract.csv"
    for content, width, records in CASES:
        path.write_bytes(content)
        assert scan_records(path, width, 1_000).data_records == records, content


def test_long_records_are_found_past_stray_quotes(tmp_path):
    path = tmp_path / "extract.csv"
    # header 6 bytes; `1,a"b\n` 6 (the quote a character); row 2 starts at byte 12: `2,"`,
    # 30 times `y\n`, `"`: 64 bytes and its line break; row 3, 52 bytes, at 12 + 65 = 77
    path.write_bytes(b"h1,h2\n" + b'1,a"b\n' + b'2,"' + b"y\n" * 30 + b'"\n' + b"4," + b"z" * 50 + b"\n3,4\n")
    found = scan_records(path, 2, 40)
    assert found.data_records == 4
    assert found.long_records == (
        csv_records.LongRecord(row=2, offset=12, length=64),
        csv_records.LongRecord(row=3, offset=77, length=52),
    )


# Files of a few MiB read in chunks of 64 KiB, each made of one pattern repeated: quotes
# everywhere, values opened and never closed, quotes inside unquoted fields next to real
# quoted values, values reopened after spaces, lone carriage returns. With the count
# worked out for each. A count that backtracked, or went over the text once per quote,
# would not finish these in hours; linear, they take seconds.
PATHOLOGICAL = {
    "only quotes": (b'"' * 3_000_001, 1),  # one value opened by the first quote, never closed
    "a value never closed": (b'"' + b'a""\n' * 750_000, 1),  # `""` a quote: one value holds the rest
    "stray quotes and values": (b'a"b,"c"\n' * 400_000, 400_000),
    "reopened values": (b'"a" "b" ,c\n' * 300_000, 300_000),
    "empty values": (b'"",""\n' * 500_000, 500_000),
    "carriage returns": (b"\r" * 3_000_000, 0),  # empty lines
}


def test_pathological_quotes_are_counted_in_linear_time(tmp_path):
    files = {}
    for name, (body, records) in PATHOLOGICAL.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(b"h1,h2\n" + body)
        files[str(path)] = records
    script = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from orchestration.lib.ingest import csv_records
        csv_records.CHUNK_BYTES = 1 << 16
        files = json.loads(sys.argv[1])
        print(json.dumps({{p: csv_records.scan_records(Path(p), 2, {1 << 20}).data_records for p in files}}))
        """
    )
    # a separate process, so that a count that does not end fails the test instead of hanging it
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(files)],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == files


def _random_field(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return rng.choice(["a", "bc", "", "x y"])
    if kind < 0.6:  # quotes inside an unquoted field, never first
        return rng.choice(["a", "bc", "x"]) + "".join(rng.choice(['"', "a", '""', " "]) for _ in range(rng.randint(1, 3)))
    inner = "".join(rng.choice(["a", ",", "\n", '""', " ", "\r\n"]) for _ in range(rng.randint(0, 4)))
    return '"' + inner + '"'


def test_the_count_agrees_with_duckdbs_reader_on_random_quoting(tmp_path):
    """Random files of quotes inside unquoted fields, quoted values holding delimiters,
    line breaks and `""`, empty lines and lines with a field too many: the count equals
    what the ingest's own reader call returns (rows plus rejected lines)."""
    rng = random.Random(20261206)
    path = tmp_path / "extract.csv"
    with closing(duckdb.connect()) as con:
        for case in range(150):
            width = rng.choice([1, 2, 3])
            line_break = rng.choice(["\n", "\r\n"])
            lines = [",".join(f"h{j}" for j in range(width))]
            for _ in range(rng.randint(0, 5)):
                fields = width if rng.random() < 0.9 else width + 1
                lines.append("" if rng.random() < 0.1 else ",".join(_random_field(rng) for _ in range(fields)))
            path.write_bytes((line_break.join(lines) + (line_break if rng.random() < 0.7 else "")).encode())
            rejects, scans = f"rejects_{case}", f"scans_{case}"
            rows = len(con.execute(f"SELECT * FROM {_csv_reader_sql(path, width, rejects, scans)}").fetchall())
            rejected = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchone()[0]
            assert scan_records(path, width, 100_000).data_records == rows + rejected, path.read_bytes()
