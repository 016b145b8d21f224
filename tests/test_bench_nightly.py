"""bench/nightly.py: the landing of the nightly scenario (a year of extracts, the newest held back)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.nightly import hold_back_newest, make_history, put_back

AS_OF = dt.date(2026, 11, 26)


def _land(landing: Path, relative: str) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("header\nrow\n")
    return path


def test_a_year_of_extracts_weekly_for_opportunities_monthly_for_the_rest(tmp_path):
    _land(tmp_path, "crm/opportunities/2026-11-19.csv")
    _land(tmp_path, "crm/opportunities/2026-11-26.csv")
    _land(tmp_path, "crm/accounts/2026-11-26.csv")

    files = make_history(tmp_path, AS_OF)

    # weekly back from the oldest (2026-11-19) while after 2025-11-26: 51 more (357 days back), 53 in all
    opportunities = sorted(p.name for p in (tmp_path / "crm/opportunities").iterdir())
    assert (len(opportunities), opportunities[0], opportunities[1]) == (53, "2025-11-27.csv", "2025-12-04.csv")
    # monthly back from 2026-11-26: 2026-10-26 ... 2025-12-26 (11 more, 12 in all)
    accounts = sorted(p.name for p in (tmp_path / "crm/accounts").iterdir())
    assert (len(accounts), accounts[0], accounts[-2]) == (12, "2025-12-26.csv", "2026-10-26.csv")
    assert (files["crm__opportunities"], files["crm__accounts"], files["crm__leads"]) == (53, 12, 0)
    assert make_history(tmp_path, AS_OF) == files  # a second call adds nothing


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
