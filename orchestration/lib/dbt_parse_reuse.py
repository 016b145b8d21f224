"""The project's dbt parse, made once per version of the project and handed to every dbt
build of a DuckDB warehouse instead of parsed again (issue 18).

dbt parses the whole project (about 3 s here) whenever its target folder holds no parse of
the same project under the same profile: the first refresh of every warehouse, every
end-to-end test. Its own partial parsing cannot share a parse between warehouses, because
the profile it compares holds the warehouse's path. What a parse yields depends on the
project's files and on the names the profile gives relations (database and schema), not on
where the database file is: `ensure_manifest` already keeps a parse of the current project
in dbt_project/target (`partial_parse.msgpack`, dbt's own record of a finished parse), and
`parsed_manifest` gives it to dbt (`dbtRunner(manifest=...)`, dbt's documented way to reuse a
parse) when it fits the run:

- the project's files are the ones it was parsed from (`manifest_is_stale`);
- it was parsed by this dbt version, for DuckDB;
- its models live in the database the run's DuckDB file gives (the file's name without
  extension, dbt-duckdb's rule), so every relation resolves to the run's own database.

Otherwise dbt parses as usual. It is parsed with the project's default vars: every `var()`
of the project is read while a model is compiled (macros/settings.sql), which the build does
with its own `--vars` (tests/test_dbt_parse_reuse.py checks that no var changes the parse).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

from orchestration.lib.dbt_manifest import PARSE_LOCK_NAME, manifest_is_stale
from orchestration.settings import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

PARSE_RECORD_NAME = "partial_parse.msgpack"  # dbt's name, in the project's target folder


def parsed_manifest(work_db_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> Manifest | None:
    """The project's parse for a dbt run on the DuckDB file `work_db_path`, or None when
    dbt must parse (no parse of the current project, another dbt version or database)."""
    target = project_dir / "target"
    record = target / PARSE_RECORD_NAME
    if not target.is_dir():
        return None
    with FileLock(target / PARSE_LOCK_NAME):  # `ensure_manifest` writes it under this lock
        if manifest_is_stale(target / "manifest.json", project_dir) or not record.exists():
            return None
        data = record.read_bytes()
    manifest = _from_record(data)
    if manifest is None or not _fits(manifest, database=work_db_path.stem):
        return None
    # What dbt does to a parse it reuses before running (ManifestLoader.get_full_manifest)
    manifest.build_parent_and_child_maps()
    manifest.build_flat_graph()
    return manifest


def _from_record(data: bytes) -> Manifest | None:
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    try:
        return Manifest.from_msgpack(data, decoder=extended_mashumuro_decoder)
    except Exception:  # a record of another dbt version: dbt parses instead
        return None


def _fits(manifest: Manifest, database: str) -> bool:
    from dbt.version import __version__ as dbt_version

    metadata = manifest.metadata
    if metadata.dbt_version != dbt_version or metadata.adapter_type != "duckdb":
        return False
    models = [node for node in manifest.nodes.values() if node.resource_type == "model"]
    return bool(models) and all(node.database == database for node in models)
