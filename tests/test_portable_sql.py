"""No model or dbt test holds engine-specific SQL outside a dispatched macro.

The dbt project runs on DuckDB and on Spark (docs/engines.md). What the two spell
differently lives in dbt's cross-database macros (dbt.dateadd, dbt.datediff, ...) or in
the project's own `adapter.dispatch` macros under dbt_project/macros/engine/, each with a
duckdb__ and a spark__ implementation. Every .sql file of models/ and tests/ (the macros
folder is exempt: that is where engine-specific SQL belongs) is scanned, comments and
Jinja removed, for the constructs below: each is DuckDB-only, or means something
different on Spark.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR

ENGINE_MACROS_DIR = DBT_PROJECT_DIR / "macros" / "engine"

# (name, pattern, why it is not portable, what to use instead)
NOT_PORTABLE: tuple[tuple[str, str, str], ...] = (
    ("qualify", r"\bqualify\b", "Apache Spark has no QUALIFY: filter a row_number() in an outer query"),
    ("union by name", r"\bunion\s+(all\s+)?by\s+name\b", "DuckDB-only: union columns in one order"),
    ("interval literal", r"\binterval\s+('|\d)", "interval arithmetic differs: dbt.dateadd / dbt.datediff"),
    ("cast shorthand", r"::", "DuckDB/PostgreSQL-only: cast(x as type)"),
    ("arg_min/arg_max", r"\barg_(min|max)\s*\(", "DuckDB-only: value_at_min / value_at_max"),
    ("median", r"\bmedian\s*\(", "no median() before Spark 3.4: the median macro"),
    ("quantile", r"\bquantile(_cont|_disc)?\s*\(", "DuckDB-only: the median macro"),
    ("raw generate_series", r"(?<!\.)\bgenerate_series\s*\(", "differs by engine: dbt.generate_series"),
    ("range table function", r"\bfrom\s+range\s*\(", "DuckDB-only: dbt.generate_series"),
    ("list functions", r"\b(list|array)_(agg|value|contains|distinct)\s*\(|\blist\s*\(", "dbt.listagg"),
    ("string_agg", r"\bstring_agg\s*\(", "DuckDB/PostgreSQL spelling: dbt.listagg"),
    ("strftime/strptime", r"\bstr[fp]time\s*\(", "DuckDB spelling: the fiscal_calendar label macros"),
    ("date_diff/date_sub", r"\bdate_(diff|sub)\s*\(", "DuckDB spelling: dbt.datediff"),
    ("raw date_trunc", r"(?<!\.)\bdate_trunc\s*\(", "argument order differs: month_start / dbt.date_trunc"),
    ("day-of-week functions", r"\b(dayofweek|isodow|weekday)\s*\(", "numbered differently: DuckDB 0 = Sunday, Spark 1"),
    ("to_months/to_days", r"\bto_(years|months|days)\s*\(", "DuckDB-only: dbt.dateadd"),
    ("select * exclude", r"\*\s*(exclude|replace|rename)\s*\(", "DuckDB-only star modifiers: list the columns"),
    ("group/order by all", r"\b(group|order)\s+by\s+all\b", "DuckDB-only: list the columns"),
    ("count_if", r"\bcount_if\s*\(", "DuckDB-only: sum(case when ... then 1 else 0 end)"),
    ("try_cast", r"\btry_cast\s*\(", "differs: dbt.safe_cast"),
    ("decimal literal ratio", r"\b1\.0\s*\*", "a DECIMAL on Spark (6 decimals): cast(x as double) / y"),
    ("unsigned/huge types", r"\bas\s+(hugeint|ubigint|utinyint|usmallint|uinteger)\b", "DuckDB-only type"),
)


def _sql_files() -> list[Path]:
    return sorted(p for folder in ("models", "tests") for p in (DBT_PROJECT_DIR / folder).rglob("*.sql"))


def _code(text: str) -> str:
    """The SQL with Jinja comments, Jinja blocks and expressions, and SQL comments removed."""
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", " ", text, flags=re.S)
    text = re.sub(r"--[^\n]*", " ", text)
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def _violations(text: str) -> list[str]:
    code = _code(text).lower()
    return [f"{name} ({why})" for name, pattern, why in NOT_PORTABLE if re.search(pattern, code)]


def _glued_by_a_comment(text: str) -> list[str]:
    """Words a whitespace-trimming Jinja comment (`{#- ... -#}`) joins into one: DuckDB
    reads `"staging"."stg_x"where` (its relations are quoted), Spark's unquoted
    `staging.stg_xwhere` is a syntax error."""
    glued = []
    for match in re.finditer(r"\{#-.*?-#\}", text, flags=re.S):
        before, after = text[: match.start()].rstrip(), text[match.end() :].lstrip()
        if before and after and re.match(r"[\w}]", before[-1]) and re.match(r"[\w{]", after[0]):
            glued.append(f"{before.split()[-1]}|{after.split()[0]}")
    return glued


def test_the_project_has_sql_to_scan():
    files = _sql_files()
    assert len(files) > 40
    assert any(p.parent.name == "generic" for p in files)


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: p.relative_to(DBT_PROJECT_DIR).as_posix())
def test_no_engine_specific_sql_outside_a_dispatched_macro(path: Path):
    assert _violations(path.read_text()) == [], f"{path.relative_to(DBT_PROJECT_DIR)}: use a dispatched macro"


@pytest.mark.parametrize("path", _sql_files(), ids=lambda p: p.relative_to(DBT_PROJECT_DIR).as_posix())
def test_no_comment_glues_two_words_together(path: Path):
    assert _glued_by_a_comment(path.read_text()) == [], f"{path.relative_to(DBT_PROJECT_DIR)}: use {{# #}} there"


def test_a_gluing_comment_is_caught_and_a_harmless_one_is_not():
    glued = "from {{ ref('x') }}\n    {#- why -#}\n    where a"
    assert _glued_by_a_comment(glued) == ["}}|where"]
    assert _glued_by_a_comment("{#- doc -#}\nwith a as (select 1),\n{#- step -#}\nb as (select 2)") == []
    assert _glued_by_a_comment("from {{ ref('x') }}\n    {# why #}\n    where a") == []


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select * from t qualify row_number() over (order by x) = 1", "qualify"),
        ("select * from a union all by name select * from b", "union by name"),
        ("select d - interval 12 month", "interval literal"),
        ("select x::date", "cast shorthand"),
        ("select arg_max(v, m) from t", "arg_min/arg_max"),
        ("select median(v) from t", "median"),
        ("select * from generate_series(1, 3)", "raw generate_series"),
        ("select string_agg(v, ',') from t", "string_agg"),
        ("select date_trunc('month', d)", "raw date_trunc"),
        ("select dayofweek(d)", "day-of-week functions"),
        ("select * exclude (a) from t", "select * exclude"),
        ("select 1.0 * a / b", "decimal literal ratio"),
    ],
)
def test_each_construct_is_caught(sql: str, expected: str):
    assert any(v.startswith(expected + " (") for v in _violations(sql))


@pytest.mark.parametrize(
    "sql",
    [
        "select {{ median('x') }} from t",  # a macro call is Jinja: removed before the scan
        "{#- the median of x -#} select 1",
        "select {{ dbt.generate_series(10) }}",
        "select mod(x, 12), cast(x as double) / y, extract(month from d) -- median(x) in a comment",
    ],
)
def test_macros_and_comments_are_not_flagged(sql: str):
    assert _violations(sql) == []


@pytest.mark.parametrize("macro", ["median", "value_at_min", "value_at_max", "register_sources"])
def test_each_dispatched_macro_has_a_duckdb_and_a_spark_implementation(macro: str):
    text = "\n".join(p.read_text() for p in ENGINE_MACROS_DIR.glob("*.sql"))
    assert f"adapter.dispatch('{macro}', 'gtm_warehouse')" in text
    for engine in ("duckdb", "spark"):
        assert re.search(rf"macro (default|{engine})__{macro}\(", text), f"{engine}__{macro} missing"
