"""`gtm sql` (query the published file read-only) and `gtm docs` (the dbt docs site,
offline)."""

import json

import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.lib import sql_shell
from orchestration.lib.dbt_docs import external_resources
from tests.support.published_fixture import write_published


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    return write_published(tmp_path_factory.mktemp("sql") / "published.duckdb")


def _sql(published, *args, stdin=None):
    return CliRunner().invoke(main, ["sql", "--published", str(published), *args], input=stdin)


def test_a_query_prints_an_aligned_table(published):
    done = _sql(published, "select period_label, commercial_ratio, band from marts.commercial_ratio "
                           "where period_grain = 'fiscal_year' order by period_start")
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].split(" | ") == ["period_label", "commercial_ratio", "band"]
    assert lines[2].startswith("FY2024       |             NULL | NULL")
    assert "FY2025       |              1.1 | balanced" in lines[3]
    assert lines[-1] == "(3 rows)"


def test_csv_and_json_keep_full_precision(published):
    sql = "select 1 / 3 as third, date '2026-11-01' as month"
    assert _sql(published, "--format", "csv", sql).output == "third,month\n0.3333333333333333,2026-11-01\n"
    assert json.loads(_sql(published, "--format", "json", sql).output) == [
        {"third": 0.3333333333333333, "month": "2026-11-01"}
    ]
    assert _sql(published, "--format", "markdown", sql).output.startswith("| third | month |\n|---|---|\n| 0.333333")


def test_rows_beyond_max_rows_are_counted(published):
    done = _sql(published, "--max-rows", "2", "select * from range(5)")
    assert done.output.splitlines()[-1] == "(5 rows, 3 not shown: --max-rows 0 shows all)"


def test_sql_from_stdin_and_dot_tables(published):
    done = _sql(published, stdin="select 41 + 1 as answer;\n")
    assert done.exit_code == 0 and "42" in done.output
    tables = _sql(published, ".tables")
    assert "marts.commercial_ratio" in tables.output and "marts.publication" in tables.output


def test_the_file_is_read_only(published):
    done = _sql(published, "create table marts.scratch as select 1")
    assert done.exit_code == 1
    assert "read-only" in done.output


def test_errors_are_plain(published, tmp_path):
    assert "No published file" in _sql(tmp_path / "missing.duckdb", "select 1").output
    bad = _sql(published, "select nope from marts.renewals")
    assert bad.exit_code == 1 and "nope" in bad.output and "Traceback" not in bad.output


def test_typed_statements_end_at_semicolons():
    lines = iter(["select 1", "  + 1;", ".tables", "", "select 3; ", "select 4"])
    assert list(sql_shell.statements(lines)) == ["select 1\n  + 1;", ".tables", "select 3; ", "select 4"]


def test_external_resources_are_found():
    html = (
        '<script src="https://cdn.example.com/vega.js"></script><link rel="stylesheet" href="//fonts.example/x.css">'
        '<img src="logo.png"><a href="https://docs.getdbt.com">docs</a>'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
    )
    assert external_resources(html) == ["//fonts.example/x.css", "https://cdn.example.com/vega.js"]


def test_gtm_docs_without_a_work_database_still_writes_the_site(tmp_path, monkeypatch):
    monkeypatch.setenv("GTM_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("GTM_AS_OF_DATE", "2026-11-26")
    done = CliRunner().invoke(main, ["docs"])
    assert done.exit_code == 0, done.output
    index = tmp_path / "warehouse" / "dbt_docs" / "index.html"
    assert "WITHOUT the catalog (no work database at" in done.output
    assert str(index) in done.output
    html = index.read_text()
    assert external_resources(html) == []  # opens offline
    assert "commercial_ratio" in html and "period_grain" in html  # the manifest is embedded
    manifest = json.loads((index.parent / "manifest.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and "marts" in n["fqn"]]
    assert {"commercial_ratio", "lead_funnel", "renewals"} <= {n["name"] for n in marts}


def test_the_prompt_runs_typed_statements(published, monkeypatch, capsys):
    from orchestration.cli import _sql_prompt

    typed = iter(["select 40 +", "2 as answer;", "select nope;", ".tables", ".quit", "select 'never';"])
    prompts: list[str] = []

    def fake_input(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    with sql_shell.connect_read_only(published) as con:
        _sql_prompt(con, "table", 100)
    out = capsys.readouterr()
    assert prompts[:3] == [sql_shell.PROMPT, sql_shell.CONTINUATION, sql_shell.PROMPT]
    assert "42" in out.out and "marts.renewals" in out.out and "never" not in out.out
    assert "Error:" in out.err and "nope" in out.err
