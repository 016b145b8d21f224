"""The sections of the metrics report, in page order: each reads its marts (queries.py),
draws its charts (charts.py) and says in one line how to read each one.

A section whose mart is missing from the published file comes back as "not
available" with the reason; it never stops the rest of the report.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from orchestration.lib.report import queries as q
from orchestration.lib.report.context import Context
from orchestration.lib.report.sections.channel_efficiency import channel_section
from orchestration.lib.report.sections.commercial_ratio import commercial_ratio_section, growth_section
from orchestration.lib.report.sections.funnels import lead_funnel_section, opportunity_funnel_section
from orchestration.lib.report.sections.pipeline import pipeline_section
from orchestration.lib.report.sections.publication import publication_section
from orchestration.lib.report.sections.recurring_revenue import mrr_section, renewals_section, retention_section
from orchestration.lib.report.sections.win_rates import win_rates_section
from orchestration.lib.report.template import Section

SECTIONS: tuple[tuple[str, str, Callable[[Context], Section]], ...] = (
    ("commercial-ratio", "Commercial ratio", commercial_ratio_section),
    ("growth-vs-spend", "Revenue growth against sales & marketing expense", growth_section),
    ("lead-funnel", "Lead funnel and conversion by channel", lead_funnel_section),
    ("opportunity-funnel", "Opportunity stages: conversion and time in stage", opportunity_funnel_section),
    ("win-rates", "Win rates", win_rates_section),
    ("pipeline-history", "Pipeline history", pipeline_section),
    ("channel-efficiency", "Channel efficiency", channel_section),
    ("mrr-movements", "MRR movements", mrr_section),
    ("retention", "GRR, NRR and logo retention", retention_section),
    ("renewals", "Renewals", renewals_section),
    ("publication", "Publication record", publication_section),
)
SECTION_IDS = tuple(s[0] for s in SECTIONS)


def build_sections(ctx: Context) -> list[Section]:
    return [_guard(section_id, title, lambda build=build: build(ctx)) for section_id, title, build in SECTIONS]


def _guard(section_id: str, title: str, build: Callable[[], Section]) -> Section:
    """A section, or its "not available" stand-in when its mart is missing or older."""
    try:
        return build()
    except q.NotAvailable as error:
        return Section(section_id, title, available=False, reason=str(error))
    except (duckdb.CatalogException, duckdb.BinderException) as error:
        first = str(error).strip().splitlines()[0]
        return Section(section_id, title, available=False,
                       reason=f"This published file does not have what this section reads ({first}).")
