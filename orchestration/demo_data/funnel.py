"""Leads: arrivals per channel and day, and their way through the funnel.

Channels differ in volume, lead quality and segment mix (company.CHANNELS).
Demand grows, dips in summer and peaks in Q4; paid social is pushed in the last
part of the history without converting any better. Milestones after as_of have
not happened yet and are null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.campaigns import Campaigns, quarter_index
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.timeline import (
    DAY,
    SECOND,
    SECONDS_PER_DAY,
    Timeline,
    at_office_time,
    month_of_year,
)

NAT = np.datetime64("NaT", "s")
HOUR = 3600


@dataclass(frozen=True)
class Leads(Columnar):
    created_at: np.ndarray  # [s]
    channel: np.ndarray
    campaign: np.ndarray  # -1: none
    segment: np.ndarray  # the segment of the company behind the lead
    mql_at: np.ndarray
    sql_at: np.ndarray
    converted_at: np.ndarray
    disqualified_at: np.ndarray
    wins: np.ndarray  # bool: its opportunity will be won

    @property
    def converted(self) -> np.ndarray:
        return ~np.isnat(self.converted_at)


def demand(timeline: Timeline, channel: int, days: np.ndarray) -> np.ndarray:
    """Relative lead volume of a channel on each day: growth x seasonality x campaigns."""
    years = timeline.years_in(days)
    level = (1 + co.LEAD_GROWTH_PER_YEAR) ** years * co.LEAD_SEASONALITY[month_of_year(days)]
    if channel == co.PAID_SOCIAL:
        ramp = np.clip((years - co.PAID_SOCIAL_PUSH_START_YEARS) / 0.5, 0, 1)
        level = level * (1 + (co.PAID_SOCIAL_PUSH - 1) * ramp)
    return level


def make_leads(
    rng: np.random.Generator, timeline: Timeline, scale: float, campaigns: Campaigns
) -> Leads:
    day, channel, campaign = _arrivals(rng, timeline, scale, campaigns)
    created = at_office_time(rng, day)
    order = np.lexsort((channel, created))
    created, channel, campaign = created[order], channel[order], campaign[order]
    segment = _segments(rng, channel)
    return _milestones(rng, timeline, created, channel, campaign, segment)


def _arrivals(
    rng: np.random.Generator, timeline: Timeline, scale: float, campaigns: Campaigns
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = timeline.days
    parts = []
    for c, spec in enumerate(co.CHANNELS):
        if spec.event_based:
            parts.append(_event_arrivals(rng, timeline, scale, campaigns, c))
            continue
        counts = rng.poisson(scale * spec.leads_per_day * demand(timeline, c, days))
        day = np.repeat(days, counts)
        channel = np.full(len(day), c)
        campaign = campaigns.pick(rng, channel, quarter_index(timeline, day))
        untagged = rng.random(len(day)) >= spec.campaign_share
        parts.append((day, channel, np.where(untagged, -1, campaign)))
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]


def _event_arrivals(
    rng: np.random.Generator, timeline: Timeline, scale: float, campaigns: Campaigns, c: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leads created in the days after each event of the channel."""
    spec = co.CHANNELS[c]
    events = np.flatnonzero(campaigns.channel == c)
    per_quarter = np.bincount(campaigns.quarter[events], minlength=1)[campaigns.quarter[events]]
    expected = (
        scale * spec.leads_per_day * 91.3 / per_quarter
        * demand(timeline, c, campaigns.start[events])
    )
    counts = rng.poisson(expected)
    campaign = np.repeat(events, counts)
    day = campaigns.end[campaign] + rng.integers(0, co.LEADS_PER_EVENT_DAYS, len(campaign)) * DAY
    keep = day <= timeline.as_of
    untagged = rng.random(len(campaign)) >= spec.campaign_share
    return day[keep], np.full(keep.sum(), c), np.where(untagged, -1, campaign)[keep]


def _segments(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(np.array([c.segment_mix for c in co.CHANNELS]), axis=1)
    u = rng.random(len(channel))
    return (u[:, None] > cdf[channel, :-1]).sum(axis=1).astype(np.int8)


def _lag(
    rng: np.random.Generator, mean_days: float, n: int, minimum_hours: float = 0
) -> np.ndarray:
    seconds = minimum_hours * HOUR + rng.exponential(mean_days * SECONDS_PER_DAY, n)
    return seconds.astype(np.int64) * SECOND


def _milestones(
    rng: np.random.Generator,
    timeline: Timeline,
    created: np.ndarray,
    channel: np.ndarray,
    campaign: np.ndarray,
    segment: np.ndarray,
) -> Leads:
    n = len(created)
    p = {name: co.channel_array(name)[channel] for name in (
        "p_mql", "p_sql", "p_direct_sql", "p_opportunity", "win_multiplier")}
    u = rng.random((4, n))
    is_mql = u[0] < p["p_mql"]
    is_sql = np.where(is_mql, u[1] < p["p_sql"], u[1] < p["p_direct_sql"])
    is_converted = is_sql & (u[2] < p["p_opportunity"])
    win_rate = np.minimum(co.segment_array("win_rate")[segment] * p["win_multiplier"], 0.9)

    mql_at = np.where(is_mql, created + _lag(rng, co.LAG_MQL_DAYS, n), NAT)
    sql_from = np.where(is_mql, mql_at, created)
    sql_at = np.where(is_sql, sql_from + _lag(rng, co.LAG_SQL_DAYS, n, 1), NAT)
    converted_at = np.where(is_converted, sql_at + _lag(rng, co.LAG_CONVERT_DAYS, n, 1), NAT)
    stalled_since = np.where(is_sql, sql_at, sql_from)
    disqualify = ~is_converted & (rng.random(n) < co.DISQUALIFY_SHARE)
    disqualified_at = np.where(
        disqualify, stalled_since + _lag(rng, co.LAG_DISQUALIFY_DAYS, n, 24), NAT
    )
    happened = [_by(timeline, t) for t in (mql_at, sql_at, converted_at, disqualified_at)]
    return Leads(created, channel, campaign, segment, *happened, wins=u[3] < win_rate)


def _by(timeline: Timeline, moments: np.ndarray) -> np.ndarray:
    """Milestones after as_of have not happened yet."""
    return np.where(moments < timeline.cutoff, moments, NAT)


def lead_columns(
    leads: Leads,
    ids: np.ndarray,
    campaign_ids: np.ndarray,
    account_ids: np.ndarray,
    opportunity_ids: np.ndarray,
) -> dict[str, np.ndarray]:
    """The crm/leads extract; the id arrays are per lead (None where absent)."""
    names = np.array(co.CHANNEL_NAMES, dtype=object)
    return {
        "lead_id": ids,
        "created_at": leads.created_at,
        "channel": names[leads.channel],
        "campaign_id": campaign_ids,
        "account_id": account_ids,
        "mql_at": leads.mql_at,
        "sql_at": leads.sql_at,
        "converted_at": leads.converted_at,
        "opportunity_id": opportunity_ids,
        "disqualified_at": leads.disqualified_at,
    }
