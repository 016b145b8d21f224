"""The demo company: the constants that make it a believable B2B SaaS business.

Every number here is at scale 1 (a company ending near $20M ARR); counts are
multiplied by the scale, amounts are not. Amounts are in USD and converted to a
customer's currency when priced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

YEARS_OF_HISTORY = 3

# -- currencies and countries ----------------------------------------------

CURRENCIES = ("USD", "EUR", "GBP")  # index = currency code used throughout
USD, EUR, GBP = range(3)
# USD per unit: where the simulated random walk of each rate is anchored.
FX_ANCHORS = {EUR: 1.09, GBP: 1.27}


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2
    weight: float
    currency: int


COUNTRIES = (
    Country("US", 0.56, USD),
    Country("CA", 0.05, USD),
    Country("GB", 0.11, GBP),
    Country("DE", 0.08, EUR),
    Country("FR", 0.05, EUR),
    Country("NL", 0.04, EUR),
    Country("IE", 0.02, EUR),
    Country("ES", 0.02, EUR),
    Country("AU", 0.04, USD),
    Country("SE", 0.02, USD),
    Country("SG", 0.01, USD),
)
COUNTRY_CURRENCY = np.array([c.currency for c in COUNTRIES], dtype=np.int8)

INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail",
    "Education", "Media", "Logistics", "Professional Services", "Telecommunications",
)

# -- segments --------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str
    acv_median_usd: float  # annual contract value of a new customer
    acv_sigma: float  # log-normal spread of that value
    cycle_days: float  # median new-business sales cycle
    win_rate: float  # new-business win rate before the channel's multiplier
    renewal_churn: float  # chance an annual term is not renewed
    expansions_per_year: float  # expansion deals opened per customer-year
    monthly_plan_share: float  # new customers on open-ended monthly plans
    initial_customers: float  # customers when the history starts
    services_share: float  # new customers buying onboarding services
    product: str


SEGMENTS = (
    Segment("SMB", 11_000, 0.45, 24, 0.22, 0.17, 0.12, 0.35, 250, 0.15, "Starter"),
    Segment("Mid-Market", 38_000, 0.45, 60, 0.20, 0.10, 0.30, 0.05, 70, 0.55, "Professional"),
    Segment("Enterprise", 125_000, 0.55, 120, 0.18, 0.06, 0.45, 0.0, 10, 0.85, "Enterprise"),
)
SMB, MID_MARKET, ENTERPRISE = range(3)
ADD_ON_PRODUCT = "Analytics Add-on"
PRODUCTS = (*(s.product for s in SEGMENTS), ADD_ON_PRODUCT)
ADD_ON = len(PRODUCTS) - 1
NULL_SEGMENT_SHARE = 0.03  # accounts whose CRM segment is empty


def segment_array(attribute: str) -> np.ndarray:
    """One attribute of every segment, indexable by segment code."""
    return np.array([getattr(s, attribute) for s in SEGMENTS], dtype=np.float64)


# -- channels --------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    label: str  # campaign names start with it
    leads_per_day: float  # at scale 1 when the history starts
    p_mql: float
    p_sql: float  # sales-qualified, given MQL
    p_direct_sql: float  # accepted by sales without ever being an MQL
    p_opportunity: float  # converted, given SQL
    win_multiplier: float  # on the segment's win rate
    segment_mix: tuple[float, float, float]
    cost_per_lead: float  # program spend per lead (USD); 0 = paid through salaries
    campaigns_per_quarter: float  # at scale 1; 0 = leads carry no campaign
    campaign_share: float  # share of the channel's leads tagged with a campaign
    spend_category: str  # category of the program spend
    spend_department: str
    event_based: bool = False  # leads arrive right after the campaign's event


CHANNELS = (
    Channel("paid_search", "Paid Search", 5.0, 0.40, 0.22, 0.02, 0.50, 0.90,
            (0.60, 0.32, 0.08), 95.0, 3, 0.95, "advertising", "marketing"),
    Channel("paid_social", "Paid Social", 5.0, 0.18, 0.12, 0.01, 0.35, 0.50,
            (0.75, 0.22, 0.03), 42.0, 3, 0.95, "advertising", "marketing"),
    Channel("events", "Events", 1.2, 0.55, 0.30, 0.05, 0.55, 1.20,
            (0.25, 0.45, 0.30), 150.0, 4, 0.98, "events", "marketing", event_based=True),
    Channel("content", "Content", 3.2, 0.33, 0.18, 0.01, 0.45, 0.95,
            (0.55, 0.35, 0.10), 45.0, 2, 0.90, "content", "marketing"),
    Channel("outbound", "Outbound", 1.8, 0.10, 0.25, 0.18, 0.50, 0.85,
            (0.20, 0.45, 0.35), 8.0, 2, 0.85, "tools", "sales"),
    Channel("referral", "Referral", 0.45, 0.80, 0.50, 0.10, 0.70, 1.70,
            (0.40, 0.40, 0.20), 60.0, 1, 0.90, "other", "marketing"),
    Channel("partner", "Partner", 0.7, 0.55, 0.35, 0.08, 0.55, 1.30,
            (0.30, 0.40, 0.30), 120.0, 1, 0.92, "agency", "marketing"),
    Channel("organic", "Organic", 2.2, 0.38, 0.22, 0.02, 0.50, 1.10,
            (0.55, 0.35, 0.10), 0.0, 0, 0.0, "content", "marketing"),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)
PAID_SOCIAL = CHANNEL_NAMES.index("paid_social")
OUTBOUND = CHANNEL_NAMES.index("outbound")
CAMPAIGN_THEMES = ("Brand", "Competitor", "Category", "Retargeting", "Webinar", "Launch")


def channel_array(attribute: str) -> np.ndarray:
    """One attribute of every channel, indexable by channel code."""
    return np.array([getattr(c, attribute) for c in CHANNELS], dtype=np.float64)


# Demand grows about 40% a year; paid social is pushed hard in the last 18 months
# (more leads, no better conversion: the wasteful channel of the story).
LEAD_GROWTH_PER_YEAR = 0.28
PAID_SOCIAL_PUSH = 2.5  # volume multiplier once the push has ramped up
PAID_SOCIAL_PUSH_START_YEARS = 1.5  # after the history starts
# Lead volume by calendar month: summer dip, Q4 push.
LEAD_SEASONALITY = np.array(
    [0.95, 1.00, 1.05, 1.00, 1.00, 0.90, 0.78, 0.75, 1.05, 1.15, 1.15, 0.88]
)
LEADS_PER_EVENT_DAYS = 6  # event leads are created within this many days of the event

# Mean lags between funnel milestones, in days.
LAG_MQL_DAYS = 2.0
LAG_SQL_DAYS = 7.0
LAG_CONVERT_DAYS = 4.0
LAG_DISQUALIFY_DAYS = 21.0
DISQUALIFY_SHARE = 0.75  # of leads that stall, how many are disqualified (not nurtured)
LEAD_ACCOUNT_SHARE = 0.75  # of unconverted leads, how many are matched to an account
LEADS_PER_PROSPECT = 1.5
CONVERTED_LEAD_SHOWS_ACCOUNT = 0.95
LEAD_LINKS_OPPORTUNITY = 0.92  # else the opportunity carries the lead_id instead
OPPORTUNITY_SHOWS_LEAD = 0.5  # of the others, how many carry lead_id as well

# -- opportunities ---------------------------------------------------------

OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
NEW_BUSINESS, EXPANSION, RENEWAL = range(3)
# CRM stages (dbt_project/seeds/stage_mapping.csv). Stages 1 and 2 were renamed
# halfway through the history: entries before the rename use the old names.
STAGE_NAMES = (
    "Prospecting", "Qualification", "Demo", "Proposal", "Negotiation",
    "Discovery Call", "Needs Analysis", "Closed Won", "Closed Lost",
)
OPEN_STAGE_COUNT = 5  # stage order n is STAGE_NAMES[n - 1] before the rename
RENAMED_STAGES = {1: 5, 2: 6}  # stage order -> index of its name after the rename
STAGE_RENAME_YEARS = 1.6  # after the history starts
CLOSED_WON, CLOSED_LOST = 7, 8
# First open stage of each opportunity type, and how far lost deals got (orders 1..5).
FIRST_STAGE = {NEW_BUSINESS: 1, EXPANSION: 2, RENEWAL: 3}
LOST_REACH = np.array([0.34, 0.26, 0.20, 0.12, 0.08])
WON_SKIPS_LAST_STAGE = 0.15  # won straight from Proposal
STAGE_SKIP_SHARE = 0.12
STAGE_REGRESSION_SHARE = 0.10
HISTORY_MISSING_DAYS = 150  # opportunities created this early ...
HISTORY_MISSING_SHARE = 0.6  # ... often have no stage history (before tracking began)
QUARTER_END_PULL = 0.4  # deals due early in a quarter pulled into the quarter before
LOSS_REASONS = (
    "Price", "Competitor", "No decision", "Timing", "Missing feature",
    "Budget cuts", "Low adoption", "Switched vendor",
)
LOSS_REASONS_BY_TYPE = {NEW_BUSINESS: (0, 1, 2, 3, 4), EXPANSION: (0, 2, 5), RENEWAL: (5, 6, 7, 0)}
SALES_REPS = 32  # at scale 1
OWNERLESS_SHARE = 0.02

# -- subscriptions and billing ---------------------------------------------

EXPANSION_WIN_RATE = 0.65
EXPANSION_REPLACES_SHARE = 0.5  # else an add-on subscription co-termed to the main one
RENEWAL_EARLY_SHARE = 0.10
RENEWAL_LATE_SHARE = 0.12
RENEWAL_VERY_LATE_SHARE = 0.03  # successor starts outside the renewal window
TWO_YEAR_TERM_SHARE = 0.15  # of enterprise terms
WIN_BACK_SHARE = 0.12  # churned customers approached again
WIN_BACK_WIN_RATE = 0.6
MONTHLY_PLAN_MONTHS = 30.0  # mean life of an open-ended monthly plan
MONTHLY_EXPANSIONS_PER_YEAR = 0.15
ANNUAL_TERMS_BILLED_MONTHLY = 0.10
ANNUAL_TERMS_BILLED_QUARTERLY = 0.05
ONE_TIME_SHARE = 0.25
CREDIT_SHARE = 0.025
SERVICE_PERIOD_SHARE = 0.75  # of services lines, how many carry a service period

# -- spend -----------------------------------------------------------------

SALES_ARR_PER_HEAD = 1_300_000.0  # planned ARR per sales head
MARKETING_ARR_PER_HEAD = 2_500_000.0
MONTHLY_COST_PER_HEAD = {"sales": 11_000.0, "marketing": 10_000.0}
SDR_SHARE = 0.2  # of sales heads, prospecting for the outbound channel
EUROPEAN_STAFF_SHARE = 0.15  # paid in EUR
HIRING_AHEAD_MONTHS = 6
COMMISSION_RATES = {NEW_BUSINESS: 0.10, EXPANSION: 0.08, RENEWAL: 0.02}
PARTNER_FEE_RATE = 0.15
EVENT_COST_USD = 28_000.0
REVERSAL_SHARE = 0.01
# Fixed monthly costs per vendor (USD, at the start of the history): department,
# category, channel (or None), vendors at scale 1, description.
OVERHEADS = (
    ("marketing", "tools", None, 4, "Marketing automation"),
    ("marketing", "agency", "paid_search", 1, "Search agency retainer"),
    ("marketing", "content", "organic", 2, "SEO content"),
    ("marketing", "other", None, 2, "Brand and swag"),
    ("sales", "tools", None, 4, "Sales tooling"),
    ("sales", "travel", None, 3, "Customer travel"),
)
OVERHEAD_MONTHLY_USD = 3_500.0
OVERHEAD_GROWTH_PER_YEAR = 0.25
