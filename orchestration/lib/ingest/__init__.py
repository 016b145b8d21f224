"""Landed extract files -> `raw.<entity>` and `quarantine.<entity>` (docs/landing-contract.md).

One entity at a time: every `*.csv` and `*.parquet` file of the entity's folder that
no earlier ingest read is read with DuckDB's own readers and typed by the rules of
`typing_rules`; its rows are kept per file in the store (`file_store`). From the
stored rows of all the entity's files, repeated extracts are deduplicated and the
entity's tables written to the work database, exactly as if every file had just been
read. All of it runs as SQL inside DuckDB; Python only writes the statements and
reads back a few counts.

The modules, in the order an ingest runs them (`load` runs the others):

- `file_store`: which files are new (path, size, SHA-256), the per-file store of typed rows;
- `extracts`: find an entity's files, read and check each file's header, pick its reader;
- `typed_rows`: step 1, one pass per file -> typed rows (and the ones that failed);
- `rejected_lines`: CSV lines the reader set aside, and the row numbers around them;
- `latest_wins`: step 2, deduplication across files (the latest file wins a key);
- `quarantine`: the rows that could not be typed or read;
- `row_accounting`: read = loaded + quarantined + duplicates, per file, or roll back;
- `append`: the usual night, new files sorting after every file read: steps 2-3 for them alone;
- `load`: step 3, the transaction that stores the new files and replaces the entity's
  tables and its log rows.
"""

from orchestration.lib.ingest.errors import RowAccountingError, SourceContractError
from orchestration.lib.ingest.extracts import EXTRACT_SUFFIXES, METADATA_COLUMNS, extract_files
from orchestration.lib.ingest.latest_wins import CONFLICTS_TABLE
from orchestration.lib.ingest.load import LOG_TABLE, ingest_entity, ingest_file_entity
from orchestration.lib.ingest.results import FileCounts, IngestResult

__all__ = [
    "CONFLICTS_TABLE",
    "EXTRACT_SUFFIXES",
    "LOG_TABLE",
    "METADATA_COLUMNS",
    "FileCounts",
    "IngestResult",
    "RowAccountingError",
    "SourceContractError",
    "extract_files",
    "ingest_entity",
    "ingest_file_entity",
]
