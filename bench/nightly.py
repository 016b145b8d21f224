"""The nightly scenario of bench/run.py (issue 16): a warehouse that already holds a year of
extracts receives one new extract of every entity; the incremental refresh against a full one.

The landing is the demo data with its history made a year long where the generator
wrote less: opportunities weekly, every other entity monthly (the cadence of issue 16),
the missing older extracts being copies of the entity's oldest one (hard links: same
bytes, no disk). Then the newest file of every entity is held back, a first refresh
reads the year (the warehouse as the night before), the held-back files are put back,
and from a copy of that warehouse each run times `gtm refresh` (reads the new files)
and `gtm refresh --full` (re-reads every file), and compares their publications.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from orchestration.lib.contract import OPPORTUNITIES, SOURCE_ENTITIES, Entity
from orchestration.lib.ingest import extract_files
from orchestration.lib.ingest.extracts import is_dated

HISTORY_DAYS = 365


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, min(day.day, 28))


def _history_dates(entity: Entity, oldest: dt.date, as_of: dt.date) -> list[dt.date]:
    """Extract dates before `oldest` back to a year before `as_of`, at the entity's cadence."""
    start = as_of - dt.timedelta(days=HISTORY_DAYS)
    dates, step = [], 1
    while True:
        day = oldest - dt.timedelta(weeks=step) if entity == OPPORTUNITIES else _months_back(oldest, step)
        if day <= start:
            return dates
        dates.append(day)
        step += 1


def make_history(landing: Path, as_of: dt.date) -> dict[str, int]:
    """Give every entity a year of extracts (adds only missing files); -> files per entity."""
    files: dict[str, int] = {}
    for entity in SOURCE_ENTITIES:
        folder = landing / entity.folder
        dated = [p for p in (extract_files(folder) if folder.is_dir() else []) if is_dated(p.name)]
        if dated:
            oldest = dated[0]
            for day in _history_dates(entity, dt.date.fromisoformat(oldest.name[:10]), as_of):
                target = folder / f"{day.isoformat()}{oldest.suffix}"
                if not target.exists():
                    os.link(oldest, target)
        files[entity.qualified_name] = len(extract_files(folder)) if folder.is_dir() else 0
    return files


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
