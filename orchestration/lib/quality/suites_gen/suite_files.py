"""Suites as GX writes them to expectations/expectations/, written or compared.

The output is deterministic: each id is a UUID5 of the suite and the expectation's
content, order and layout are fixed (GX's own: sorted keys, two-space indent), so
regenerating unchanged inputs gives no diff.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from orchestration.lib.dbt_manifest import public_marts
from orchestration.lib.quality.suites import SUITES_DIR, TARGETS_BY_SUITE, SuiteTarget
from orchestration.lib.quality.suites_gen.mart_suites import mart_expectations
from orchestration.lib.quality.suites_gen.source_suites import source_expectations

GX_VERSION = "1.24.1"  # written into each suite's meta, as GX does when it saves one
GENERATED_BY = "orchestration.lib.quality.suites_gen"
_NAMESPACE = uuid.UUID("5d0c6b8e-58c4-4d0f-9a52-6f1f4c0c2a11")  # gtm-warehouse suites


def _identify(suite: str, expectation: dict[str, Any]) -> str:
    content = json.dumps({"type": expectation["type"], "kwargs": expectation["kwargs"]}, sort_keys=True)
    return str(uuid.uuid5(_NAMESPACE, f"{suite}\n{content}"))


def build_suite(target: SuiteTarget) -> dict[str, Any]:
    """The suite of `target` as GX writes it to its file."""
    is_source = target.kind == "source"
    raw = source_expectations(target) if is_source else mart_expectations(public_marts()[target.table])
    expectations = [{**e, "id": _identify(target.suite, e)} for e in raw]
    ids = [e["id"] for e in expectations]
    repeated = {i for i in ids if ids.count(i) > 1}
    if repeated:
        raise ValueError(f"{target.suite}: expectations repeated: {repeated}")
    return {
        "expectations": expectations,
        "id": str(uuid.uuid5(_NAMESPACE, target.suite)),
        "meta": {
            "great_expectations_version": GX_VERSION,
            "asset": "/".join(target.asset_path),
            "table": target.qualified_table,
            "generated_by": f"{GENERATED_BY} (do not edit: regenerate)",
        },
        "name": target.suite,
        "notes": None,
    }


def suite_text(suite: dict[str, Any]) -> str:
    return json.dumps(suite, indent=2, sort_keys=True) + "\n"


def suite_path(name: str, directory: Path = SUITES_DIR) -> Path:
    """GX stores a dotted suite name in folders: raw.crm__leads -> raw/crm__leads.json."""
    return directory.joinpath(*name.split(".")).with_suffix(".json")


def expected_files(directory: Path = SUITES_DIR) -> dict[Path, str]:
    """Every suite file's path and the text the generator gives it."""
    return {suite_path(name, directory): suite_text(build_suite(t)) for name, t in sorted(TARGETS_BY_SUITE.items())}


def _stray_files(directory: Path, expected: dict[Path, str]) -> list[Path]:
    """Suite files no target has (a removed entity or mart)."""
    return sorted(p for p in directory.rglob("*.json") if p not in expected)


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    """Write every suite file that differs, delete stray ones; the paths changed."""
    expected = expected_files(directory)
    changed = []
    for path, text in expected.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(path)
    for path in _stray_files(directory, expected):
        path.unlink()
        changed.append(path)
    return changed


def drift(directory: Path = SUITES_DIR) -> list[str]:
    """One line per suite file that is missing, differs from the generated text, or has no target."""
    expected = expected_files(directory)
    lines = []
    for path, text in expected.items():
        if not path.exists():
            lines.append(f"{path}: missing")
        elif path.read_text() != text:
            lines.append(f"{path}: differs from the generated suite")
    lines.extend(f"{path}: no suite target (a removed entity or mart?)" for path in _stray_files(directory, expected))
    return lines
