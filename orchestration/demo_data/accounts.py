"""Accounts: prospects behind leads, one new account per converted lead, and the
customers the company already had when the history starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo_data import company as co
from orchestration.demo_data.columnar import Columnar
from orchestration.demo_data.funnel import Leads
from orchestration.demo_data.timeline import SECOND, SECONDS_PER_DAY, Timeline

NAME_STEMS = (
    "Acme", "Northwind", "Bluebird", "Summit", "Granite", "Harbor", "Juniper", "Keystone",
    "Lumen", "Maple", "Nimbus", "Orbit", "Pioneer", "Quartz", "Redwood", "Sierra", "Tidal",
    "Umbra", "Vertex", "Willow", "Apex", "Beacon", "Cobalt", "Delta", "Ember", "Falcon",
    "Glacier", "Horizon", "Iris", "Jasper", "Kite", "Lynx", "Meridian", "Nova", "Onyx",
    "Prism", "Quill", "Raven", "Sterling", "Trident",
)
NAME_WORDS = (
    "Analytics", "Logistics", "Health", "Systems", "Capital", "Foods", "Media", "Labs",
    "Robotics", "Energy", "Retail", "Software", "Partners", "Networks", "Bio", "Learning",
    "Insurance", "Motors", "Payments", "Cloud", "Studios", "Consulting", "Security", "Travel",
)
LEGAL_FORMS = {"US": "Inc", "CA": "Inc", "GB": "Ltd", "DE": "GmbH", "FR": "SAS", "NL": "BV",
               "IE": "Ltd", "ES": "SL", "AU": "Pty Ltd", "SE": "AB", "SG": "Pte Ltd"}


@dataclass(frozen=True)
class Accounts(Columnar):
    segment: np.ndarray  # the company's real segment (drives deal sizes)
    shows_segment: np.ndarray  # bool: the CRM has the segment filled in
    country: np.ndarray
    industry: np.ndarray
    created_at: np.ndarray  # [s]

    @property
    def currency(self) -> np.ndarray:
        return co.COUNTRY_CURRENCY[self.country]

    def columns(self, rng: np.random.Generator, ids: np.ndarray) -> dict[str, np.ndarray]:
        """The crm/accounts extract."""
        countries = np.array([c.code for c in co.COUNTRIES], dtype=object)
        segments = np.array([s.name for s in co.SEGMENTS], dtype=object)
        return {
            "account_id": ids,
            "account_name": _names(rng, self.country),
            "segment": np.where(self.shows_segment, segments[self.segment], None),
            "industry": np.array(co.INDUSTRIES, dtype=object)[self.industry],
            "country": countries[self.country],
            "created_at": self.created_at,
        }


def new_accounts(rng: np.random.Generator, segment: np.ndarray, created_at: np.ndarray) -> Accounts:
    """Accounts of the given segments and creation times, in random countries and industries."""
    n = len(segment)
    weights = np.array([c.weight for c in co.COUNTRIES])
    return Accounts(
        segment=segment.astype(np.int8),
        shows_segment=rng.random(n) >= co.NULL_SEGMENT_SHARE,
        country=rng.choice(len(co.COUNTRIES), n, p=weights / weights.sum()),
        industry=rng.integers(0, len(co.INDUSTRIES), n),
        created_at=created_at,
    )


def lead_accounts(
    rng: np.random.Generator, timeline: Timeline, leads: Leads
) -> tuple[Accounts, np.ndarray, np.ndarray]:
    """Accounts behind the leads: (accounts, account of each lead or -1, lead shows it).

    A converted lead gets an account of its own (its opportunity needs one); other
    leads are matched to a shared pool of prospect accounts, or to none.
    """
    n = len(leads)
    converted = np.flatnonzero(leads.converted)
    customers = new_accounts(
        rng, leads.segment[converted], _before(rng, leads.created_at[converted], 45)
    )
    account = np.full(n, -1, dtype=np.int64)
    account[converted] = np.arange(len(converted))
    matched = ~leads.converted & (rng.random(n) < co.LEAD_ACCOUNT_SHARE)
    prospects, pool_index = _prospect_pool(rng, timeline, leads, np.flatnonzero(matched))
    account[matched] = len(converted) + pool_index
    shows = np.where(leads.converted, rng.random(n) < co.CONVERTED_LEAD_SHOWS_ACCOUNT, matched)
    return Accounts.concat(customers, prospects), account, shows


def _prospect_pool(
    rng: np.random.Generator, timeline: Timeline, leads: Leads, matched: np.ndarray
) -> tuple[Accounts, np.ndarray]:
    """Prospect accounts per segment, several leads each; created before their first lead."""
    segment = leads.segment[matched]
    sizes = np.ceil(np.bincount(segment, minlength=len(co.SEGMENTS)) / co.LEADS_PER_PROSPECT)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    pool_index = offsets[segment] + np.floor(rng.random(len(matched)) * sizes[segment]).astype(
        np.int64
    )
    total = int(offsets[-1])
    horizon = int((timeline.as_of - timeline.start).astype(int)) * SECONDS_PER_DAY
    first_lead = timeline.start.astype("datetime64[s]") + rng.integers(0, horizon, total) * SECOND
    np.minimum.at(first_lead, pool_index, leads.created_at[matched])
    pool_segment = np.repeat(np.arange(len(co.SEGMENTS)), sizes.astype(np.int64))
    return new_accounts(rng, pool_segment, _before(rng, first_lead, 60)), pool_index


def _before(rng: np.random.Generator, moments: np.ndarray, max_days: float) -> np.ndarray:
    """Moments up to `max_days` earlier."""
    return moments - rng.integers(0, int(max_days * SECONDS_PER_DAY), len(moments)) * SECOND


def _names(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    n = len(country)
    stems = np.array(NAME_STEMS)[rng.integers(0, len(NAME_STEMS), n)]
    words = np.array(NAME_WORDS)[rng.integers(0, len(NAME_WORDS), n)]
    forms = np.array([LEGAL_FORMS[c.code] for c in co.COUNTRIES])[country]
    name = np.strings.add(np.strings.add(np.strings.add(stems, " "), words), " ")
    return np.strings.add(name, forms).astype(object)
