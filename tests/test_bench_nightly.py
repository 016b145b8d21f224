"""bench/nightly.py: the landing of the nightly scenario (the demo's year of extracts, the newest held back)."""

from __future__ import annotations

from pathlib import Path

from bench.nightly import files_per_entity, hold_back_newest, newest_bytes, put_back


def _land(landing: Path, relative: str, text: str = "header\nrow\n") -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_files_are_counted_per_entity_at_the_generators_cadence(tmp_path):
    _land(tmp_path, "crm/opportunities/2026-11-19.csv")
    _land(tmp_path, "crm/opportunities/2026-11-26.csv")
    _land(tmp_path, "crm/opportunities/notes.txt")  # not an extract
    _land(tmp_path, "crm/accounts/2026-11-26.parquet")

    files = files_per_entity(tmp_path)

    assert (files["crm__opportunities"], files["crm__accounts"], files["crm__leads"]) == (2, 1, 0)
    assert len(files) == 9  # every source entity, landed or not


def test_the_newest_file_of_every_entity_is_held_back_and_put_back(tmp_path):
    landing, held = tmp_path / "landing", tmp_path / "held"
    _land(landing, "crm/opportunities/2026-11-19.csv")
    _land(landing, "crm/opportunities/2026-11-26.csv")
    _land(landing, "crm/accounts/2026-11-26.csv")  # the only file: stays

    moved = hold_back_newest(landing, held)
    assert moved == [held / "crm/opportunities/2026-11-26.csv"]
    assert sorted(p.name for p in (landing / "crm/opportunities").iterdir()) == ["2026-11-19.csv"]
    put_back(landing, held, moved)
    assert sorted(p.name for p in (landing / "crm/opportunities").iterdir()) == ["2026-11-19.csv", "2026-11-26.csv"]


def test_the_newest_files_share_of_its_entitys_bytes(tmp_path):
    _land(tmp_path, "crm/leads/2025-11-30.csv", "id\n" + "L1\n" * 10)  # 3 + 30 bytes
    _land(tmp_path, "crm/leads/2026-11-26.csv", "id\nL2\n")  # 6 bytes
    _land(tmp_path, "crm/leads/notes.txt", "not an extract")
    _land(tmp_path, "crm/accounts/2026-11-26.csv")  # the only file: no night brings it

    assert newest_bytes(tmp_path) == {"crm__leads": (6, 39)}
