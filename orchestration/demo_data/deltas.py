"""Monthly extracts of the CRM's other entities, on the last day of each of the twelve
months before the as-of date's, then on the as-of date.

- accounts, leads: one full extract on the first of those days (`as_on`), then on every
  later day the rows created or changed since the previous extract (`changed_since`), as
  they are that day. The newest file holding a key wins (docs/landing-contract.md), and
  a row's newest file is the one after its last change, so the files together give the
  as-of state.
- campaigns, opportunity stage history: every row the CRM had that day (`as_on`).

Either way a row shows no milestone after the extract's day (it was not set yet).
"""

from __future__ import annotations

import numpy as np

from orchestration.demo_data.timeline import DAY

DELTA_MONTHS = 12
# A lead names its deal only once converted.
SET_TOGETHER = {"converted_at": ("opportunity_id",)}


def month_end_days(as_of: np.datetime64, first_day: np.datetime64) -> list[np.datetime64]:
    """The last days of the twelve months before as_of's, oldest first, not before first_day."""
    month = as_of.astype("datetime64[M]")
    days = [(month - k + 1).astype("datetime64[D]") - DAY for k in range(DELTA_MONTHS, 0, -1)]
    return [d for d in days if d >= first_day]


def as_on(columns: dict[str, np.ndarray], created: str, day: np.datetime64) -> dict[str, np.ndarray]:
    """Every row whose `created` value is on or before `day`, as of the end of `day`."""
    return _as_of_end(columns, created, day, _kept_by_creation(columns, created, day))


def changed_since(
    columns: dict[str, np.ndarray], created: str, previous: np.datetime64, day: np.datetime64
) -> dict[str, np.ndarray]:
    """The rows created or changed after `previous` up to the end of `day`, as of the end of
    `day`. A row changes only when one of its dates or timestamps is set (the others, and the
    columns set together with one, follow from them), so: the rows with any date or timestamp
    in that window."""
    since, cutoff = _end_of(previous), _end_of(day)
    changed = np.zeros(len(columns[created]), dtype=bool)
    for values in columns.values():
        if np.issubdtype(values.dtype, np.datetime64):
            moments = values.astype("datetime64[s]")
            changed |= ~np.isnat(moments) & (moments >= since) & (moments < cutoff)
    return _as_of_end(columns, created, day, changed & _kept_by_creation(columns, created, day))


def _end_of(day: np.datetime64) -> np.datetime64:
    """The first moment after `day`."""
    return (day + DAY).astype("datetime64[s]")


def _kept_by_creation(columns: dict[str, np.ndarray], created: str, day: np.datetime64) -> np.ndarray:
    return columns[created].astype("datetime64[s]") < _end_of(day)


def _as_of_end(
    columns: dict[str, np.ndarray], created: str, day: np.datetime64, keep: np.ndarray
) -> dict[str, np.ndarray]:
    """The `keep` rows, with every date or timestamp other than `created` after `day` not set
    yet (and the columns set together with it)."""
    cutoff = _end_of(day)
    out = {name: values[keep] for name, values in columns.items()}
    for name, values in out.items():
        if name == created or not np.issubdtype(values.dtype, np.datetime64):
            continue
        later = ~np.isnat(values) & (values.astype("datetime64[s]") >= cutoff)
        out[name] = np.where(later, np.datetime64("NaT"), values).astype(values.dtype)
        for linked in SET_TOGETHER.get(name, ()):
            out[linked] = np.where(later, None, out[linked])
    return out
