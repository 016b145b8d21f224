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
    warnings: tuple[str, ...] = ()  # files read, but perhaps in the wrong order (undated names)
    files_read: tuple[str, ...] = ()  # files this ingest read (the others were read before)
    files_skipped: int = 0  # files unchanged since an earlier ingest read them
    reread: str | None = None  # why every file was read again, if it was

    @property
    def most_keys_from(self) -> FileCounts | None:
        """The file that won the most keys (rows in raw); on a tie the later file."""
        winners = [f for f in self.per_file if f.rows_loaded]
        return max(reversed(winners), key=lambda f: f.rows_loaded) if winners else None
