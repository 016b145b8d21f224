"""The dbt resource's overrides of dagster-dbt private methods, guarded.

`GtmDbtCliResource` overrides `DbtCliResource._cli_version` and
`DbtCliResource._initialize_dbt_core_adapter` (orchestration/defs/resources.py): there
is no public switch for either start-up cost. These tests fail, naming the method, when
dagster-dbt is not the release the overrides were read against, when a method is gone
or has another signature, when `cli()` stops calling it (the override would be dead),
and when a dbt command run through the resource pays either cost again.

dbt itself runs in the Dagster process (orchestration/defs/dbt/in_process.py) where
dagster-dbt's `DbtCliInvocation.run` calls `subprocess.Popen` of its module: guarded the
same way, and checked end to end (no process started, dbt's errors still reach
dagster-dbt's error).
"""

import importlib.metadata
import inspect
import re
import subprocess
import time
from functools import cached_property

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation
import dagster_dbt.core.resource as dagster_dbt_resource
import dbt.adapters.factory
import dbt.cli.main
import pytest
from dagster_dbt import DbtCliInvocation, DbtCliResource

from orchestration.defs.dbt import in_process
from orchestration.defs.dbt.in_process import dbt_arguments
from orchestration.defs.resources import DAGSTER_DBT_OVERRIDES_CHECKED_WITH, GtmDbtCliResource, dbt_resource
from orchestration.settings import PROJECT_ROOT

OVERRIDDEN = ("_cli_version", "_initialize_dbt_core_adapter")


def _pinned(package: str) -> str:
    (pin,) = re.findall(rf'"{package}==([^"]+)"', (PROJECT_ROOT / "pyproject.toml").read_text())
    return pin


@pytest.mark.parametrize("method", OVERRIDDEN)
def test_the_overrides_were_read_against_the_pinned_dagster_dbt(method):
    installed = importlib.metadata.version("dagster-dbt")
    for release, where in ((_pinned("dagster-dbt"), "pinned in pyproject.toml"), (installed, "installed")):
        assert release == DAGSTER_DBT_OVERRIDES_CHECKED_WITH, (
            f"dagster-dbt {release} is {where}, but GtmDbtCliResource.{method} overrides a private method "
            f"of dagster-dbt {DAGSTER_DBT_OVERRIDES_CHECKED_WITH}: read DbtCliResource.{method} and cli() "
            "of the new release, then update the override and DAGSTER_DBT_OVERRIDES_CHECKED_WITH"
        )


def test_cli_version_is_still_a_cached_property_of_the_resource():
    assert isinstance(inspect.getattr_static(DbtCliResource, "_cli_version", None), cached_property), (
        "DbtCliResource._cli_version is no longer a cached property: re-check GtmDbtCliResource._cli_version"
    )


def test_initialize_dbt_core_adapter_still_takes_the_cli_args():
    original = getattr(DbtCliResource, "_initialize_dbt_core_adapter", None)
    assert original is not None, "DbtCliResource._initialize_dbt_core_adapter is gone: remove the override"
    assert list(inspect.signature(original).parameters) == ["self", "args"], (
        "DbtCliResource._initialize_dbt_core_adapter changed its signature: re-check the override"
    )
    ours = inspect.signature(GtmDbtCliResource._initialize_dbt_core_adapter)
    assert list(ours.parameters) == ["self", "args"]


@pytest.mark.parametrize("method", OVERRIDDEN)
def test_cli_still_calls_the_overridden_method(method):
    assert f"self.{method}" in inspect.getsource(DbtCliResource.cli), (
        f"DbtCliResource.cli no longer calls {method}: the override GtmDbtCliResource.{method} is dead; remove it"
    )


def test_a_dbt_command_starts_without_the_version_subprocess_or_an_in_process_adapter(monkeypatch, tmp_path):
    version_calls: list[list[str]] = []
    adapters: list[object] = []
    real_check_output = dagster_dbt_resource.check_output

    def recording_check_output(command, *args, **kwargs):
        version_calls.append(list(command))
        return real_check_output(command, *args, **kwargs)

    def recording_register_adapter(*args, **kwargs):
        adapters.append(args)
        raise RuntimeError("an adapter was opened in the Dagster process")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", recording_check_output)
    monkeypatch.setattr(dbt.adapters.factory, "register_adapter", recording_register_adapter)
    invocation = dbt_resource().cli(["--version"], target_path=tmp_path)
    invocation.wait()
    assert invocation.is_successful()
    assert version_calls == [], "dagster-dbt ran `dbt --version`: GtmDbtCliResource._cli_version no longer applies"
    assert adapters == [], (
        "dagster-dbt opened a dbt adapter in-process: GtmDbtCliResource._initialize_dbt_core_adapter no longer applies"
    )
    assert dbt_resource()._cli_version.base_version == importlib.metadata.version("dbt-core")


def test_dbt_cli_invocation_still_starts_dbt_with_its_modules_popen():
    assert dagster_dbt_invocation.subprocess is subprocess
    assert "subprocess.Popen(" in inspect.getsource(DbtCliInvocation.run), (
        "DbtCliInvocation.run no longer starts dbt with subprocess.Popen: "
        "orchestration/defs/dbt/in_process.py no longer applies; re-read it"
    )


def test_the_environment_dagster_dbt_builds_becomes_the_subcommands_options():
    command = ["/venv/bin/dbt", "--no-use-colors", "--log-level-file", "warn", "build", "--vars", "{}", "--target", "refresh"]
    env = {"DBT_TARGET_PATH": "/wh/dbt", "DBT_LOG_PATH": "/wh/dbt", "DBT_PROFILES_DIR": "/p", "DBT_PROJECT_DIR": "/p",
           "DBT_LOG_FORMAT": "json", "HOME": "/root"}
    assert dbt_arguments(command, env) == [
        "--log-level", "none", "--no-send-anonymous-usage-stats",
        "--no-use-colors", "--log-level-file", "warn", "build",
        "--target-path", "/wh/dbt", "--log-path", "/wh/dbt", "--profiles-dir", "/p", "--project-dir", "/p",
        "--vars", "{}", "--target", "refresh",
    ]  # fmt: skip
    # no subcommand: nothing that only subcommands accept
    assert dbt_arguments(["dbt", "--version"], env) == [
        "--log-level", "none", "--no-send-anonymous-usage-stats", "--version"
    ]  # fmt: skip


def test_dbt_runs_in_this_process_and_its_errors_reach_dagster_dbt(monkeypatch, tmp_path):
    started: list[object] = []
    real_popen = subprocess.Popen

    def recording_popen(args, *rest, **kwargs):
        started.append(args)
        return real_popen(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    invocation = dbt_resource().cli(["build", "--no-such-option"], target_path=tmp_path, raise_on_error=False)
    error = invocation.get_error()
    assert started == [], "a dbt process was started"
    assert invocation.process.returncode == 2  # dbt's exit code for an error of dbt itself
    assert error is not None and "No such option '--no-such-option'" in str(error)


def test_a_reader_that_stops_early_stops_dbt_and_dbt_closes_the_database(monkeypatch):
    """An error while dagster-dbt handles dbt's events ends its reading: dbt must not go on
    holding the warehouse's database, which the summary and the next steps open again."""
    closed: list[bool] = []
    monkeypatch.setattr(in_process, "_close_duckdb", lambda: closed.append(True))

    class EndlessDbt:  # a build that only ends when interrupted, as Ctrl-C ends dbt
        def __init__(self, **_kwargs: object) -> None:
            pass

        def invoke(self, _arguments: list[str]) -> object:
            while True:
                time.sleep(0.01)

    monkeypatch.setattr(dbt.cli.main, "dbtRunner", EndlessDbt)
    process = in_process.InProcessDbt(["dbt", "build"], env={})
    with process.stdout:
        pass  # the reader stops before dbt's last line
    assert process.poll() == 2  # stopped (dbt's code for an error of dbt itself), not still running
    assert closed == [True]
