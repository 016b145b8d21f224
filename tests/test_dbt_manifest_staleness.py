"""The manifest is re-parsed whenever the project's files change, removals included
(orchestration/lib/dbt_manifest.py): a model deleted or moved in with an old mtime
changes no file's mtime after the parse, so mtimes alone would keep a stale manifest."""

import os
from pathlib import Path

import pytest

from orchestration.lib.dbt_manifest import ensure_manifest, load_manifest, manifest_is_stale

PROFILES = """tiny:
  target: dev
  outputs:
    dev: {type: duckdb, path: ":memory:"}
"""
PROJECT = """name: tiny
version: "1.0.0"
config-version: 2
profile: tiny
"""


def _model_names(manifest_path: Path) -> set[str]:
    nodes = load_manifest(manifest_path)["nodes"].values()
    return {n["name"] for n in nodes if n["resource_type"] == "model"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny_dbt")
    (root / "dbt_project.yml").write_text(PROJECT)
    (root / "profiles.yml").write_text(PROFILES)
    for folder in ("models", "macros", "tests"):
        (root / folder).mkdir()
    (root / "models" / "kept.sql").write_text("select 1 as id\n")
    (root / "models" / "dropped.sql").write_text("select 2 as id\n")
    return root


def test_a_removed_model_makes_the_manifest_stale_and_the_next_parse_drops_it(project: Path) -> None:
    manifest = ensure_manifest(project)
    assert _model_names(manifest) == {"kept", "dropped"}
    assert not manifest_is_stale(manifest, project)

    (project / "models" / "dropped.sql").unlink()

    assert manifest_is_stale(manifest, project)
    assert _model_names(ensure_manifest(project)) == {"kept"}
    assert not manifest_is_stale(manifest, project)


def test_a_model_moved_in_with_an_old_mtime_makes_the_manifest_stale(project: Path) -> None:
    manifest = ensure_manifest(project)
    moved_in = project / "models" / "moved_in.sql"
    moved_in.write_text("select 3 as id\n")
    long_ago = manifest.stat().st_mtime - 3600
    os.utime(moved_in, (long_ago, long_ago))

    assert manifest_is_stale(manifest, project)
    assert "moved_in" in _model_names(ensure_manifest(project))
