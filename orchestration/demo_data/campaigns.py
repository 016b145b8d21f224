"""Marketing campaigns: quarterly always-on campaigns per channel, and dated events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data.company import CAMPAIGN_THEMES, CHANNELS, EUR, GBP, USD, Channel
from orchestration.demo_data.timeline import DAY, Timeline, add_months, quarter_start

EVENT_CITIES = (
    ("New York", USD), ("London", GBP), ("Berlin", EUR), ("San Francisco", USD),
    ("Chicago", USD), ("Paris", EUR), ("Amsterdam", EUR), ("Austin", USD),
    ("Boston", USD), ("Dublin", EUR),
)


@dataclass(frozen=True)
class Campaigns:
    channel: np.ndarray  # channel code
    start: np.ndarray  # [D]
    end: np.ndarray  # [D], NaT while running
    name: np.ndarray  # object
    currency: np.ndarray  # the currency its costs are paid in
    quarter: np.ndarray  # quarter index within the history
    # Always-on campaigns of (channel, quarter): indices first .. first + count - 1.
    block_first: np.ndarray  # [channel, quarter]
    block_count: np.ndarray  # [channel, quarter]

    def __len__(self) -> int:
        return len(self.channel)

    def pick(
        self, rng: np.random.Generator, channel: np.ndarray, quarter: np.ndarray
    ) -> np.ndarray:
        """A random always-on campaign of each lead's channel and quarter (-1 if none)."""
        first = self.block_first[channel, quarter]
        count = self.block_count[channel, quarter]
        chosen = first + np.floor(rng.random(len(channel)) * count).astype(np.int64)
        return np.where(count > 0, chosen, -1)

    def columns(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        names = np.array([c.name for c in CHANNELS], dtype=object)
        return {
            "campaign_id": ids,
            "campaign_name": self.name,
            "channel": names[self.channel],
            "start_date": self.start,
            "end_date": self.end,
        }


def quarters_of(timeline: Timeline) -> np.ndarray:
    """The first day of every quarter the history touches."""
    first = quarter_start(np.array([timeline.start]))[0]
    count = (timeline.as_of.astype("datetime64[M]") - first.astype("datetime64[M]")).astype(int)
    return add_months(np.full(count // 3 + 1, first), np.arange(count // 3 + 1) * 3)


def quarter_index(timeline: Timeline, days: np.ndarray) -> np.ndarray:
    first = quarter_start(np.array([timeline.start]))[0].astype("datetime64[M]").astype(np.int64)
    return (days.astype("datetime64[M]").astype(np.int64) - first) // 3


def make_campaigns(rng: np.random.Generator, timeline: Timeline, scale: float) -> Campaigns:
    quarters = quarters_of(timeline)
    parts: list[dict[str, np.ndarray]] = []
    block_first = np.zeros((len(CHANNELS), len(quarters)), dtype=np.int64)
    block_count = np.zeros_like(block_first)
    size = 0
    for q, first_day in enumerate(quarters):
        for c, channel in enumerate(CHANNELS):
            if channel.campaigns_per_quarter == 0:
                continue
            count = max(1, round(channel.campaigns_per_quarter * scale))
            make = _events if channel.event_based else _always_on
            part = make(rng, timeline, channel, first_day, count)
            part["channel"] = np.full(count, c)
            part["quarter"] = np.full(count, q)
            if not channel.event_based:
                block_first[c, q], block_count[c, q] = size, count
            parts.append(part)
            size += count
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return Campaigns(**merged, block_first=block_first, block_count=block_count)


def _always_on(
    rng: np.random.Generator, timeline: Timeline, channel: Channel, first_day: np.datetime64,
    count: int,
) -> dict[str, np.ndarray]:
    """Campaigns running the whole quarter (still running when it holds as_of)."""
    last_day = add_months(np.array([first_day]), 3)[0] - DAY
    year, quarter = first_day.astype(object).year, first_day.astype(object).month // 3 + 1
    themes = rng.permutation(len(CAMPAIGN_THEMES))
    names = [
        f"{channel.label} - {CAMPAIGN_THEMES[themes[k % len(themes)]]}"
        f"{'' if k < len(themes) else f' {k // len(themes) + 1}'} - {year}Q{quarter}"
        for k in range(count)
    ]
    return {
        "start": np.full(count, max(first_day, timeline.start)),
        "end": np.full(count, last_day if last_day <= timeline.as_of else np.datetime64("NaT")),
        "name": np.array(names, dtype=object),
        "currency": np.full(count, USD, dtype=np.int8),
    }


def _events(
    rng: np.random.Generator, timeline: Timeline, channel: Channel, first_day: np.datetime64,
    count: int,
) -> dict[str, np.ndarray]:
    """One- to three-day events on random days of the quarter (up to as_of)."""
    earliest = max(first_day, timeline.start)
    latest = min(add_months(np.array([first_day]), 3)[0] - DAY, timeline.as_of)
    span = int((latest - earliest) / DAY) + 1
    start = earliest + rng.integers(0, span, count) * DAY
    city = rng.integers(0, len(EVENT_CITIES), count)
    year = first_day.astype(object).year
    names = [f"{channel.label} - {EVENT_CITIES[i][0]} Summit {year}" for i in city]
    return {
        "start": start,
        "end": np.minimum(start + rng.integers(0, 3, count) * DAY, timeline.as_of),
        "name": np.array(names, dtype=object),
        "currency": np.array([EVENT_CITIES[i][1] for i in city], dtype=np.int8),
    }
