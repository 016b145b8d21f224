"""What the metrics report reads is what the marts publish: every column the report
queries is a column of its mart's dbt model (the manifest), so renaming or dropping a
mart column fails here rather than turning a report section "not available"."""

from __future__ import annotations

import datetime as dt
import inspect
import re

import pytest

from orchestration.lib import dbt_manifest
from orchestration.lib.publish import DAYS_AFTER_AS_OF, with_derived_values
from orchestration.lib.report import queries

# Written by publishing itself (lib/publish.py), not by dbt.
NOT_DBT_TABLES = {"publication"}


@pytest.mark.parametrize("mart", sorted(queries.MART_COLUMNS))
def test_every_column_the_report_reads_is_in_its_marts_model(mart):
    marts = dbt_manifest.marts()
    assert mart in marts, f"the report reads marts.{mart}, which no dbt model under models/marts/ builds"
    missing = [c for c in queries.MART_COLUMNS[mart] if c not in marts[mart].column_names]
    assert missing == [], f"marts.{mart} has no column(s) {missing}, which the report reads"


def test_every_mart_the_report_queries_is_listed_with_its_columns():
    source = inspect.getsource(queries)
    queried = set(re.findall(r"\{SCHEMA\}\.(\w+)", source))
    assert queried - NOT_DBT_TABLES == set(queries.MART_COLUMNS)



def test_the_publication_values_the_report_reads_are_ones_publishing_writes():
    """marts.publication is no dbt model: its derived columns come from lib/publish.py, and
    the report reads them through `Publication` under the same names."""
    record = {
        "published_at": dt.datetime(2026, 11, 27, 2, 0), "as_of_date": dt.date(2026, 11, 26),
        "crm__leads_loaded": 9, "crm__leads_quarantined": 1, "rows_loaded": 9, "rows_quarantined": 1,
    }  # fmt: skip
    row = with_derived_values(record)
    publication = queries.Publication(row=row, history=[row])
    assert all(publication.recorded(c) for c in ("crm__leads_quarantined_share", "rows_quarantined_share",
                                                  DAYS_AFTER_AS_OF))
    # 1 of 9 + 1 quarantined; 27 Nov is 1 day after 26 Nov
    assert publication.days_after_as_of == 1
    assert (publication.quarantined_share("crm__leads"), publication.quarantined_share()) == (0.1, 0.1)
