"""What one ingest of an entity reports: its row accounting, in total and per file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileCounts:
    """The row accounting of one extract file."""

    source_file: str
    rows_read: int  # records read, including CSV lines the reader rejected
    rows_loaded: int
    rows_quarantined: int
    duplicates_dropped: int


@dataclass(frozen=True)
class IngestResult:
    """What one ingest of an entity did; per_file holds the same counts per file."""

    entity: str  # qualified name, e.g. "crm__opportunities"
    files: tuple[str, ...]  # files read, in order (as in _source_file)
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    duplicates_dropped: int  # identical rows counted once + rows superseded by a later file
    key_conflicts: int  # (key, file) pairs where one file holds a key with different values
    per_file: tuple[FileCounts, ...] = ()
