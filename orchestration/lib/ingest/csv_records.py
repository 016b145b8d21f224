"""A CSV file's records counted without DuckDB's reader, and the ones too long for it.

DuckDB's CSV reader rejects a record longer than its maximum line size, but one longer
than its buffer (about 32 MiB) it drops without a reject entry, or reports with the
previous record's text as an unterminated quote. So the ingest does not rely on the
reader to account for every record: this module splits the file into records itself,
the way the reader does, and

- counts its data records: every record after the header, except empty lines, which
  the reader skips when the header has more than one field (with one field an empty
  line is a record holding null);
- finds the records longer than the reader accepts, to be quarantined with that reason.

Where a record ends, as DuckDB's reader (`quote = '"'`, `escape = '"'`) decides it: a
line break ends a record unless it is inside a quoted value. A quote opens a quoted value
only first in its field (or after one space there); anywhere else in an unquoted field
(`l1,ab"c,2026-01-01`) it is a character of the value, and the line a record of its own,
which the reader loads or rejects like any other. Inside a quoted value `""` is a quote;
a quote closes the value, and after it only spaces and a quote reopen it (`"a" "b"` is
one value), anything else leaves it. Line breaks are `\\n`, `\\r\\n` or a lone `\\r`.

The file is read in chunks. Every step is a regular expression or `bytes` method that
jumps to the next place that matters (a quote opening a value, the quote closing it, a
delimiter or line break), never backtracking over what it passed, so the time is linear
in the file's size whatever its quotes; Python runs once per quoted value, not per byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK_BYTES = 1 << 20  # a substitution over a chunk of tiny quoted values holds ~70 times its size

_BREAK = re.compile(rb"\r\n|\r|\n")
_BREAK_BEFORE_BREAK = re.compile(rb"(?:\r\n|\r(?!\n)|\n)(?=[\r\n])")
_BREAK_BYTE = re.compile(rb"[\r\n]")
# A quote opening a quoted value: first in its field, or after one space there (a
# lookbehind: the pattern matches the quote alone).
_OPENS = rb'(?:(?<![^,\r\n])|(?<=[,\r\n] ))"'
_OPENER = re.compile(_OPENS)
# The rest of a quoted value, possessive (no backtracking): its text, each closing quote
# reopened by a quote after spaces (`""` included), then the closing quote and the spaces
# after it (group 1) when the text holds them.
_QUOTED_REST = re.compile(rb'[^"]*+(?:" *+"[^"]*+)*+(" *+)?')
_SPACES = re.compile(rb" *+")
# A whole quoted value, closed before a character of the text that is no quote.
_CLOSED_VALUE_PATTERN = _OPENS + rb'[^"]*+(?:" *+"[^"]*+)*+" *+(?=[^"])'
_CLOSED_VALUE = re.compile(_CLOSED_VALUE_PATTERN)
# Text whose quotes all belong to closed quoted values: it stops at any other quote.
_WELL_FORMED = re.compile(rb'(?:[^"]++|' + _CLOSED_VALUE_PATTERN + rb")*+")
_QUOTE = ord('"')
_SPACE = ord(" ")
_FIELD_ENDS = b",\r\n"
_LINE_ENDS = b"\r\n"

# Where a chunk ends: at the start of a field, after one space there, inside an unquoted
# field, inside a quoted value, or after a quoted value's closing quote (and spaces).
FIELD, FIELD_SPACE, UNQUOTED, QUOTED, CLOSED = range(5)
# Put before the text outside quoted values, two bytes that tell the patterns' lookbehind
# the state it starts in (and hold no quote and no line break).
_CONTEXT = {FIELD: b"x,", FIELD_SPACE: b", ", UNQUOTED: b"xx"}


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

    A fast count first; only a file in which some stretch of `max_record_bytes // 4`
    bytes holds no line break at all is scanned again, record by record, for the long
    ones. A long record whose quoted value holds line breaks all along may be missed
    there: the reader then either rejects it (too long) or loses it, and the count, which
    misses nothing, makes the row accounting fail rather than balance over the lost row.
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
    """The file in chunks, a `\\r\\n` never split between two (one byte read ahead)."""
    with path.open("rb") as file:
        ahead = b""
        while block := file.read(CHUNK_BYTES):
            chunk, ahead = ahead + block, b""
            if chunk.endswith(b"\r"):
                ahead = file.read(1)
                if ahead == b"\n":
                    chunk, ahead = chunk + ahead, b""
            yield chunk
        if ahead:
            yield ahead


class _Fields:
    """Follows a file, chunk by chunk, through its fields: which text lies outside quoted values."""

    def __init__(self) -> None:
        self.state = FIELD

    @property
    def in_value(self) -> bool:
        return self.state in (QUOTED, CLOSED)

    def collapsed(self, chunk: bytes) -> bytes:
        """`chunk` with each quoted value, or the part of one it holds, replaced by `Q`.

        One substitution for the whole chunk when every quote in it belongs to a quoted
        value that closes in it (but perhaps the last); otherwise the chunk goes through
        `stretches`, one quoted value at a time."""
        entered = self.state
        head, start = b"", 0
        if self.in_value:
            end = self._value_end(chunk, 0)
            if end is None:
                return b"Q"
            head, start = b"Q", end
        text = _CONTEXT[self.state] + chunk[start:]
        stop = _WELL_FORMED.match(text, 2).end()
        if stop == len(text):
            self.state = _state_after(text)
            return head + _CLOSED_VALUE.sub(b"Q", text)[2:]
        if _OPENER.match(text, stop):  # a value that does not close in this chunk
            self.state = QUOTED
            if self._value_end(text, stop + 1) is None:
                return head + _CLOSED_VALUE.sub(b"Q", text[:stop])[2:] + b"Q"
        self.state = entered  # a quote inside an unquoted field
        parts = []
        for start, end, after_value in self.stretches(chunk):
            parts += (b"Q", chunk[start:end]) if after_value else (chunk[start:end],)
        return b"".join(parts) + (b"Q" if self.in_value else b"")

    def stretches(self, chunk: bytes) -> list[tuple[int, int, bool]]:
        """(start, end, after a quoted value) of each stretch of `chunk` outside quoted
        values; a quoted value lies between two stretches (and after the last one when
        `in_value` holds afterwards)."""
        stretches: list[tuple[int, int, bool]] = []
        after_value, start = False, 0
        if self.in_value:
            end = self._value_end(chunk, 0)
            if end is None:
                return stretches
            after_value, start = True, end
        text = _CONTEXT[self.state] + chunk[start:]
        shift = start - 2  # a position in `text` + shift = the position in `chunk`
        position = 2
        while True:
            opener = _OPENER.search(text, position)
            end = len(text) if opener is None else opener.start()
            if end > position:
                stretches.append((position + shift, end + shift, after_value))
                after_value = False
            if opener is None:
                self.state = _state_after(text)
                return stretches
            self.state = QUOTED
            position = self._value_end(text, opener.end())
            if position is None:
                return stretches
            after_value = True

    def _value_end(self, text: bytes, position: int) -> int | None:
        """Inside a quoted value (`state` QUOTED or CLOSED) at `position`: where the text
        after the value starts, or None when the value goes on past `text`."""
        if self.state == CLOSED:
            after = _SPACES.match(text, position).end()
            if after == len(text):
                return None
            if text[after] != _QUOTE:
                self.state = UNQUOTED
                return after
            self.state, position = QUOTED, after + 1
        rest = _QUOTED_REST.match(text, position)
        if rest.end() == len(text):
            self.state = CLOSED if rest.group(1) is not None else QUOTED
            return None
        self.state = UNQUOTED  # before a character that is no quote nor space
        return rest.end()


def _state_after(text: bytes) -> int:
    """The state at the end of `text` (its context included), which ends outside quoted values."""
    if text[-1] in _FIELD_ENDS:
        return FIELD
    return FIELD_SPACE if text[-1] == _SPACE and text[-2] in _FIELD_ENDS else UNQUOTED


def _breaks(chunk: bytes, start: int, end: int) -> int:
    return chunk.count(b"\n", start, end) + chunk.count(b"\r", start, end) - chunk.count(b"\r\n", start, end)


class _Count:
    """The fast count: records and empty lines, and whether a record may be too long."""

    def __init__(self, skip_empty_lines: bool, window: int) -> None:
        self.skip_empty_lines = skip_empty_lines
        self.window = window
        self.fields = _Fields()
        self.at_record_start = True  # nothing of the current record seen yet
        self.records = 0  # ended by a line break, empty lines included
        self.empty_lines = 0
        self.suspect = False
        self.run = 0  # bytes since the last line break byte

    def feed(self, chunk: bytes) -> None:
        if not self.suspect:
            self._look_for_long_runs(chunk)
        text = self.fields.collapsed(chunk)  # no quoted values left: every line break ends a record
        if not text:
            return
        self.records += _breaks(text, 0, len(text))
        self.empty_lines += len(_BREAK_BEFORE_BREAK.findall(text))
        if self.at_record_start and text[0] in _LINE_ENDS:
            self.empty_lines += 1
        self.at_record_start = text[-1] in _LINE_ENDS

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
        self.fields = _Fields()
        self.records = 0  # records ended by a line break, empty lines included
        self.empty_lines = 0
        self.record_start = 0  # byte offset where the current record starts
        self.long: list[LongRecord] = []

    def feed(self, chunk: bytes, offset: int) -> None:
        for start, end, _ in self.fields.stretches(chunk):
            self._outside_quotes(chunk[start:end], offset + start)

    def _outside_quotes(self, part: bytes, position: int) -> None:
        """Text outside quoted values, at byte `position` of the file."""
        first = _BREAK.search(part)
        if first is None:
            return
        if self._may_hold_long_record(part, position, first.start()):
            self._each_break(part, position)
            return
        breaks = _breaks(part, 0, len(part))
        empty = len(_BREAK_BEFORE_BREAK.findall(part))
        if first.start() == 0 and self.record_start == position:
            empty += 1  # the record so far is empty: this break ends an empty line
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
