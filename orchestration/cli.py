"""`gtm`: the command line of gtm-warehouse.

Every command reads the settings of orchestration/settings.py (environment
variables GTM_*); options given here override them for this command.
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
import time
from pathlib import Path

import click

from orchestration.settings import PROJECT_ROOT, SETTINGS, Settings, SettingsError, load_settings

REFRESH_ALREADY_RUNNING = 3  # exit status of a refresh turned away by a running one

DEMO_MARKER = ".gtm-demo-data"


def _settings_help() -> str:
    lines = ["Settings (environment variables; defaults in brackets):", ""]
    for s in SETTINGS:
        default = "<hidden>" if s.secret else s.default()
        if s.name == "as_of_date":
            default = "today (UTC)"
        lines.append(f"  {s.env_var} [{default}]")
        lines.extend(
            textwrap.wrap(s.help, width=74, initial_indent="      ", subsequent_indent="      ")
        )
    return "\n".join(lines)


def _apply_overrides(**options: object) -> Settings:
    """Put command-line overrides into the environment (so every step sees them) and
    validate all settings once, up front."""
    for name, value in options.items():
        if value is not None:
            os.environ[f"GTM_{name.upper()}"] = str(value)
    try:
        return load_settings()
    except SettingsError as error:
        raise click.UsageError(str(error)) from None


def _ensure_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    return home


@click.group(epilog=_settings_help(), context_settings={"max_content_width": 100})
def main() -> None:
    """gtm-warehouse: nightly ETL and metrics warehouse for B2B go-to-market teams.

    Typical use: `gtm demo` (demo data + refresh), or land your own extracts per
    docs/landing-contract.md in GTM_LANDING_DIR and run `gtm refresh`.
    """


@main.command("demo-data")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Landing dir to write the demo extracts into (docs/landing-contract.md layout).",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Company size: 1 is a ~$20M ARR company; rows grow linearly (0.05 is tiny).",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed; the same seed writes the same data.",
)
@click.option(
    "--as-of-date",
    default=None,
    help="Last day of the generated history (YYYY-MM-DD) [GTM_AS_OF_DATE or today].",
)
def demo_data_command(out_dir: Path, scale: float, seed: int, as_of_date: str | None) -> None:
    """Write demo extracts of a believable B2B SaaS company into --out.

    \b
    Cadence (files named by their extract date):
    - crm/opportunities: every week over the last twelve months, ending on the
      as-of date; each extract holds every deal the CRM had that day (deals
      advance, slip, change amount or currency, close and sometimes reopen);
    - crm/accounts, crm/leads: every row the CRM had on the last day of the
      twelfth month before the as-of date's, then on each later month end and
      on the as-of date a delta: the rows created or changed (a lead's MQL,
      SQL, conversion with its deal, disqualification) since the previous
      extract, as they are that day; the newest file holding a row wins, so
      the files together are the CRM on the as-of date;
    - crm/campaigns, crm/opportunity_stage_history: on the last day of each of
      the last twelve months and on the as-of date, every row the CRM had that
      day;
    - billing and finance entities: one full extract on the as-of date.

    The same seed, scale and date write the same bytes; rows grow linearly with
    the scale.
    """
    settings = _apply_overrides(as_of_date=as_of_date)
    counts, seconds = write_demo_data(out_dir, scale, seed, settings)
    click.echo(
        f"Wrote demo data (scale {scale:g}, seed {seed}, as of {settings.as_of_date}) "
        f"to {out_dir.resolve()} in {seconds:.1f}s:"
    )
    for entity, rows in counts.items():
        click.echo(f"  {entity:<36} {rows:>12,} rows")


def write_demo_data(
    out_dir: Path, scale: float, seed: int, settings: Settings
) -> tuple[dict[str, int], float]:
    """Generate into `out_dir`, replacing an earlier demo there but never a user's files."""
    from orchestration.demo_data import generate

    if scale <= 0:
        raise click.UsageError(f"--scale must be greater than 0 (got {scale})")
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / DEMO_MARKER).exists():
            raise click.UsageError(
                f"{out_dir} already holds files that the demo generator did not write; "
                "choose an empty folder (or set GTM_LANDING_DIR)."
            )
        _remove_tree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    counts = generate(out_dir, scale=scale, seed=seed, as_of_date=settings.as_of_date)
    (out_dir / DEMO_MARKER).write_text(
        f"scale={scale} seed={seed} as_of_date={settings.as_of_date}\n"
    )
    return counts, time.monotonic() - started


def _remove_tree(folder: Path) -> None:
    import shutil

    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


@main.command("refresh")
@click.option("--landing-dir", default=None, help="Override GTM_LANDING_DIR.")
@click.option("--warehouse-dir", default=None, help="Override GTM_WAREHOUSE_DIR.")
@click.option("--as-of-date", default=None, help="Override GTM_AS_OF_DATE (YYYY-MM-DD).")
@click.option(
    "--full",
    is_flag=True,
    help="Re-read every extract file, not only the ones no earlier refresh read.",
)
def refresh_command(
    landing_dir: str | None, warehouse_dir: str | None, as_of_date: str | None, full: bool
) -> None:
    """Run the nightly_refresh job now, in this process: ingest, dbt build, checks, publish.

    The ingest reads only the extract files no earlier refresh read (a changed or
    deleted file makes its entity re-read in full); --full re-reads every file.

    Exits 1, naming the failing step, whenever nothing was published, and 3 at once,
    naming the running refresh, when another refresh holds the warehouse.
    """
    settings = _apply_overrides(
        landing_dir=landing_dir, warehouse_dir=warehouse_dir, as_of_date=as_of_date
    )
    sys.exit(_refresh(settings, full=full))


def _refresh(settings: Settings, full: bool = False) -> int:
    from orchestration.lib.warehouse import RefreshAlreadyRunning, new_run_id, refresh_lock

    # Taken before anything is printed: a refresh turned away says only
    # that (and which refresh holds the warehouse), never a word about that one's rows.
    run_id = new_run_id()
    try:
        with refresh_lock(settings.lock_path, run_id=run_id):
            return _run_refresh(settings, run_id, full)
    except RefreshAlreadyRunning as error:
        click.echo(f"Error: {error}", err=True)
        return REFRESH_ALREADY_RUNNING


def _run_refresh(settings: Settings, run_id: str, full: bool = False) -> int:
    from orchestration.lib.garbage_collection import tune_for_one_run
    from orchestration.lib.refresh import run_refresh

    tune_for_one_run()  # before Dagster's and dbt's definitions are imported
    _ensure_dagster_home()
    click.echo(f"Refreshing as of {settings.as_of_date} from {settings.landing_dir}")
    outcome = run_refresh(settings, run_id=run_id, full=full)
    click.echo("")
    click.echo(outcome.summary())
    return 0 if outcome.published else 1


@main.command("demo")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Demo company size.")
@click.option("--seed", type=int, default=42, show_default=True, help="Random seed.")
def demo_command(scale: float, seed: int) -> None:
    """Generate demo data into GTM_LANDING_DIR, then refresh and publish it."""
    settings = _apply_overrides()
    counts, seconds = write_demo_data(settings.landing_dir, scale, seed, settings)
    click.echo(
        f"Demo data: {sum(counts.values()):,} rows in {seconds:.1f}s -> {settings.landing_dir}"
    )
    sys.exit(_refresh(settings))


@main.command("report")
@click.option(
    "--published",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Published DuckDB file to read (read-only) [GTM_WAREHOUSE_DIR/published.duckdb].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="HTML file to write [metrics_report.html beside the published file].",
)
def report_command(published: Path | None, out: Path | None) -> None:
    """Build the metrics report: one self-contained HTML page (no network needed to view it)
    from the published marts. Publishing writes it after every good refresh; this rebuilds it
    from any published file, older ones included (a missing mart shows as "not available").
    The commercial-ratio bands are drawn at the thresholds the file was published with."""
    from orchestration.lib.report import build_report

    settings = _apply_overrides()
    published = (published or settings.published_db_path).resolve()
    if not published.exists():
        raise click.ClickException(f"No published file at {published} (run `gtm refresh` or `gtm demo` first).")
    out = (out or published.with_name(settings.report_path.name)).resolve()
    result = build_report(published, out)
    for section in result.unavailable:
        click.echo(f"  not available in this file: {section}")
    click.echo(f"Metrics report ({result.sections} sections, {result.seconds:.1f}s): {result.path}")


ROWS_FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json", "markdown"]),
    default="table",
    show_default=True,
    help="How to print the rows (csv and json print every row at full precision).",
)


@main.command("sql")
@click.argument("query", required=False)
@click.option(
    "--published",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Published DuckDB file to query [GTM_WAREHOUSE_DIR/published.duckdb].",
)
@ROWS_FORMAT_OPTION
@click.option(
    "--max-rows",
    type=int,
    default=100,
    show_default=True,
    help="Rows printed as table or markdown (0: all); floats show at most 6 decimals there.",
)
def sql_command(query: str | None, published: Path | None, output_format: str, max_rows: int) -> None:
    """Query the published file, read-only, with this project's own DuckDB.

    QUERY is SQL (several statements separated by ';' print the last one's rows), or
    `.tables` for the published tables and their row counts. Without QUERY, SQL is read
    from standard input (`gtm sql < query.sql`), or typed at a `gtm>` prompt in a
    terminal (end statements with ';', `.quit` leaves). Writing is refused: the file is
    opened read-only.

    Works whatever DuckDB CLI is installed: the `duckdb-cli` package on PyPI is 1.5.x and
    cannot open a file written by DuckDB 2.0.
    """
    import duckdb

    from orchestration.lib import sql_shell

    settings = _apply_overrides()
    published = (published or settings.published_db_path).resolve()
    try:
        with sql_shell.connect_read_only(published) as con:
            if query is None and sys.stdin.isatty():
                _sql_prompt(con, output_format, max_rows)
                return
            text = query if query is not None else sys.stdin.read()
            if not text.strip():
                raise click.UsageError("no SQL given (pass QUERY or pipe SQL into `gtm sql`)")
            if text.strip().rstrip(";") == ".tables":
                text = sql_shell.TABLES_SQL
            try:
                click.echo(sql_shell.render(sql_shell.run(con, text), output_format, max_rows))
            except duckdb.Error as error:
                raise click.ClickException(str(error).strip()) from None
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None


def _sql_prompt(con: object, output_format: str, max_rows: int) -> None:
    import duckdb

    from orchestration.lib import sql_shell

    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())

    click.echo(f"gtm sql: {sql_shell.SHELL_HELP}")
    prompt = [sql_shell.PROMPT]  # the next prompt: a continuation inside a statement

    def lines():
        while True:
            try:
                yield input(prompt[0])
            except EOFError:
                return

    for statement in sql_shell.statements(lines(), prompt=lambda text: prompt.__setitem__(0, text)):
        command = statement.lower().rstrip(";")
        if command in (".quit", ".exit", ".q"):
            break
        if command == ".help":
            click.echo(sql_shell.SHELL_HELP)
            continue
        sql = sql_shell.TABLES_SQL if command == ".tables" else statement
        try:
            click.echo(sql_shell.render(sql_shell.run(con, sql), output_format, max_rows))
        except duckdb.Error as error:
            click.echo(f"Error: {str(error).strip()}", err=True)
    click.echo("")


@main.command("docs")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder to write the site into [GTM_WAREHOUSE_DIR/dbt_docs].",
)
@click.option(
    "--no-catalog",
    is_flag=True,
    help="Do not read the work database (no column types or row counts; faster).",
)
def docs_command(out_dir: Path | None, no_catalog: bool) -> None:
    """Generate the dbt documentation site (lineage graph, every model and column described)
    as one self-contained index.html that opens offline.

    Column types come from the work database (read-only); without a built one, or while a
    refresh runs, the site is generated without them and says so.
    """
    from orchestration.lib.dbt_docs import DocsError, generate_docs

    settings = _apply_overrides()
    try:
        result = generate_docs(settings, out_dir, catalog=not no_catalog)
    except DocsError as error:
        raise click.ClickException(str(error)) from None
    catalog = "with the catalog" if result.with_catalog else "WITHOUT the catalog"
    click.echo(f"dbt docs generated {catalog} ({result.catalog_note}) in {result.seconds:.1f}s")
    click.echo(f"  {result.models} models, {result.columns} columns, {len(result.undocumented)} without a description")
    for column in result.undocumented[:20]:
        click.echo(f"    no description: {column}")
    if result.external:
        click.echo(f"  Warning: the page loads {len(result.external)} resource(s) from the network: {result.external}")
    click.echo(f"Open it in a browser (no network needed): {result.index}")


@main.command("pull")
@click.argument("sources", nargs=-1)
@click.option("--full", is_flag=True, help="Ignore the incremental state: pull everything again.")
def pull_command(sources: tuple[str, ...], full: bool) -> None:
    """Pull SOURCES now (general_ledger, sql_database, stripe, hubspot, salesforce; all configured ones when none
    is named) into landing-contract extracts under GTM_LANDING_DIR. Prints rows per entity
    and the files written; a source that is not configured is skipped and says so.
    See the README, "Pulling from your systems"."""
    from orchestration.lib.connectors import PullError
    from orchestration.lib.connectors.runner import pull_sources

    settings = _apply_overrides()
    try:
        reports = pull_sources(settings, list(sources) or None, full=full)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    except PullError as error:
        raise click.ClickException(f"{error} (landing files and the last publication are untouched)") from None
    for report in reports:
        for line in report.lines():
            click.echo(line)


def _published_path(settings: Settings, published: Path | None) -> Path:
    return (published or settings.published_db_path).resolve()


def _names(values: tuple[str, ...]) -> list[str]:
    """`--metrics a,b --metrics c` as [a, b, c]."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


PUBLISHED_OPTION = click.option(
    "--published",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Published DuckDB file to read (read-only) [GTM_WAREHOUSE_DIR/published.duckdb].",
)


@main.group("metrics")
def metrics_group() -> None:
    """The semantic layer: MetricFlow metrics over the published file, read-only
    (docs/analysts.md)."""


@metrics_group.command("list")
@PUBLISHED_OPTION
@click.option("--dimensions", is_flag=True, help="Also list each metric's dimensions (--group-by names).")
def metrics_list_command(published: Path | None, dimensions: bool) -> None:
    """List the metrics, their type and what they mean."""
    from orchestration.lib.metrics_layer import MetricsError, open_metrics_layer

    settings = _apply_overrides()
    try:
        with open_metrics_layer(_published_path(settings, published)) as layer:
            for metric in layer.metrics():
                click.echo(f"{metric.name} ({metric.type}): {metric.description}")
                if dimensions:
                    click.echo(textwrap.fill(", ".join(metric.dimensions), width=100, initial_indent="    ",
                                             subsequent_indent="    "))
    except MetricsError as error:
        raise click.ClickException(str(error)) from None


@metrics_group.command("query")
@click.option("--metrics", "metric_names", multiple=True, required=True, help="Metric names, comma-separated.")
@click.option(
    "--group-by",
    multiple=True,
    help="metric_time__month|quarter|year, or a dimension (segment, or qualified: opportunity__segment).",
)
@click.option("--where", multiple=True, help="A MetricFlow filter, e.g. \"{{ Dimension('lead_cohort__is_mature') }}\".")
@click.option("--order-by", multiple=True, help="Names to order by (- in front: descending) [the group-by].")
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@click.option("--explain", is_flag=True, help="Print the SQL MetricFlow runs instead of the rows.")
@ROWS_FORMAT_OPTION
@PUBLISHED_OPTION
def metrics_query_command(
    metric_names: tuple[str, ...], group_by: tuple[str, ...], where: tuple[str, ...], order_by: tuple[str, ...],
    limit: int | None, explain: bool, output_format: str, published: Path | None,
) -> None:
    """Query metrics through MetricFlow, e.g.
    `gtm metrics query --metrics win_rate --group-by metric_time__quarter,segment`."""
    from orchestration.lib import sql_shell
    from orchestration.lib.metrics_layer import MetricsError, open_metrics_layer

    settings = _apply_overrides()
    metrics, groups = _names(metric_names), _names(group_by)
    try:
        with open_metrics_layer(_published_path(settings, published)) as layer:
            if explain:
                click.echo(layer.sql(metrics, groups))
                return
            result = layer.query(metrics, groups, where=where, order_by=_names(order_by), limit=limit)
    except MetricsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(sql_shell.render(result, output_format, max_rows=0))


@main.command("export")
@click.option("--format", "output_format", type=click.Choice(["csv", "parquet", "xlsx"]), required=True,
              help="csv and parquet: a file per table; xlsx: one workbook, a sheet per table.")
@click.option("--tables", multiple=True, help="Published tables, comma-separated [all of schema marts].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder to write into (created when missing).")
@PUBLISHED_OPTION
def export_command(output_format: str, tables: tuple[str, ...], out_dir: Path, published: Path | None) -> None:
    """Export the published tables for spreadsheets and BI tools (docs/analysts.md)."""
    from orchestration.lib.export import ExportError, export

    settings = _apply_overrides()
    try:
        result = export(_published_path(settings, published), output_format, out_dir, _names(tables))
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Exported {len(result.tables)} table(s), {sum(result.tables.values()):,} rows, as {output_format}:")
    for path in result.files:
        click.echo(f"  {path}")


@main.command("settings")
def settings_command() -> None:
    """Show every setting's current value and the variable that sets it."""
    settings = _apply_overrides()
    for variable, value, help_text in settings.as_display():
        click.echo(f"{variable:<30} {value}")
        click.echo(
            textwrap.fill(help_text, width=90, initial_indent=" " * 4, subsequent_indent=" " * 4)
        )


if __name__ == "__main__":
    main()
