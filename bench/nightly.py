"""The nightly scenario of bench/run.py (issue 16): a warehouse that already holds a year of
extracts receives one new extract of every entity; the incremental refresh against a full one.

The landing is the demo data at the generator's own cadence (`gtm demo-data --help`):
opportunities weekly over the last twelve months; the CRM's other entities monthly
(accounts and leads in full once, then deltas of what was created or changed; campaigns
and stage history in full); the billing and finance entities once. The newest file of
every entity that has more than one is held back, a first refresh reads the rest (the
warehouse as the night before), the held-back files are put back, and from a copy of that
warehouse each run times `gtm refresh` (reads the new files) and `gtm refresh --full`
(re-reads every file), and compares their publications. An entity landed once has no new file that night.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.lib.contract import SOURCE_ENTITIES
from orchestration.lib.ingest import extract_files


def files_per_entity(landing: Path) -> dict[str, int]:
    """The extract files of every entity in the landing folder."""
    return {
        entity.qualified_name: len(extract_files(folder)) if (folder := landing / entity.folder).is_dir() else 0
        for entity in SOURCE_ENTITIES
    }


def newest_bytes(landing: Path) -> dict[str, tuple[int, int]]:
    """(bytes of the newest extract, bytes of all extracts) of every entity with several
    files: what a night that brings the newest file adds to what the entity holds."""
    sizes = {}
    for entity in SOURCE_ENTITIES:
        folder = landing / entity.folder
        files = extract_files(folder) if folder.is_dir() else []
        if len(files) >= 2:
            sizes[entity.qualified_name] = (files[-1].stat().st_size, sum(p.stat().st_size for p in files))
    return sizes


def hold_back_newest(landing: Path, held: Path) -> list[Path]:
    """Move the newest extract of every entity out of the landing folder (into `held`)."""
    moved = []
    for entity in SOURCE_ENTITIES:
        folder = landing / entity.folder
        files = extract_files(folder) if folder.is_dir() else []
        if len(files) < 2:
            continue  # a required entity keeps its only file
        target = held / entity.folder / files[-1].name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(files[-1], target)
        moved.append(target)
    return moved


def put_back(landing: Path, held: Path, moved: list[Path]) -> None:
    for path in moved:
        shutil.move(path, landing / path.relative_to(held))
