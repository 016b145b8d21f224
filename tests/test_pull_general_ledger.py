"""General ledger import: vendor layouts, the account mapping, stable spend ids, the landing extract."""

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.lib.connectors import CONNECTORS, PullError
from orchestration.lib.connectors.general_ledger import (
    LAYOUTS,
    import_ledger,
    parse_amount,
    parse_layout,
    read_account_mapping,
)
from orchestration.lib.connectors.runner import pull
from orchestration.settings import Settings

GL = Path(__file__).parent / "support" / "gl"
EXAMPLE_MAPPING = (
    Path(__file__).parents[1] / "orchestration" / "lib" / "connectors" / "examples" / "gl_account_mapping.csv"
)


def _totals(rows):
    totals = {}
    for row in rows:
        totals[row["department"]] = round(totals.get(row["department"], 0) + row["amount"], 2)
    return totals


def test_quickbooks_export_maps_onto_spend():
    result = import_ledger(
        [GL / "quickbooks_transaction_detail.csv"],
        LAYOUTS["quickbooks"],
        read_account_mapping(GL / "quickbooks_mapping.csv"),
        "USD",
    )
    # by hand: advertising 1,200 + 800 - 150; events (500.00) is a reversal; salaries 25,000; commissions 4,000
    assert _totals(result.rows) == {"marketing": 1350.0, "sales": 29000.0}
    assert len(result.rows) == 6
    assert result.excluded_lines == 3  # hosting and the two checking deposits (pattern 1*)
    assert result.mapped_accounts == 4
    first = result.rows[0]
    assert first["spend_date"] == dt.date(2026, 10, 3)
    assert (first["category"], first["channel"], first["amount"], first["currency"]) == (
        "advertising",
        "paid_search",
        1200.0,
        "USD",
    )
    assert first["description"] == "1001 October search"
    events = [r for r in result.rows if r["category"] == "events"]
    assert [(r["amount"], r["channel"]) for r in events] == [(-500.0, "events")]


def test_xero_export_maps_onto_spend_with_debits_and_credits():
    result = import_ledger(
        [GL / "xero_account_transactions.csv"], LAYOUTS["xero"], read_account_mapping(GL / "xero_mapping.csv"), "EUR"
    )
    # by hand: marketing 1,200 + 800 - 150 + 1,500 - 500 = 2,850; sales 25,000 + 4,000
    assert _totals(result.rows) == {"marketing": 2850.0, "sales": 29000.0}
    assert len(result.rows) == 7
    assert result.excluded_lines == 1
    refund = next(r for r in result.rows if r["description"].startswith("CR-1"))
    assert (refund["spend_date"], refund["amount"], refund["currency"]) == (dt.date(2026, 10, 20), -150.0, "EUR")


def test_an_unmapped_account_stops_the_import_listing_accounts_and_totals(tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(
        "account,department,category,channel\n6100,marketing,advertising,\n6200,sales,salaries,\n6210,sales,commissions,\n"
    )
    with pytest.raises(PullError) as raised:
        import_ledger([GL / "xero_account_transactions.csv"], LAYOUTS["xero"], read_account_mapping(mapping), "USD")
    message = str(raised.value)
    assert "2 GL account(s) neither mapped nor excluded" in message
    assert "5000: 3,000.00; 6300: 1,000.00" in message  # 1,500 - 500 for events


def test_spend_ids_are_stable_and_identical_lines_are_told_apart(tmp_path):
    layout = parse_layout("date=Posted,account=GL,amount=Net,description=Memo")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("account,department,category,channel\n6100,marketing,advertising,\n")
    export = tmp_path / "gl.csv"
    export.write_text("Posted,GL,Net,Memo\n2026-10-01,6100,100,ads\n2026-10-01,6100,100,ads\n")
    first = [r["spend_id"] for r in import_ledger([export], layout, read_account_mapping(mapping), "USD").rows]
    assert len(set(first)) == 2
    # a later export of a longer period holds the same lines, and more, in another order
    export.write_text("Posted,GL,Net,Memo\n2026-10-02,6100,50,ads\n2026-10-01,6100,100,ads\n2026-10-01,6100,100,ads\n")
    again = [r["spend_id"] for r in import_ledger([export], layout, read_account_mapping(mapping), "USD").rows]
    assert again[1:] == first


@pytest.mark.parametrize(
    ("text", "value"), [("1,234.50", 1234.5), ("(80.00)", -80.0), ("$ 12", 12.0), ("-7.25", -7.25), ("", 0.0)]
)
def test_amounts_as_ledgers_write_them(text, value):
    assert parse_amount(text) == value


def test_mapping_and_layout_errors_name_the_problem(tmp_path):
    bad = tmp_path / "mapping.csv"
    bad.write_text("account,department,category,channel\n6100,finance,rent,\n")
    with pytest.raises(PullError, match="department 'finance' must be marketing, sales or exclude"):
        read_account_mapping(bad)
    with pytest.raises(PullError, match="needs a category"):
        bad.write_text("account,department,category,channel\n6100,sales,,\n")
        read_account_mapping(bad)
    with pytest.raises(PullError, match="GTM_GL_LAYOUT"):
        parse_layout("date=Posted,acount=GL")


def test_the_shipped_example_mapping_reads():
    rules = read_account_mapping(EXAMPLE_MAPPING)
    assert {r.department for r in rules} == {"marketing", "sales", "exclude"}


def _settings(tmp_path, **env):
    return Settings.from_env(
        {"GTM_LANDING_DIR": str(tmp_path / "landing"), "GTM_WAREHOUSE_DIR": str(tmp_path / "wh"), **env}
    )


def test_pull_writes_one_typed_extract_and_skips_an_unchanged_export(tmp_path):
    settings = _settings(
        tmp_path,
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(GL / "xero_mapping.csv"),
    )
    now = dt.datetime(2026, 11, 2, 3, 4, 5, tzinfo=dt.UTC)
    report = pull(CONNECTORS["general_ledger"], settings, now=now)
    assert report.rows == {"finance/spend": 7}
    [path] = report.files
    assert path == tmp_path / "landing" / "finance" / "spend" / "2026-11-02T030405Z-general_ledger.parquet"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left
    table = pq.read_table(path)
    assert table.column_names == [
        "spend_id",
        "spend_date",
        "department",
        "category",
        "channel",
        "campaign_id",
        "amount",
        "currency",
        "description",
    ]
    assert str(table.schema.field("spend_date").type) == "date32[day]"
    assert round(sum(table.column("amount").to_pylist()), 2) == 31850.0

    unchanged = pull(CONNECTORS["general_ledger"], settings, now=now + dt.timedelta(days=1))
    assert unchanged.rows == {} and unchanged.files == []
    assert "unchanged" in unchanged.notes[0]

    again = pull(CONNECTORS["general_ledger"], settings, full=True, now=now + dt.timedelta(days=2))
    assert again.rows == {"finance/spend": 7}
    assert pq.read_table(again.files[0]).column("spend_id").to_pylist() == table.column("spend_id").to_pylist()


def test_a_source_that_is_not_configured_is_skipped_and_says_so(tmp_path):
    report = pull(CONNECTORS["general_ledger"], _settings(tmp_path))
    assert report.skipped == "not configured (set GTM_GL_EXPORT, GTM_GL_ACCOUNT_MAPPING)"
    assert report.lines() == [f"general_ledger: skipped, {report.skipped}"]
    assert not (tmp_path / "landing").exists()


def test_a_failed_import_writes_nothing(tmp_path):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("account,department,category,channel\n6100,marketing,advertising,\n")
    settings = _settings(
        tmp_path,
        GTM_GL_EXPORT=str(GL / "xero_account_transactions.csv"),
        GTM_GL_LAYOUT="xero",
        GTM_GL_ACCOUNT_MAPPING=str(mapping),
    )
    with pytest.raises(PullError, match="neither mapped nor excluded"):
        pull(CONNECTORS["general_ledger"], settings)
    assert not (tmp_path / "landing" / "finance" / "spend").exists()
