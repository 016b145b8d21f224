"""A source entity's suite: the landing contract of contract.py plus SOURCE_RULES.

Columns and types, required columns, the key, allowed values, foreign keys, time
order, signs, rows dated after as_of_date, freshness, volume, quarantined rows and
key conflicts. Source suites may read other raw tables (foreign keys) and the
ingest's quarantine and key-conflict tables; nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestration.lib.contract import DUCKDB_TYPES, ENTITIES_BY_NAME, Entity
from orchestration.lib.quality.suites import SuiteTarget
from orchestration.lib.quality.suites_gen.expectation_builders import (
    ERROR,
    WARN,
    columns_and_types,
    expectation,
    sql_expectation,
    unique,
)
from orchestration.lib.quality.suites_gen.source_rules import SOURCE_RULES, TimeOrder


def _key(entity: Entity) -> dict[str, Any]:
    kind = "primary key" if entity.has_primary_key else "stated key"
    shown = entity.key[0] if len(entity.key) == 1 else f"({', '.join(entity.key)})"
    return unique(entity.key, ERROR, f"{shown} ({kind}) is unique.")


def _foreign_keys(entity: Entity) -> Iterable[dict[str, Any]]:
    shown_key = ", ".join(f"b.{k}" for k in entity.key)
    for fk in entity.foreign_keys:
        referenced = ENTITIES_BY_NAME[fk.entity]
        ref_key = referenced.key[0]
        severity = ERROR if fk.blocking else WARN
        effect = "blocks publishing" if fk.blocking else "treated as absent"
        yield sql_expectation(
            f"""select {shown_key}, b.{fk.column}
                from {{batch}} as b
                where b.{fk.column} is not null
                  and not exists (select 1 from raw.{fk.entity} as r where r.{ref_key} = b.{fk.column})""",
            severity,
            f"{fk.column} resolves to a row of {fk.entity} (one row per {entity.name} row "
            f"whose {fk.column} does not; {effect}).",
        )


def _time_order(rule: TimeOrder) -> dict[str, Any]:
    relation = "after" if rule.strictly else "on or after"
    return expectation(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {
            "column_A": rule.later,
            "column_B": rule.earlier,
            "or_equal": not rule.strictly,
            "ignore_row_if": "either_value_is_missing",
        },
        rule.severity,
        f"{rule.later} is {relation} {rule.earlier} where both are set.",
    )


def _dated_after(entity: Entity, column: str) -> dict[str, Any]:
    shown_key = ", ".join(f"b.{k}" for k in entity.key)
    return sql_expectation(
        f"""select {shown_key}, b.{column}
            from {{batch}} as b
            where cast(b.{column} as date) > {{as_of_date}}""",
        WARN,
        f"No row is dated ({column}) after as_of_date (such rows do not count yet).",
    )


def _fresh(entity: Entity, column: str) -> dict[str, Any]:
    newest = f"cast(max(b.{column}) as date)"
    stale = f"{newest} < {{as_of_date}} - {{freshness_days}}"
    # An optional entity may be empty; an empty required one is stale.
    condition = f"count(*) > 0 and {stale}" if entity.optional else f"{newest} is null or {stale}"
    return sql_expectation(
        f"""select {newest} as newest, {{as_of_date}} - {{freshness_days}} as expected_on_or_after
            from {{batch}} as b
            having {condition}""",
        WARN,
        f"The newest {entity.name} row ({column}) is within freshness_days of as_of_date.",
    )


def _volume(entity: Entity) -> dict[str, Any]:
    return sql_expectation(
        """select count(*) as rows_loaded, {last_published_rows} as rows_last_published
           from {batch} as b
           having count(*) < (1 - {volume_drop_share}) * {last_published_rows}""",
        WARN,
        f"{entity.name} has not shrunk by more than volume_drop_share since the last publication (marts.publication).",
    )


def _quarantine(entity: Entity) -> dict[str, Any]:
    return sql_expectation(
        f"""select q.quarantined_rows, l.loaded_rows,
                   round(q.quarantined_rows / (q.quarantined_rows + l.loaded_rows), 4) as quarantined_share,
                   q.example_reason, q.example_file, q.example_row
            from (
                select count(*) as quarantined_rows,
                       first(_source_file order by _source_file, _source_row) as example_file,
                       first(_source_row order by _source_file, _source_row) as example_row,
                       first(_reason order by _source_file, _source_row) as example_reason
                from quarantine.{entity.qualified_name}) as q
            cross join (select count(*) as loaded_rows from {{batch}} as b) as l
            where q.quarantined_rows > {{quarantine_share}} * (q.quarantined_rows + l.loaded_rows)""",
        ERROR,
        f"At most quarantine_share of the {entity.name} rows read were quarantined (untypeable values).",
    )


def _key_conflicts(entity: Entity) -> dict[str, Any]:
    return sql_expectation(
        f"""select c.key_value, c.source_file, c.rows as rows_in_file,
                   (select count(*) from {{batch}} as b) as entity_rows_loaded
            from raw._key_conflicts as c
            where c.entity = '{entity.qualified_name}'""",
        ERROR,
        f"No extract file holds a {entity.name} key ({', '.join(entity.key)}) twice with "
        "different values (raw._key_conflicts; no later extract says which is right).",
    )


def source_expectations(target: SuiteTarget) -> list[dict[str, Any]]:
    entity = ENTITIES_BY_NAME[target.table]
    rules = SOURCE_RULES[entity.qualified_name]
    out: list[dict[str, Any]] = [
        columns_and_types(
            [(c.name, DUCKDB_TYPES[c.type]) for c in entity.columns],
            f"Every contract column of {entity.name} exists with its type (one row per missing "
            "or mistyped column; extra columns are kept).",
        )
    ]
    for column in dict.fromkeys([*entity.required_columns, *entity.key]):  # keys are never null
        out.append(
            expectation(
                "expect_column_values_to_not_be_null",
                {"column": column},
                ERROR,
                f"{column} is present (required).",
            )
        )
    out.append(_key(entity))
    for column, values in entity.allowed_values.items():
        out.append(
            expectation(
                "expect_column_values_to_be_in_set",
                {"column": column, "value_set": list(values)},
                ERROR,
                f"{column} is one of {', '.join(values)}.",
            )
        )
    out.extend(_foreign_keys(entity))
    out.extend(_time_order(rule) for rule in rules.time_order)
    for column in rules.non_negative:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": 0},
                ERROR,
                f"{column} is not negative.",
            )
        )
    for column in rules.positive:
        out.append(
            expectation(
                "expect_column_values_to_be_between",
                {"column": column, "min_value": 0, "strict_min": True},
                ERROR,
                f"{column} is greater than 0.",
            )
        )
    if rules.dated_by:
        out.append(_dated_after(entity, rules.dated_by))
    if rules.freshness:
        out.append(_fresh(entity, rules.dated_by or ""))
    if not entity.optional and entity.source != "config":
        out.append(
            expectation(
                "expect_table_row_count_to_be_between",
                {"min_value": 1},
                WARN,
                f"{entity.name} has at least one row.",
            )
        )
    if entity.source != "config":
        out.append(_volume(entity))
    out.append(_quarantine(entity))
    out.append(_key_conflicts(entity))
    return out
