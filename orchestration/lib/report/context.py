"""What every part of the report shares: the open published file, its publication
record and band thresholds, each mart read once, and the currency formats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestration.lib.report import fmt
from orchestration.lib.report import queries as q

METRICS_DOC = "docs/metrics.md"


@dataclass
class Context:
    db: q.PublishedFile
    thresholds: tuple[float, float, float] | None  # as published (marts.commercial_ratio_bands); None: not recorded
    now: dt.datetime
    publication: q.Publication | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date | None:
        return self.publication.as_of_date if self.publication else None

    @property
    def currency(self) -> str:
        return self.publication.currency if self.publication else "USD"

    def money(self, value: float | None) -> str:
        return fmt.money(value, self.currency)

    def money_axis(self, value: float | None) -> str:
        return fmt.money(value, self.currency, trim=True)

    def money_full(self, value: float | None) -> str:
        return fmt.money_full(value, self.currency)

    def data(self, name: str, load: Callable[[], Any]) -> Any:
        """Each mart is read once, even when the headline and its section both use it;
        a NotAvailable is remembered too."""
        if name not in self.cache:
            try:
                self.cache[name] = load()
            except q.NotAvailable as error:
                self.cache[name] = error
        value = self.cache[name]
        if isinstance(value, q.NotAvailable):
            raise value
        return value


def latest(rows: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    return next((r for r in reversed(rows) if r.get(key) is not None), None)
