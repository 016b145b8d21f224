"""The per-entity store of typed rows, one set per extract file read, and what decides a re-read.

An ingest reads a file once: its typed rows (`valid`), its quarantined rows and its
row count go to the schema `ingest_store` of the work database, with the file's
fingerprint (path, size, SHA-256 of the content) in `ingest_store.files`. A file is
hashed again only when its size, times or inode are not those recorded with its hash
(`fingerprints`): a night hashes its new files, not the year before them. Every later
ingest recomputes `raw.<entity>`, quarantine, the ingest log and the key conflicts
from the store, reading only the files it has not read before.

An entity is re-read in full (its stored files forgotten) when one of its stored
files changed or disappeared, when the rules that typed the stored rows changed (the
contract's columns, plausible_years or `STORE_VERSION`), and when asked (`gtm refresh
--full`): the store then holds exactly what reading every file afresh would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.contract import DUCKDB_TYPES, Entity
from orchestration.lib.ingest.results import IngestResult
from orchestration.lib.typing_rules import quote_identifier, quote_literal

STORE_SCHEMA = "ingest_store"
FILES_TABLE = f"{STORE_SCHEMA}.files"
RUNS_TABLE = f"{STORE_SCHEMA}.runs"
# Raise when the way a file's rows are typed or stored changes: every entity is then re-read.
STORE_VERSION = 1
# A file changed within the file system's timestamp granularity after it was hashed keeps
# its times (git's "racily clean" file): a stored hash is reused only for a file whose
# times are at least this much older than the hashing.
RACY_NS = 2_000_000_000
# What `ingest_store.files` records of a file besides its fingerprint, to trust the hash later.
STAT_COLUMNS = (("mtime_ns", "BIGINT"), ("ctime_ns", "BIGINT"), ("inode", "UBIGINT"), ("hashed_at_ns", "BIGINT"))


@dataclass(frozen=True)
class Fingerprint:
    """What identifies a file's content: where it is, its size and its SHA-256."""

    path: str
    size: int
    sha256: str
    # how the file looked when hashed (mtime_ns, ctime_ns, inode) and when (ns since the
    # epoch): not part of its identity, only what lets a later ingest trust the hash
    stat: tuple[int, int, int] = field(default=(0, 0, 0), compare=False)
    hashed_at_ns: int = field(default=0, compare=False)


@dataclass(frozen=True)
class StoredFile:
    """A file whose rows are in the store, at its place in this ingest's read order."""

    index: int  # position in name order; the highest index wins a key
    name: str  # as recorded in _source_file
    rows_read: int  # records read, including CSV lines the reader rejected
    extras: tuple[str, ...]  # its columns not in the contract


@dataclass(frozen=True)
class ReadPlan:
    """Which of an entity's files this ingest reads, and why everything is re-read (if it is)."""

    to_read: tuple[int, ...]  # positions (in name order) of the files to read
    skipped: int  # files already in the store, unchanged
    reread: str | None  # why every file is read again; None when only new files are read


def fingerprint(path: Path, known: dict[str, Fingerprint] | None = None) -> Fingerprint:
    """The file's fingerprint; `known` (by resolved path) is reused when the file's size,
    times and inode are those recorded with it and older than its hashing by RACY_NS."""
    resolved = str(path.resolve())
    status = path.stat()
    stat = (status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    old = (known or {}).get(resolved)
    if (
        old is not None
        and (old.size, old.stat) == (status.st_size, stat)
        and max(status.st_mtime_ns, status.st_ctime_ns) < old.hashed_at_ns - RACY_NS
    ):
        return old
    hashed_at_ns = time.time_ns()  # before reading: a change while hashing is after it
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    return Fingerprint(resolved, status.st_size, digest, stat, hashed_at_ns)


def fingerprints(con: duckdb.DuckDBPyConnection, entity: Entity, paths: Sequence[Path]) -> list[Fingerprint]:
    """The fingerprints of an entity's files, hashing only those not as they were when
    their stored fingerprint was taken."""
    known = {
        path: Fingerprint(path, size, sha, (mtime, ctime, inode), hashed_at)
        for path, size, sha, mtime, ctime, inode, hashed_at in con.execute(
            f"""SELECT path, size, sha256, mtime_ns, ctime_ns, inode, hashed_at_ns FROM {FILES_TABLE}
                WHERE entity = ? AND hashed_at_ns IS NOT NULL""",
            [entity.qualified_name],
        ).fetchall()
    }
    return [fingerprint(path, known) for path in paths]


def valid_table(entity: Entity) -> str:
    return f"{STORE_SCHEMA}.{quote_identifier(entity.qualified_name)}"


def quarantine_table(entity: Entity) -> str:
    return f"{STORE_SCHEMA}.{quote_identifier(entity.qualified_name + '__quarantine')}"


def read_rules(entity: Entity, years: tuple[int, int]) -> str:
    """The rules the stored rows were typed by: a change means they must be typed again."""
    columns = ",".join(f"{c.name}:{c.type}" for c in entity.columns)
    return f"v{STORE_VERSION} years={years[0]}-{years[1]} key={','.join(entity.key)} columns={columns}"


def create_store(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STORE_SCHEMA}")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {FILES_TABLE} (
            entity VARCHAR, source_file VARCHAR, path VARCHAR, size BIGINT, sha256 VARCHAR,
            rows_read BIGINT, extras VARCHAR[], read_rules VARCHAR, read_at TIMESTAMP)"""
    )
    for name, sql_type in STAT_COLUMNS:  # added to a store written before they existed
        con.execute(f"ALTER TABLE {FILES_TABLE} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    typed = [f"{quote_identifier(c.name)} {DUCKDB_TYPES[c.type]}" for c in entity.columns]
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {valid_table(entity)} (
            _source_file VARCHAR, _source_row BIGINT, {", ".join(typed)})"""
    )
    text = [f"{quote_identifier(c.name)} VARCHAR" for c in entity.columns]
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {quarantine_table(entity)} ({", ".join(text)},
            _source_file VARCHAR, _source_row BIGINT, _column VARCHAR, _reason VARCHAR, _raw_line VARCHAR)"""
    )


def plan_reads(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    names: Sequence[str],
    prints: Sequence[Fingerprint],
    rules: str,
    full: bool,
) -> ReadPlan:
    """Compare the entity's files (in name order) with the store."""
    stored = {
        name: (Fingerprint(path, size, sha), stored_rules)
        for name, path, size, sha, stored_rules in con.execute(
            f"SELECT source_file, path, size, sha256, read_rules FROM {FILES_TABLE} WHERE entity = ?",
            [entity.qualified_name],
        ).fetchall()
    }
    everything = tuple(range(len(names)))
    if full:
        return ReadPlan(everything, 0, "a full refresh was asked for" if stored else None)
    current = dict(zip(names, prints, strict=True))
    gone = sorted(name for name in stored if name not in current)
    changed = sorted(name for name, (print_, _) in stored.items() if name in current and current[name] != print_)
    if gone or changed:
        reasons = [f"{n} disappeared" for n in gone[:3]] + [f"{n} changed" for n in changed[:3]]
        more = len(gone) + len(changed) - len(reasons)
        return ReadPlan(everything, 0, ", ".join(reasons) + (f" and {more} more" if more > 0 else ""))
    if any(stored_rules != rules for _, stored_rules in stored.values()):
        return ReadPlan(everything, 0, "the typing rules (contract columns or plausible_years) changed")
    to_read = tuple(i for i, name in enumerate(names) if name not in stored)
    return ReadPlan(to_read, len(names) - len(to_read), None)


def forget_entity(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Drop every stored file of the entity (before it is re-read in full)."""
    con.execute(f"DELETE FROM {FILES_TABLE} WHERE entity = ?", [entity.qualified_name])
    con.execute(f"DELETE FROM {valid_table(entity)}")
    con.execute(f"DELETE FROM {quarantine_table(entity)}")


def add_extra_columns(con: duckdb.DuckDBPyConnection, entity: Entity, extras: Sequence[str]) -> None:
    """Give the store tables a text column for each extra column a new file brings."""
    for table in (valid_table(entity), quarantine_table(entity)):
        have = {name for (name,) in con.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall()}
        for name in extras:
            if name not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {quote_identifier(name)} VARCHAR")


def record_file(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    name: str,
    print_: Fingerprint,
    rows_read: int,
    extras: Sequence[str],
    rules: str,
    read_at: dt.datetime,
) -> None:
    con.execute(
        f"""INSERT INTO {FILES_TABLE} (entity, source_file, path, size, sha256, rows_read, extras, read_rules,
                read_at, mtime_ns, ctime_ns, inode, hashed_at_ns)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [entity.qualified_name, name, print_.path, print_.size, print_.sha256, rows_read, list(extras), rules,
         read_at, *print_.stat, print_.hashed_at_ns],
    )


def stored_files(con: duckdb.DuckDBPyConnection, entity: Entity, names: Sequence[str]) -> list[StoredFile]:
    """The stored files, in the order of `names` (the read order)."""
    rows = {
        name: (rows_read, tuple(extras))
        for name, rows_read, extras in con.execute(
            f"SELECT source_file, rows_read, extras FROM {FILES_TABLE} WHERE entity = ?", [entity.qualified_name]
        ).fetchall()
    }
    return [StoredFile(i, name, *rows[name]) for i, name in enumerate(names)]


def read_order_sql(files: Sequence[StoredFile]) -> str:
    """SQL: a relation (name, fi) of the files in read order."""
    values = ", ".join(f"({quote_literal(f.name)}, {f.index})" for f in files)
    return f"(VALUES {values}) AS read_order(name, fi)"


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, result: IngestResult, ran_at: dt.datetime) -> None:
    """What an ingest run read and skipped for an entity (the publication record sums it)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {STORE_SCHEMA}")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
            run_id VARCHAR, entity VARCHAR, files_read BIGINT, files_skipped BIGINT,
            reread VARCHAR, ran_at TIMESTAMP)"""
    )
    con.execute(
        f"INSERT INTO {RUNS_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, result.entity, len(result.files_read), result.files_skipped, result.reread, ran_at],
    )


def files_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[int, int]:
    """Files the run read and skipped, over every entity (0, 0 when it ingested nothing)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'runs'",
        [STORE_SCHEMA],
    ).fetchone()[0]
    if not exists:
        return 0, 0
    read, skipped = con.execute(
        f"SELECT coalesce(sum(files_read), 0), coalesce(sum(files_skipped), 0) FROM {RUNS_TABLE} WHERE run_id = ?",
        [run_id],
    ).fetchone()
    return int(read), int(skipped)
