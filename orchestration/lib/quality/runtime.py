"""Importing Great Expectations the one way this project uses it.

GX is slow to import, so nothing imports it at module level: the gate calls
`import_gx()` when it runs. That applies the DuckDB compatibility shims (and checks
the GX version), registers `expect_no_unexpected_rows`, turns analytics off and
drops one warning GX logs for every type expectation on DuckDB.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

# GX logs this once per `expect_column_values_to_be_of_type` on a dialect without its
# own type module (DuckDB); the comparison then uses SQLAlchemy's types, as intended.
_NOISY_MESSAGE = "No sqlalchemy dialect found; relying on top-level sqlalchemy types."
_SPARK_CONNECT = "pyspark.sql.connect"


class _DropMessage(logging.Filter):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


_import_lock = threading.Lock()


def import_gx() -> ModuleType:
    with _import_lock:  # once, also when import_gx_in_background is still at it
        return _import_gx()


@contextlib.contextmanager
def _spark_connect_hidden() -> Iterator[None]:
    """GX's import probes every pyspark module it could use, Spark Connect's too. With
    pyspark installed (the `spark` extra), importing that one ends the process with exit
    code 0 whenever `__main__` has no file (`python -c`, pytest-xdist workers): pyspark
    takes it for a doctest run. GX's Spark support is not used here, so while GX is
    imported that module reads as not installed; pyspark itself stays importable."""
    if _SPARK_CONNECT in sys.modules:
        yield
        return
    sys.modules[_SPARK_CONNECT] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        if sys.modules.get(_SPARK_CONNECT, 0) is None:
            del sys.modules[_SPARK_CONNECT]


@cache
def _import_gx() -> ModuleType:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with _spark_connect_hidden():
        import great_expectations as gx

    from orchestration.lib.quality import expectations, gx_compat  # noqa: F401  (registers)

    gx_compat.apply()
    logging.getLogger("great_expectations.expectations.type_comparison").addFilter(_DropMessage(_NOISY_MESSAGE))
    return gx


def import_gx_in_background() -> None:
    """Start importing GX (about 3 s of Python) in a daemon thread, so a run's first
    quality gate finds it imported: the run starts with ingest, whose work is inside
    DuckDB and leaves the interpreter free. A failed import is raised again, where it
    belongs, when the gate calls import_gx."""

    def _import() -> None:
        with contextlib.suppress(Exception):
            import_gx()

    threading.Thread(target=_import, name="import-great-expectations", daemon=True).start()


def _view(class_name: str) -> dict[str, str]:
    """GX's view with its templates compiled once per process (docs_views.py)."""
    return {"module_name": "orchestration.lib.quality.docs_views", "class_name": class_name}


def ephemeral_context(
    results_dir: Path | None = None, data_docs_dir: Path | None = None, site_name: str = "site"
) -> Any:
    """An in-memory GX context without analytics or progress bars. With `results_dir`,
    validation results are kept there (files); with `data_docs_dir`, it has one Data Docs
    site there, of validation pages only."""
    gx = import_gx()
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    memory = {"class_name": "InMemoryStoreBackend"}
    results_backend = (
        {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)} if results_dir else memory
    )
    sites = {}
    if data_docs_dir:
        sites[site_name] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(data_docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": _view("IndexPageView")},
            # Validation pages only: each already lists every expectation of its suite.
            "site_section_builders": {
                "expectations": "None",
                "profiling": "None",
                "validations": {"view": _view("PageView")},
            },
        }
    config = DataContextConfig(
        config_version=4,
        stores={
            "expectations_store": {"class_name": "ExpectationsStore", "store_backend": memory},
            "validation_results_store": {
                "class_name": "ValidationResultsStore",
                "store_backend": results_backend,
            },
            "checkpoint_store": {"class_name": "CheckpointStore", "store_backend": memory},
            "validation_definition_store": {
                "class_name": "ValidationDefinitionStore",
                "store_backend": memory,
            },
        },
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        data_docs_sites=sites,
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)
