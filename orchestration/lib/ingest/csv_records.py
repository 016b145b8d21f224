"""A CSV file's records counted without DuckDB's reader, and the ones too long for it.

DuckDB's CSV reader rejects a record longer than its maximum line size, but one longer
than its buffer (about 32 MiB) it drops without a reject entry, or reports with the
previous record's text as an unterminated quote. So the ingest does not rely on the
reader to account for every record: this module splits the file into records itself
(RFC 4180: a line break inside quotes belongs to the value, `""` is a quote inside
quotes) and

- counts its data records: every record after the header, except empty lines, which
  the reader skips when the header has more than one field (with one field an empty
  line is a record holding null);
- finds the records longer than the reader accepts, to be quarantined with that reason.

Line breaks are `\\n`, `\\r\\n` or a lone `\\r`. The file is read in chunks; work per
chunk is done by `bytes` methods and regular expressions, not per byte in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 22

_BREAK = re.compile(rb"\r\n|\r|\n")
_BREAK_BEFORE_BREAK = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?=[\r\n])")
_NEWLINE_BEFORE_NEWLINE = re.compile(rb"\n(?=\n)")
_BREAK_BYTE = re.compile(rb"[\r\n]")
_QUOTED = re.compile(rb'"[^"]*"')


@dataclass(frozen=True)
class LongRecord:
    """A record longer than the reader accepts."""

    row: int  # 1-based data-row number (the header is row 0)
    offset: int  # byte offset of its first byte in the file
    length: int  # bytes, without the line break


@dataclass(frozen=True)
class CsvRecords:
    data_records: int  # records after the header, empty lines skipped as the reader does
    long_records: tuple[LongRecord, ...]


def scan_records(path: Path, width: int, max_record_bytes: int) -> CsvRecords:
    """Count the data records of a CSV file whose header has `width` fields, and find
    those longer than `max_record_bytes`.

    A fast count first (quoted values collapsed by one regular expression per chunk);
    only a file in which some stretch of `max_record_bytes // 4` bytes holds no line
    break at all is scanned again, record by record, for the long ones. A long record
    whose quoted value holds line breaks all along may be missed there: the reader then
    either rejects it (too long) or loses it, and the count, which misses nothing, makes
    the row accounting fail rather than balance over the lost row.
    """
    count = _Count(skip_empty_lines=width > 1, window=max(max_record_bytes // 4, 1))
    for chunk in _chunks(path):
        count.feed(chunk)
    if not count.suspect:
        return CsvRecords(data_records=count.data_records(), long_records=())
    scan = _Scan(skip_empty_lines=width > 1, max_record_bytes=max_record_bytes)
    offset = 0
    for chunk in _chunks(path):
        scan.feed(chunk, offset)
        offset += len(chunk)
    return scan.finish(offset)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            while chunk.endswith(b"\r") and (more := file.read(1)):  # keep a \r\n together
                chunk += more
            yield chunk


class _Count:
    """The fast count: records and empty lines, and whether a record may be too long."""

    def __init__(self, skip_empty_lines: bool, window: int) -> None:
        self.skip_empty_lines = skip_empty_lines
        self.window = window
        self.in_quotes = False
        self.at_record_start = True  # nothing of the current record seen yet
        self.records = 0  # ended by a line break, empty lines included
        self.empty_lines = 0
        self.suspect = False
        self.run = 0  # bytes since the last line break byte

    def feed(self, chunk: bytes) -> None:
        if not self.suspect:
            self._look_for_long_runs(chunk)
        start = 0
        if self.in_quotes:
            closing = chunk.find(b'"')
            self.at_record_start = False
            if closing < 0:
                return
            start, self.in_quotes = closing + 1, False
        body = chunk[start:]
        if body.count(b'"') % 2:  # ends inside a quoted value
            body, self.in_quotes = body[: body.rfind(b'"')], True
        text = _QUOTED.sub(b"Q", body)  # no quotes left: every line break ends a record
        if not text:
            self.at_record_start = self.at_record_start and not self.in_quotes and start == 0
            return
        has_cr = b"\r" in text
        self.records += len(_BREAK.findall(text)) if has_cr else text.count(b"\n")
        self.empty_lines += len((_BREAK_BEFORE_BREAK if has_cr else _NEWLINE_BEFORE_NEWLINE).findall(text))
        if self.at_record_start and start == 0 and text[:1] in (b"\n", b"\r"):
            self.empty_lines += 1
        self.at_record_start = text.endswith((b"\n", b"\r")) and not self.in_quotes

    def _look_for_long_runs(self, chunk: bytes) -> None:
        """Suspect a long record where more than `window` bytes hold no line break byte:
        across chunks (`run`, the bytes since the last one) or inside one (aligned windows:
        a run of 2 windows holds a whole one)."""
        first = _BREAK_BYTE.search(chunk)
        if first is None:
            self.run += len(chunk)
        else:
            self.suspect = self.run + first.start() > self.window
            self.run = len(chunk) - 1 - max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self.suspect = (
            self.suspect
            or self.run > self.window
            or any(
                _BREAK_BYTE.search(chunk, start, start + self.window) is None
                for start in range(0, len(chunk) - self.window + 1, self.window)
            )
        )

    def data_records(self) -> int:
        records = self.records + (0 if self.at_record_start else 1)  # a last record without a line break
        if self.skip_empty_lines:
            records -= self.empty_lines
        return max(records - 1, 0)


class _Scan:
    def __init__(self, skip_empty_lines: bool, max_record_bytes: int) -> None:
        self.skip_empty_lines = skip_empty_lines
        self.max = max_record_bytes
        self.in_quotes = False
        self.records = 0  # records ended by a line break, empty lines included
        self.empty_lines = 0
        self.record_start = 0  # byte offset where the current record starts
        self.long: list[LongRecord] = []

    def feed(self, chunk: bytes, offset: int) -> None:
        position = offset
        for part in chunk.split(b'"'):
            if not self.in_quotes and part:
                self._outside_quotes(part, position)
            position += len(part) + 1  # and the quote after it
            self.in_quotes = not self.in_quotes
        self.in_quotes = not self.in_quotes  # no quote after the last part

    def _outside_quotes(self, part: bytes, position: int) -> None:
        """Text between quotes (or a chunk's ends) outside quoted values."""
        first = _BREAK.search(part)
        if first is None:
            return
        if self._may_hold_long_record(part, position, first.start()):
            self._each_break(part, position)
            return
        has_cr = b"\r" in part
        breaks = len(_BREAK.findall(part)) if has_cr else part.count(b"\n")
        empty = len((_BREAK_BEFORE_BREAK if has_cr else _NEWLINE_BEFORE_NEWLINE).findall(part))
        if first.start() == 0 and self.record_start == position:
            empty += 1  # the previous chunk ended with a line break, this one starts with one
        self.records += breaks
        self.empty_lines += empty
        self.record_start = position + max(part.rfind(b"\n"), part.rfind(b"\r")) + 1

    def _may_hold_long_record(self, part: bytes, position: int, first_break: int) -> bool:
        """Whether a record ending in `part` may be too long: the one ending at its first
        line break, or one within it (a run of `max` bytes without a line break holds a
        whole aligned window of `max // 2 + 1` bytes without one)."""
        if position + first_break - self.record_start > self.max:
            return True
        window = self.max // 2 + 1
        return len(part) > self.max and any(
            _BREAK.search(part, start, start + window) is None for start in range(0, len(part), window)
        )

    def _each_break(self, part: bytes, position: int) -> None:
        for match in _BREAK.finditer(part):
            end = position + match.start()
            if end == self.record_start:
                self.empty_lines += 1
            elif end - self.record_start > self.max:
                self._long(end)
            self.records += 1
            self.record_start = position + match.end()

    def _long(self, end: int) -> None:
        if not self.records:
            return  # the header: `extracts` refuses a file whose header is too long
        row = self.records - (self.empty_lines if self.skip_empty_lines else 0)
        self.long.append(LongRecord(row=row, offset=self.record_start, length=end - self.record_start))

    def finish(self, size: int) -> CsvRecords:
        if size > self.record_start:  # a last record without a line break
            if size - self.record_start > self.max:
                self._long(size)
            self.records += 1
        records = self.records - (self.empty_lines if self.skip_empty_lines else 0)
        return CsvRecords(data_records=max(records - 1, 0), long_records=tuple(self.long))


# A long record is replaced, in the copy the reader reads, by this marker, its number
# and one empty field more than the header has: a line the reader always rejects, on
# the record's own line, and `rejected_lines` gives it its true reason.
LONG_RECORD_MARKER = "_ingest_long_record_"
RAW_LINE_CHARACTERS = 10_000  # as much of a rejected record's text as DuckDB keeps


def placeholder(index: int, width: int) -> str:
    # `-` in each field: the reader takes a line ending in an empty field for one field fewer
    return f"{LONG_RECORD_MARKER}{index}" + ",-" * width


def copy_without_long_records(path: Path, long_records: tuple[LongRecord, ...], width: int, copy: Path) -> None:
    """Write `path` to `copy` with each long record replaced by its placeholder."""
    with path.open("rb") as source, copy.open("wb") as target:
        position = 0
        for index, record in enumerate(long_records):
            _copy_bytes(source, target, record.offset - position)
            target.write(placeholder(index, width).encode())
            source.seek(record.offset + record.length)
            position = record.offset + record.length
        while block := source.read(CHUNK_BYTES):
            target.write(block)


def _copy_bytes(source: BinaryIO, target: BinaryIO, count: int) -> None:
    while count > 0:
        block = source.read(min(count, CHUNK_BYTES))
        if not block:
            return
        target.write(block)
        count -= len(block)


def record_start_text(path: Path, record: LongRecord) -> str:
    """The first characters of a record, as `_raw_line` (invalid UTF-8 replaced)."""
    with path.open("rb") as file:
        file.seek(record.offset)
        start = file.read(min(record.length, 4 * RAW_LINE_CHARACTERS))
    return start.decode("utf-8", errors="replace")[:RAW_LINE_CHARACTERS]
