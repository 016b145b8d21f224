"""Exchange rates into USD: a mean-reverting random walk per currency, on weekdays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data.company import CURRENCIES, FX_ANCHORS, USD
from orchestration.demo_data.timeline import DAY, Timeline

LEAD_DAYS = 45  # rates start this long before the history (before any dated amount)
DAILY_VOLATILITY = 0.004
MEAN_REVERSION = 0.01


@dataclass(frozen=True)
class FxRates:
    dates: np.ndarray  # [D], weekdays
    rates: np.ndarray  # [date, currency] USD per unit; the USD column is 1

    def rate(self, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The latest rate on or before each day (the first rate for earlier days)."""
        index = np.searchsorted(self.dates, days, side="right") - 1
        return self.rates[np.clip(index, 0, len(self.dates) - 1), currency]

    def to_usd(self, amount: np.ndarray, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        return amount * self.rate(currency, days)

    def from_usd(self, usd: np.ndarray, currency: np.ndarray, days: np.ndarray) -> np.ndarray:
        return usd / self.rate(currency, days)

    def columns(self) -> dict[str, np.ndarray]:
        """The finance/fx_rates extract: every non-USD rate, by date and currency."""
        foreign = [c for c in range(len(CURRENCIES)) if c != USD]
        n = len(self.dates)
        return {
            "rate_date": np.tile(self.dates, len(foreign)),
            "currency": np.repeat(np.array(CURRENCIES, dtype=object)[foreign], n),
            "rate_to_reporting": np.round(self.rates[:, foreign].T.ravel(), 6),
        }


def simulate_fx(rng: np.random.Generator, timeline: Timeline) -> FxRates:
    """Weekday rates from before the history up to as_of."""
    days = np.arange(timeline.start - LEAD_DAYS * DAY, timeline.as_of + DAY, dtype="datetime64[D]")
    weekdays = days[np.is_busday(days)]
    rates = np.ones((len(weekdays), len(CURRENCIES)))
    for currency, anchor in sorted(FX_ANCHORS.items()):
        rates[:, currency] = _mean_reverting_walk(rng, np.log(anchor), len(weekdays))
    return FxRates(weekdays, np.round(rates, 6))


def _mean_reverting_walk(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    shocks = rng.normal(0.0, DAILY_VOLATILITY, n)
    level = np.empty(n)
    current = mean + rng.normal(0.0, 0.03)
    for i in range(n):  # a few hundred steps: a plain loop is clearer than a filter
        current += MEAN_REVERSION * (mean - current) + shocks[i]
        level[i] = current
    return np.exp(level)
