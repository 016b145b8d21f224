"""Any SQLAlchemy-reachable database -> contract entities, by a mapping file (GTM_SQL_SOURCE).

    [[entity]]
    name = "billing/subscriptions"      # the contract folder
    table = "subscriptions"             # or: query = "select ... from ..."
    schema = "billing"                  # optional, with table
    cursor = "updated_at"               # optional: pull only rows whose cursor moved on
    [entity.columns]                    # contract column = source column; same names need no entry
    subscription_id = "id"

The database URL, password included, is the secret GTM_SQL_URL. With a `cursor`, each pull
reads the rows whose cursor is at or after the last one seen (dlt's incremental state, which
drops the rows already delivered at that boundary); the contract's last-extract-wins applies
the changes. Rows deleted in the database are not noticed (the contract never infers deletes).

dlt's `sql_table` is not used: it reflects the table and declares the source's column names to
dlt, which then clash with the renamed contract columns; a query over SQLAlchemy with dlt's
`incremental` does the same job in a few lines and serves tables and queries alike.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.lib.connectors.base import Connector, Extraction, PullError
from orchestration.lib.contract import SOURCE_ENTITIES, Entity
from orchestration.settings import Settings

SOURCE = "sql_database"
ENTITIES_BY_FOLDER = {e.folder: e for e in SOURCE_ENTITIES}
BATCH_ROWS = 10_000


@dataclass(frozen=True)
class EntityQuery:
    entity: Entity
    table: str | None = None
    query: str | None = None
    schema: str | None = None
    cursor: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # contract column -> source column

    @property
    def where(self) -> str:
        return f"table {self.schema + '.' if self.schema else ''}{self.table}" if self.table else "query"

    def source_column(self, contract_column: str) -> str:
        return self.columns.get(contract_column, contract_column)


def read_mapping(path: Path) -> list[EntityQuery]:
    def fail(reason: str) -> PullError:
        return PullError(SOURCE, f"{path} (GTM_SQL_SOURCE)", reason)

    try:
        config = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise fail(f"not valid TOML: {error}") from None
    mapped = []
    for number, item in enumerate(config.get("entity", []), start=1):
        name = str(item.get("name", "")).strip("/")
        entity = ENTITIES_BY_FOLDER.get(name)
        if entity is None:
            raise fail(f"entity {number}: name {name!r} is not a contract folder ({', '.join(ENTITIES_BY_FOLDER)})")
        if bool(item.get("table")) == bool(item.get("query")):
            raise fail(f"{name}: give either table or query")
        columns = {str(k): str(v) for k, v in item.get("columns", {}).items()}
        unknown = sorted(set(columns) - set(entity.column_names))
        if unknown:
            raise fail(f"{name}: {', '.join(unknown)} not columns of the contract ({', '.join(entity.column_names)})")
        mapped.append(
            EntityQuery(entity, item.get("table"), item.get("query"), item.get("schema"), item.get("cursor"), columns)
        )
    if not mapped:
        raise fail("maps no entity: add [[entity]] sections")
    return mapped


def select_sql(mapping: EntityQuery, engine, since: bool) -> str:
    quote = engine.dialect.identifier_preparer.quote
    if mapping.table:
        source = ".".join(quote(part) for part in (mapping.schema, mapping.table) if part)
    else:
        source = f"({mapping.query.strip().rstrip(';')})"
    sql = f"select * from {source} as source_rows"
    if mapping.cursor:
        if since:
            sql += f" where {quote(mapping.cursor)} >= :since"
        sql += f" order by {quote(mapping.cursor)}"
    return sql


def rename(mapping: EntityQuery, row: dict) -> dict:
    missing = [c for c in mapping.entity.required_columns if mapping.source_column(c) not in row]
    if missing:
        raise PullError(
            SOURCE,
            f"{mapping.entity.folder} from {mapping.where}",
            f'no column for {", ".join(missing)} (add it to [entity.columns] as contract_column = "source_column")',
        )
    renamed = {c: row.get(mapping.source_column(c)) for c in mapping.entity.column_names}
    if mapping.cursor:  # dlt's incremental reads it from the row; the extract leaves it out
        renamed[mapping.cursor] = row[mapping.cursor]
    return renamed


def _resource(mapping: EntityQuery, engine):
    import dlt
    import sqlalchemy as sa

    def read(since):
        sql = sa.text(select_sql(mapping, engine, since is not None))
        try:
            with engine.connect() as con:
                result = con.execution_options(stream_results=True).execute(
                    sql, {"since": since} if since is not None else {}
                )
                keys = list(result.keys())
                while batch := result.fetchmany(BATCH_ROWS):
                    yield [rename(mapping, dict(zip(keys, row, strict=True))) for row in batch]
        except sa.exc.SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise PullError(
                SOURCE, f"{mapping.entity.folder} from {mapping.where}", f"{type(error).__name__}: {reason}"
            ) from None

    name = mapping.entity.qualified_name
    if mapping.cursor:

        @dlt.resource(name=name, max_table_nesting=0)
        def rows(cursor=dlt.sources.incremental(mapping.cursor)):  # noqa: B008 (dlt reads it from the default)
            yield from read(cursor.last_value)

    else:

        @dlt.resource(name=name, max_table_nesting=0)
        def rows():
            yield from read(None)

    return rows()


def _extraction(settings: Settings) -> Extraction:
    import sqlalchemy as sa

    mappings = read_mapping(settings.sql_source)
    try:
        engine = sa.create_engine(settings.sql_url)
        with engine.connect():
            pass
    except (sa.exc.SQLAlchemyError, ValueError, ImportError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise PullError(SOURCE, "the database (GTM_SQL_URL)", f"{type(error).__name__}: {reason}") from None
    return Extraction(resources=[_resource(m, engine) for m in mappings])


SQL_DATABASE = Connector(
    name=SOURCE,
    description="contract entities from tables or queries of a SQL database (GTM_SQL_SOURCE)",
    entities=SOURCE_ENTITIES,
    required_settings=("sql_source", "sql_url"),
    extraction=_extraction,
    secrets=lambda settings: (settings.sql_url or "",),
)
