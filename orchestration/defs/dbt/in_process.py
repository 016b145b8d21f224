"""dbt run by dbt's programmatic `dbtRunner` inside the Dagster process, in place of the
`dbt` subprocess dagster-dbt starts for every `cli()` call (issue 18).

A subprocess pays, on every build, a new interpreter, dbt-core's imports (which the
Dagster process has already paid: dagster-dbt imports dbt-core) and JSON logs written to
a pipe and read back. Here dbt runs in a thread of this process; its structured events
reach dagster-dbt as the very JSON lines `dbt --log-format json` would print (same
fields, same info level), so dagster-dbt's `DbtCliInvocation` turns them into the same
asset events, lineage and error messages as before. Only its `process` changes:
`InProcessDbt` behaves like the `subprocess.Popen` it replaces (`stdout` lines, `wait`,
`returncode`, `args`, `send_signal`).

A build of a DuckDB warehouse is handed the project's parse made once for the project's
current files (orchestration/lib/dbt_parse_reuse.py) instead of parsing it again.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import signal
import subprocess
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation
import yaml

from orchestration.lib.dbt_parse_reuse import parsed_manifest
from orchestration.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

# dbt's own exit codes (dbt.cli.exceptions / the `dbt` console script)
_DBT_FAILED = 1  # a model or test failed
_DBT_ERROR = 2  # dbt itself raised (bad project, connection, ...)
# dbt's stdout prints events at info level and above; debug events (every SQL statement,
# every adapter call) reach callbacks too and would only cost time here.
_PRINTED_LEVELS = frozenset({"info", "warn", "error"})
# The environment dagster-dbt gives the dbt process, as dbt's own options. They are
# flags here rather than environment variables: the Dagster process's environment is
# shared with every other step, and DBT_LOG_FORMAT=json would turn dbt's text log into
# JSON (dagster-dbt writes the text log from the events it receives).
_ENV_AS_FLAGS = {
    "DBT_TARGET_PATH": "--target-path",
    "DBT_LOG_PATH": "--log-path",
    "DBT_PROFILES_DIR": "--profiles-dir",
    "DBT_PROJECT_DIR": "--project-dir",
}
# The dbt commands that run on the parsed project, and so can be given a parse made before
_COMMANDS_ON_A_PARSE = frozenset({"build", "run", "test", "compile", "seed", "snapshot", "show", "list", "ls"})
# How long a dbt stopped early may take to cancel its query and close the database
_STOP_TIMEOUT_S = 60
# Only one dbt runs at a time in a process: dbt keeps its flags, adapters and event
# manager in module globals.
_ONE_DBT_AT_A_TIME = threading.Lock()


class InProcessDbt:
    """A dbt command running in a thread of this process, shaped like `subprocess.Popen`."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], **_popen_kwargs: object) -> None:
        self.args = list(args)  # [dbt executable, *dbt arguments], as dagster-dbt built them
        self.returncode: int | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self.stdout = _QueueLines(self._lines, self._stop)
        arguments = dbt_arguments(self.args, env)
        self._thread = threading.Thread(target=self._run, args=(arguments, env), daemon=True)
        self._thread.start()

    def _run(self, arguments: list[str], env: Mapping[str, str]) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_dict

        def forward(msg) -> None:
            if msg.info.level in _PRINTED_LEVELS:
                self._lines.put(json.dumps(msg_to_dict(msg), default=str).encode())

        try:
            with _ONE_DBT_AT_A_TIME:
                try:
                    manifest = reusable_parse(arguments, env)
                    result = dbtRunner(manifest=manifest, callbacks=[forward]).invoke(arguments)
                finally:
                    _close_duckdb()
            if result.exception is not None:
                self._error(f"dbt raised {type(result.exception).__name__}: {result.exception}")
            self.returncode = 0 if result.success else _DBT_FAILED if result.exception is None else _DBT_ERROR
        except BaseException as error:  # reported like a crashed dbt process
            self._error(f"dbt raised {type(error).__name__}: {error}")
            self.returncode = _DBT_ERROR
        finally:
            self._lines.put(None)

    def _error(self, text: str) -> None:
        # an error-level line, as dbt prints it: dagster-dbt collects these into its error
        self._lines.put(
            json.dumps({"info": {"level": "error", "msg": text, "name": "MainEncounteredError"}, "data": {}}).encode()
        )

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, _signal: int) -> None:
        """dagster-dbt forwards an interrupt of the run (SIGINT) to dbt: raised in dbt's
        thread as the KeyboardInterrupt dbt handles on Ctrl-C (it cancels its queries)."""
        if self._thread.is_alive() and self._thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
            )

    def _stop(self) -> None:
        self.send_signal(signal.SIGINT)
        self._thread.join(_STOP_TIMEOUT_S)

    def poll(self) -> int | None:
        return self.returncode


class _QueueLines:
    """The dbt thread's output lines, as a pipe's file object would give them. A reader that
    stops before the last line (an error while it handles the events) stops dbt: dbt then
    closes the warehouse's database, which the steps after it open again."""

    def __init__(self, lines: queue.Queue[bytes | None], stop_dbt: Callable[[], None]) -> None:
        self._lines = lines
        self._stop_dbt = stop_dbt
        self._ended = False
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not None:
            yield line
        self._ended = True
        self.closed = True

    def __enter__(self) -> _QueueLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True
        if not self._ended:
            self._stop_dbt()


def dbt_arguments(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """dbtRunner's arguments for a dbt command line and the environment dagster-dbt built
    for it: the paths it passes as environment variables become the subcommand's own
    options (where it has them), and dbt's text log to stdout is off (dagster-dbt writes
    the log from the events)."""
    from dbt.cli.main import cli

    dbt_args = list(args[1:])  # without the executable
    global_flags = ["--log-level", "none", "--no-send-anonymous-usage-stats"]
    at = next((i for i, arg in enumerate(dbt_args) if arg in cli.commands), None)
    if at is None:  # no subcommand, e.g. `dbt --version`
        return [*global_flags, *dbt_args]
    options = {opt for param in cli.commands[dbt_args[at]].params for opt in param.opts}
    path_flags = [
        part
        for variable, flag in _ENV_AS_FLAGS.items()
        if variable in env and flag in options
        for part in (flag, os.fspath(env[variable]))
    ]
    return [*global_flags, *dbt_args[: at + 1], *path_flags, *dbt_args[at + 1 :]]


def reusable_parse(arguments: Sequence[str], env: Mapping[str, str]) -> Manifest | None:
    """The project's parse made before (orchestration/lib/dbt_parse_reuse.py) when the
    command runs this project on a DuckDB target; None: dbt parses."""
    from dbt.cli.main import cli

    command = next((arg for arg in arguments if arg in cli.commands), None)
    project_dir = env.get("DBT_PROJECT_DIR")
    work_db = env.get("GTM_WORK_DB_PATH")
    if command not in _COMMANDS_ON_A_PARSE or not project_dir or not work_db:
        return None
    if Path(project_dir).resolve() != DBT_PROJECT_DIR.resolve() or _target_type(arguments) != "duckdb":
        return None
    return parsed_manifest(Path(work_db))


def _target_type(arguments: Sequence[str]) -> str | None:
    """The adapter type of the profiles.yml target the command runs on (`--target`, or the
    profile's default)."""
    profile = next(iter(yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text()).values()))
    at = next((i for i, arg in enumerate(arguments[:-1]) if arg in ("--target", "-t")), None)
    target = arguments[at + 1] if at is not None else profile.get("target")
    return (profile.get("outputs", {}).get(target) or {}).get("type")


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for a `keep_open` profile (in a dbt
    process, the process's exit closes it): the steps after dbt open the same file."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if environment is not None:
        environment.close()


@contextlib.contextmanager
def dbt_in_this_process() -> Iterator[None]:
    """While inside, dagster-dbt's `DbtCliInvocation.run` starts `InProcessDbt` where it
    would start the dbt process (it calls `subprocess.Popen` of its module)."""
    popen_here = types.SimpleNamespace(Popen=InProcessDbt, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT)
    with _PATCH_LOCK:
        original = dagster_dbt_invocation.subprocess
        dagster_dbt_invocation.subprocess = popen_here
        try:
            yield
        finally:
            dagster_dbt_invocation.subprocess = original


_PATCH_LOCK = threading.Lock()
