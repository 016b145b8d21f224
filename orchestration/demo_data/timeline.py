"""The history's time span and vectorised calendar arithmetic on numpy datetime64.

Dates are `datetime64[D]`, timestamps `datetime64[s]` (UTC); NaT is null and
propagates through arithmetic, so nullable milestones need no special cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAY = np.timedelta64(1, "D")
SECOND = np.timedelta64(1, "s")
SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Timeline:
    """The history: from the 1st of the month `years` before as_of to as_of (inclusive)."""

    start: np.datetime64  # [D]
    as_of: np.datetime64  # [D]

    @classmethod
    def ending(cls, as_of: dt.date, years: int) -> Timeline:
        start = dt.date(as_of.year - years, as_of.month, 1)
        return cls(np.datetime64(start, "D"), np.datetime64(as_of, "D"))

    @property
    def days(self) -> np.ndarray:
        """Every day of the history."""
        return np.arange(self.start, self.as_of + DAY, dtype="datetime64[D]")

    @property
    def cutoff(self) -> np.datetime64:
        """The first moment after the history (midnight after as_of)."""
        return (self.as_of + DAY).astype("datetime64[s]")

    @property
    def months(self) -> np.ndarray:
        """The first day of every month of the history."""
        first, last = self.start.astype("datetime64[M]"), self.as_of.astype("datetime64[M]")
        return np.arange(first, last + 1).astype("datetime64[D]")

    def years_in(self, moments: np.ndarray) -> np.ndarray:
        """Years since the start of the history (dates or timestamps)."""
        days = (moments.astype("datetime64[D]") - self.start) / DAY
        return days / DAYS_PER_YEAR

    def at(self, years: float) -> np.datetime64:
        """The day `years` after the start."""
        return self.start + np.timedelta64(round(years * DAYS_PER_YEAR), "D")


def month_start(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]").astype("datetime64[D]")


def quarter_start(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[M]").astype(np.int64)
    return (months - months % 3).astype("datetime64[M]").astype("datetime64[D]")


def month_of_year(days: np.ndarray) -> np.ndarray:
    """0 for January ... 11 for December."""
    return days.astype("datetime64[M]").astype(np.int64) % 12


def add_months(days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """`days` plus whole months, the day of month clamped to the target month's length."""
    first = days.astype("datetime64[M]")
    day_of_month = (days - first.astype("datetime64[D]")) / DAY
    target = first + np.asarray(months, dtype=np.int64)
    length = (target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")
    offset = np.minimum(day_of_month, length / DAY - 1).astype(np.int64)
    return target.astype("datetime64[D]") + offset


def months_between(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Calendar months from the month of `first` to the month of `last`."""
    return last.astype("datetime64[M]").astype(np.int64) - first.astype("datetime64[M]").astype(
        np.int64
    )


def days_from(start: np.ndarray | np.datetime64, days: np.ndarray) -> np.ndarray:
    """`start` plus whole (rounded) days."""
    return start + np.rint(days).astype(np.int64) * DAY


def at_office_time(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """A timestamp on each day, mostly during (transatlantic) office hours."""
    seconds = np.clip(rng.normal(15 * 3600, 3.5 * 3600, len(days)), 0, SECONDS_PER_DAY - 1)
    return days.astype("datetime64[s]") + seconds.astype(np.int64) * SECOND


def date_of(moments: np.ndarray) -> np.ndarray:
    return moments.astype("datetime64[D]")
