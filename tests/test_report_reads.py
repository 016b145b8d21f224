"""What the metrics report reads is what the marts publish: every column the report
queries is a column of its mart's dbt model (the manifest), so renaming or dropping a
mart column fails here rather than turning a report section "not available"."""

from __future__ import annotations

import inspect
import re

import pytest

from orchestration.lib import dbt_manifest
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

