"""Monthly extracts of the CRM's other entities, on the last day of each of the twelve
months before the as-of date's; the as-of date's full extract follows, and the last
extract wins, so the final state is the full one.

- `delta` (accounts, leads): the rows created in that month, as they were that day;
- `as_on` (campaigns, opportunity stage history): every row the CRM had that day.

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


def delta(columns: dict[str, np.ndarray], created: str, day: np.datetime64) -> dict[str, np.ndarray]:
    """The rows whose `created` value falls in `day`'s month, as of the end of `day`."""
    return _as_of_end(columns, created, day, day.astype("datetime64[M]").astype("datetime64[s]"))


def as_on(columns: dict[str, np.ndarray], created: str, day: np.datetime64) -> dict[str, np.ndarray]:
    """Every row whose `created` value is on or before `day`, as of the end of `day`."""
    return _as_of_end(columns, created, day, None)


def _as_of_end(
    columns: dict[str, np.ndarray], created: str, day: np.datetime64, since: np.datetime64 | None
) -> dict[str, np.ndarray]:
    """The rows created from `since` (None: ever) to the end of `day`, with every other
    date or timestamp after `day` not set yet."""
    cutoff = (day + DAY).astype("datetime64[s]")
    created_at = columns[created].astype("datetime64[s]")
    keep = created_at < cutoff
    if since is not None:
        keep &= created_at >= since
    out = {name: values[keep] for name, values in columns.items()}
    for name, values in out.items():
        if name == created or not np.issubdtype(values.dtype, np.datetime64):
            continue
        later = ~np.isnat(values) & (values.astype("datetime64[s]") >= cutoff)
        out[name] = np.where(later, np.datetime64("NaT"), values).astype(values.dtype)
        for linked in SET_TOGETHER.get(name, ()):
            out[linked] = np.where(later, None, out[linked])
    return out
