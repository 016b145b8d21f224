"""The metrics report: built from published files (hand-made and tiny demo data), every
section present, nothing fetched from the network, and it renders in headless Chromium
without console errors and not blank."""

import datetime as dt
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from orchestration.lib.refresh import run_refresh
from orchestration.lib.report import SECTION_IDS, build_report, charts, fmt, render_after_publish, render_report
from orchestration.settings import load_settings
from tests.support import browser
from tests.support.png import read_png
from tests.support.published_fixture import TABLES, write_published

AS_OF = "2026-11-26"
NOW = dt.datetime(2026, 11, 27, 8, 0)


def _sections(html: str) -> dict[str, str]:
    """Each section's HTML by id."""
    parts = re.split(r'(?=<section id=")', html)
    return {re.match(r'<section id="([^"]+)"', p).group(1): p for p in parts if p.startswith("<section id=")}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- a hand-made published file ------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_published(tmp_path_factory.mktemp("tiny") / "published.duckdb")


@pytest.fixture(scope="module")
def tiny_html(tiny) -> str:
    html, unavailable = render_report(tiny, now=NOW)
    assert unavailable == []
    return html


def test_every_section_is_there(tiny_html):
    sections = _sections(tiny_html)
    assert list(sections) == list(SECTION_IDS)
    for section_id, section in sections.items():
        assert "Not available" not in section, section_id
    # every chart has its one-line reading guide
    assert tiny_html.count("<svg") >= 15
    assert tiny_html.count('class="guide"') == tiny_html.count("<figure>")


def test_the_headline_tells_the_story_from_the_marts(tiny_html):
    kpis = _text(tiny_html.split('id="kpis"')[1].split('<nav class="toc">')[0])
    assert "Commercial ratio FY2025 1.10 balanced" in kpis
    assert "Commercial ratio TTM 0.72 unsustainable" in kpis  # the latest TTM with a ratio
    assert "-0.18 vs a year earlier (0.90)" in kpis
    assert "Net revenue retention 105.0%" in kpis
    assert "Gross revenue retention 90.0%" in kpis
    # logo renewal over the mature expiry months only: 9 of 10 (Nov 2026 is not mature)
    assert "Logo renewal rate 90.0%" in kpis and "9 of 10 accounts" in kpis
    # lead to won over mature cohorts: (4+3)*2 won of (100+10)*2 leads
    assert "Lead-to-won rate 6.36%" in kpis and "14 won of 220 leads" in kpis
    story = _text(tiny_html.split('id="story">')[1].split("</p>")[0])
    assert "$0.72 of new annual revenue: unsustainable" in story


def test_commercial_ratio_section_draws_the_bands_and_explains_gaps(tiny_html):
    section = _sections(tiny_html)["commercial-ratio"]
    for label in ("unsustainable &lt; 0.75", "balanced 0.75", "efficient 1.25", "under-invested &gt; 1.5"):
        assert label in section
    assert "no prior period in the data" in section  # FY2024's missing bar says why
    assert "period not complete yet" in section
    assert "Bands at 0.75 / 1.25 / 1.5: the thresholds this file was published with" in section


def test_bands_are_drawn_at_the_thresholds_the_file_was_published_with(tmp_path):
    path = write_published(tmp_path / "p.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("update marts.commercial_ratio_bands set lower_bound = lower_bound * 2, "
                    "upper_bound = upper_bound * 2")
    html, _ = render_report(path, now=NOW)
    section = _sections(html)["commercial-ratio"]
    for label in ("unsustainable &lt; 1.5", "balanced 1.5", "efficient 2.5", "under-invested &gt; 3"):
        assert label in section
    assert "(bands at 1.5 / 2.5 / 3)" in html


def test_a_file_without_its_band_thresholds_draws_no_bands(tmp_path):
    path = write_published(tmp_path / "p.duckdb", only=set(TABLES) - {"commercial_ratio_bands"})
    html, unavailable = render_report(path, now=NOW)
    assert unavailable == []
    section = _sections(html)["commercial-ratio"]
    assert "does not record its band thresholds" in section and "unsustainable &lt;" not in section


def test_a_warned_check_is_visible_with_its_results(tiny_html):
    assert "2 check(s) warned" in tiny_html.split('id="kpis"')[0]  # the banner above the tiles
    publication = _sections(tiny_html)["publication"]
    assert "check_results" in publication
    assert "mql_at is not before created_at" in publication
    assert "an older run&#x27;s warning" not in publication  # only this publication's run
    assert "2 publications" not in publication and "(2 in all)" in publication
    assert 'class="warned"' in publication


def test_freshness_and_quarantined_shares_are_read_from_the_publication_record(tmp_path):
    path = write_published(tmp_path / "p.duckdb")
    html, _ = render_report(path, now=NOW)
    text = _text(_sections(html)["publication"])
    # as published in the fixture: 1 day; 3 / 1003, 1 / 101, 4 / 1104
    assert "published 1 day(s) after the as-of date" in text
    assert "crm__leads 1,000 3 0.30%" in text
    assert "finance__spend 100 1 0.99%" in text
    assert "all sources 1,100 4 0.36%" in text
    # read, not recomputed: a recorded value the counts would not give is what is shown
    with duckdb.connect(str(path)) as con:
        con.execute("update marts.publication set published_days_after_as_of = 9, rows_quarantined_share = 0.5 "
                    "where run_id = 'run-tiny'")
    text = _text(_sections(render_report(path, now=NOW)[0])["publication"])
    assert "published 9 day(s) after the as-of date" in text and "all sources 1,100 4 50.00%" in text


def test_a_publication_record_without_the_derived_values_says_not_recorded(tmp_path):
    derived = ["published_days_after_as_of", "crm__leads_quarantined_share", "finance__spend_quarantined_share",
               "rows_quarantined_share"]
    path = write_published(tmp_path / "p.duckdb", drop_columns={"publication": derived})
    html, unavailable = render_report(path, now=NOW)
    assert unavailable == []
    text = _text(_sections(html)["publication"])
    assert "not recorded how many days after the as-of date it was published" in text
    assert "crm__leads 1,000 3 not recorded" in text and "all sources 1,100 4 not recorded" in text


def test_the_quarterly_growth_and_mrr_net_change_are_read_from_their_marts(tmp_path):
    path = write_published(tmp_path / "p.duckdb")
    html, _ = render_report(path, now=NOW)
    growth, mrr = _sections(html)["growth-vs-spend"], _sections(html)["mrr-movements"]
    # revenue growth 15, 32.5, 40 of the complete quarters, x 4 in marts.revenue_growth_quarterly
    assert re.findall(r"<title>revenue growth .4 \(annualised\), ([^<]*)</title>", growth) == [
        "FY2026-Q1: $60", "FY2026-Q2: $130", "FY2026-Q3: $160"]
    # Nov 2025: new 100 + expansion 10 - contraction 5 - churn 20 = 85
    assert "<title>net change, 2025-11: $85</title>" in mrr
    # read, not recomputed: a published value the other columns would not give is what is drawn
    with duckdb.connect(str(path)) as con:
        con.execute("update marts.revenue_growth_quarterly set annualised_revenue_growth = 999 "
                    "where period_label = 'FY2026-Q1'")
        con.execute("update marts.mrr_net_change_monthly set net_change_mrr = 7 where month = '2025-11-01'")
    html, _ = render_report(path, now=NOW)
    assert "annualised), FY2026-Q1: $999</title>" in _sections(html)["growth-vs-spend"]
    assert "<title>net change, 2025-11: $7</title>" in _sections(html)["mrr-movements"]


def test_a_file_without_the_growth_and_net_change_marts_draws_the_rest(tmp_path):
    path = write_published(tmp_path / "p.duckdb", only=set(TABLES) - {"revenue_growth_quarterly",
                                                                        "mrr_net_change_monthly"})
    html, unavailable = render_report(path, now=NOW)
    assert unavailable == []
    growth, mrr = _sections(html)["growth-vs-spend"], _sections(html)["mrr-movements"]
    assert "does not publish the annualised growth" in growth and "(annualised), FY2026-Q1" not in growth
    assert "<title>S&amp;M expense, FY2026-Q1: $100</title>" in growth
    assert "does not publish the net change" in mrr and "<title>net change" not in mrr
    assert "<title>new, 2025-11: $100</title>" in mrr


def test_rates_are_recomputed_from_summed_counts(tiny_html):
    channels = _text(_sections(tiny_html)["channel-efficiency"])
    # the last complete fiscal quarter only (Q4 2026 is not over on 2026-11-26)
    assert "paid_search $1,000" not in channels
    assert "5.00" in channels  # return on spend 5000 / 1000
    assert "$500" in channels  # cost per win 1000 / 2
    win = _text(_sections(tiny_html)["win-rates"])
    assert "SMB 4 5 44.4%" in win  # (3 + 1) won of 9 closed
    assert "40 d" in win  # exact median of 30 and 50 from fct_opportunities


def test_the_pipeline_section_shows_the_stages_and_the_last_complete_months_waterfall(tiny_html):
    pipeline = _sections(tiny_html)["pipeline-history"]
    text = _text(pipeline)
    # the latest snapshot (as_of_date) by stage
    assert "Open on 2026-11-26" in text
    assert "Discovery 6 $55.0K 0 $0" in text and "Proposal 3 $65.0K 0 $0" in text
    # the waterfall is October's (November is not complete on 2026-11-26)
    assert "Waterfall of Oct 2026" in text and "Waterfall of Nov 2026" not in text
    assert "Oct 2026 $100K $1.00K $30.0K $5.00K -$6.00K $8.00K $2.00K $120K 2 ($15.0K)" in text
    assert "Nov 2026 $120K" not in text
    assert pipeline.count("<svg") == 2


def test_an_older_file_gives_not_available_sections_not_a_crash(tmp_path):
    old = write_published(
        tmp_path / "old.duckdb",
        only=["commercial_ratio", "publication"],
        drop_columns={"publication": ["checks_passed", "checks_warned", "checks_failed"]},
    )
    result = build_report(old, tmp_path / "report.html", now=NOW)
    assert result.unavailable == [
        "lead-funnel", "opportunity-funnel", "win-rates", "pipeline-history", "channel-efficiency", "mrr-movements",
        "retention", "renewals",
    ]  # fmt: skip
    html = result.path.read_text()
    sections = _sections(html)
    assert list(sections) == list(SECTION_IDS)
    assert "marts.renewals is not in this published file" in sections["renewals"]
    assert "not available: marts.revenue_retention is not in this published file" in _text(html)
    assert "does not record its checks" in html


def test_a_mart_missing_a_column_is_not_available(tmp_path):
    path = write_published(tmp_path / "p.duckdb", drop_columns={"renewals": ["is_mature"]})
    html, unavailable = render_report(path, now=NOW)
    assert unavailable == ["renewals"]
    assert "lacks column(s) is_mature" in _sections(html)["renewals"]


def test_empty_marts_render(tmp_path):
    path = write_published(tmp_path / "p.duckdb", empty=list(TABLES))
    html, unavailable = render_report(path, now=NOW)
    assert unavailable == ["publication"]
    assert list(_sections(html)) == list(SECTION_IDS)
    assert "no mature lead cohort yet" in html


def test_nothing_is_fetched_from_the_network(tiny_html):
    assert "<script" not in tiny_html
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", tiny_html)
    assert "@import" not in tiny_html and "url(" not in tiny_html
    # the only URL is the SVG namespace, which is a name, not a fetch
    assert set(re.findall(r"https?://[^\s\"'<>]+", tiny_html)) == {"http://www.w3.org/2000/svg"}


def test_failing_to_render_warns_and_does_not_raise(tmp_path):
    broken = tmp_path / "published.duckdb"
    broken.write_bytes(b"not a duckdb file")
    warnings: list[str] = []
    assert render_after_publish(broken, tmp_path / "report.html", warnings.append) is None
    assert len(warnings) == 1 and "could not be written" in warnings[0]
    assert not (tmp_path / "report.html").exists()


def test_gtm_report_rebuilds_from_any_published_file(tiny, tmp_path):
    runner = CliRunner()
    out = tmp_path / "elsewhere" / "report.html"
    done = runner.invoke(main, ["report", "--published", str(tiny), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert str(out) in done.output and out.exists()
    beside = runner.invoke(main, ["report", "--published", str(tiny)])
    assert beside.exit_code == 0, beside.output
    assert (tiny.parent / "metrics_report.html").exists()
    missing = runner.invoke(main, ["report", "--published", str(tmp_path / "nope.duckdb")])
    assert missing.exit_code != 0 and "No published file" in missing.output


# -- small pure helpers --------------------------------------------------------------------


def test_formats():
    assert fmt.money(1_584_655.2) == "$1.58M"
    assert fmt.money(-12_300, "EUR") == "-€12.3K"
    assert fmt.money(2_500_000, trim=True) == "$2.5M"
    assert fmt.money(None) == fmt.pct(None) == fmt.MISSING
    assert fmt.pct(0.8482) == "84.8%"


def test_nice_ticks_cover_the_range():
    ticks = charts.nice_ticks(-0.13, 1.62)
    assert ticks[0] <= -0.13 and ticks[-1] >= 1.62 and len(ticks) <= 9
    assert charts.nice_ticks(5, 5)[0] < 5 < charts.nice_ticks(5, 5)[-1]


# -- tiny demo data, refreshed and published ------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`gtm demo-data` (tiny) then `run_refresh`: publishing writes the report."""
    root = tmp_path_factory.mktemp("demo")
    env = {
        "GTM_LANDING_DIR": str(root / "landing"),
        "GTM_WAREHOUSE_DIR": str(root / "warehouse"),
        "GTM_AS_OF_DATE": AS_OF,
        "GTM_DUCKDB_THREADS": "2",
        "GTM_ALERT_WEBHOOK": "",
    }
    generated = CliRunner(env=env).invoke(main, ["demo-data", "--out", str(root / "landing"), "--scale", "0.03"])
    assert generated.exit_code == 0, generated.output
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = load_settings()
        outcome = run_refresh(settings, instance=dg.DagsterInstance.ephemeral())
    assert outcome.published, outcome.summary()
    return settings, outcome


def test_publishing_writes_the_report_and_says_where(demo):
    settings, outcome = demo
    assert outcome.report == settings.report_path
    assert settings.report_path.parent == settings.published_db_path.parent
    assert f"Metrics report: {settings.report_path}" in outcome.summary()
    html = settings.report_path.read_text()
    assert list(_sections(html)) == list(SECTION_IDS)
    assert "Not available" not in html


def test_the_demo_report_shows_its_checks(demo):
    settings, _ = demo
    with duckdb.connect(str(settings.published_db_path), read_only=True) as con:
        passed, warned, failed = con.execute(
            "select checks_passed, checks_warned, checks_failed from marts.publication order by published_at desc"
        ).fetchone()
    html = settings.report_path.read_text()
    assert f"<b>{passed}</b> passed, <b>{warned}</b> warned, <b>{failed}</b> failed" in html
    assert ("check(s) warned" in html) == bool(warned)


# -- in a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    return browser.ensure_chromium()


def test_the_console_check_catches_errors(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<html><body><h1>x</h1><script>console.error('boom')</script></body></html>")
    rendered = browser.render(chromium, page, tmp_path / "bad.png", tmp_path / "profile", size=(400, 300))
    assert any("boom" in line for line in rendered.console)


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_the_report_renders_in_chromium_and_is_not_blank(which, demo, tiny, chromium, tmp_path):
    page = demo[0].report_path if which == "demo" else build_report(tiny, tmp_path / "report.html", now=NOW).path
    rendered = browser.render(chromium, page, tmp_path / "shot.png", tmp_path / "profile")
    assert rendered.console == [], rendered.console
    image = read_png(rendered.screenshot)
    assert (image.width, image.height) == (1280, 2000)
    colours = image.colours(step=8)
    assert len(colours) > 50, f"the page looks blank: {len(colours)} colours"
    # the dark header band is at the top, the page background below it
    assert image.pixel(640, 5)[:3] != image.pixel(640, 1990)[:3]
