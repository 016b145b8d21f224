"""`gtm`: the command line of gtm-warehouse.

Every command reads the settings of orchestration/settings.py (environment
variables GTM_*); options given here override them for this command.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import click

from orchestration.settings import PROJECT_ROOT, SETTINGS, Settings, SettingsError, load_settings

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
    SOURCES.md in GTM_LANDING_DIR and run `gtm refresh`.
    """


@main.command("demo-data")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Landing dir to write the demo extracts into (SOURCES.md layout).",
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
    """Write demo extracts of a believable B2B SaaS company into --out."""
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
def refresh_command(
    landing_dir: str | None, warehouse_dir: str | None, as_of_date: str | None
) -> None:
    """Run the nightly_refresh job now, in this process: ingest, dbt build, checks, publish.

    Exits non-zero, naming the failing step, whenever nothing was published.
    """
    settings = _apply_overrides(
        landing_dir=landing_dir, warehouse_dir=warehouse_dir, as_of_date=as_of_date
    )
    sys.exit(_refresh(settings))


def _refresh(settings: Settings) -> int:
    from orchestration.lib.refresh import run_refresh

    _ensure_dagster_home()
    click.echo(f"Refreshing as of {settings.as_of_date} from {settings.landing_dir}")
    outcome = run_refresh(settings)
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
