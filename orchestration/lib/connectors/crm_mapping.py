"""What the CRM connectors share: field mappings with overrides, value maps, unknown stages, deletions.

A connector declares a default `FieldMapping` for the standard objects; the user's overrides come
from one setting per connector (GTM_HUBSPOT_MAPPING, GTM_SALESFORCE_MAPPING), a comma-separated
list of entries:

    leads.mql_at=MQL_Date__c                  a contract column read from another field
    leads.created_at=lead_date|createdate     the first of these fields that has a value
    opportunities.currency='EUR'              a constant
    leads.disqualified_at=                    not mapped (always empty)
    channel.Trade Show=events                 a CRM value mapped onto a channel
    type.Existing Customer=expansion          a CRM value mapped onto an opportunity type

Value maps match case-insensitively; a CRM value that neither map knows is landed as it is
(a channel in lower case, an opportunity type then blocked by the quality gate) and the pull
lists it as an entry ready to add to the setting.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from orchestration.lib.connectors.base import PullError
from orchestration.lib.contract import ENTITIES_BY_NAME

CRM_ENTITIES = ("accounts", "campaigns", "leads", "opportunities", "opportunity_stage_history")
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")
UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class Source:
    """Where a contract column comes from: the first of `fields` with a value, or `constant`."""

    fields: tuple[str, ...] = ()
    constant: str | None = None

    def read(self, record: Mapping[str, object]) -> object:
        if self.constant is not None:
            return self.constant
        for name in self.fields:
            value = record.get(name)
            if value not in (None, ""):
                return value
        return None


def first_of(*fields: str) -> Source:
    """The first of these record fields that has a value."""
    return Source(fields=fields)


UNMAPPED = Source()


@dataclass(frozen=True)
class FieldMapping:
    columns: dict[str, dict[str, Source]]  # entity -> contract column -> source
    channels: dict[str, str] = field(default_factory=dict)  # CRM value (lower case) -> channel
    types: dict[str, str] = field(default_factory=dict)  # CRM value (lower case) -> opportunity type

    def source(self, entity: str, column: str) -> Source:
        return self.columns.get(entity, {}).get(column, UNMAPPED)

    def fields_of(self, entity: str) -> list[str]:
        """Every CRM field the entity's mapping reads, in order, each once."""
        names = [f for s in self.columns.get(entity, {}).values() for f in s.fields]
        return list(dict.fromkeys(names))

    def read(self, entity: str, column: str, record: Mapping[str, object]) -> object:
        return self.source(entity, column).read(record)


def parse_source(text: str) -> Source:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return Source(constant=text[1:-1])
    return Source(fields=tuple(part.strip() for part in text.split("|") if part.strip()))


def with_overrides(default: FieldMapping, text: str, source: str, setting: str) -> FieldMapping:
    """`default` with the entries of the setting's value applied; a bad entry fails naming it."""

    def fail(entry: str, reason: str) -> PullError:
        return PullError(source, setting, f"entry {entry.strip()!r}: {reason}")

    columns = {entity: dict(sources) for entity, sources in default.columns.items()}
    channels, types = dict(default.channels), dict(default.types)
    for entry in (e for e in text.split(",") if e.strip()):
        key, equals, value = entry.partition("=")
        kind, dot, name = key.strip().partition(".")
        if not equals or not dot or not name.strip():
            raise fail(entry, "is not key.name=value")
        if kind == "channel":
            channels[name.strip().lower()] = value.strip()
        elif kind == "type":
            if value.strip() not in OPPORTUNITY_TYPES:
                raise fail(entry, f"the type must be one of {', '.join(OPPORTUNITY_TYPES)}")
            types[name.strip().lower()] = value.strip()
        elif kind in CRM_ENTITIES:
            entity = ENTITIES_BY_NAME[f"crm__{kind}"]
            if name.strip() not in entity.column_names:
                raise fail(entry, f"{kind} has no column {name.strip()!r} ({', '.join(entity.column_names)})")
            columns.setdefault(kind, {})[name.strip()] = parse_source(value)
        else:
            raise fail(entry, f"{kind!r} is none of {', '.join((*CRM_ENTITIES, 'channel', 'type'))}")
    return replace(default, columns=columns, channels=channels, types=types)


class ValueMaps:
    """Maps CRM values onto channels and opportunity types, remembering the values it did not know."""

    def __init__(self, mapping: FieldMapping, default_type: str = "new_business"):
        self.mapping = mapping
        self.default_type = default_type
        self.unknown_channels: Counter[str] = Counter()
        self.unknown_types: Counter[str] = Counter()

    def channel(self, value: object) -> str:
        if value in (None, ""):
            return UNKNOWN_CHANNEL
        text = str(value).strip()
        known = self.mapping.channels.get(text.lower())
        if known is not None:
            return known
        self.unknown_channels[text] += 1
        return text.lower().replace(" ", "_")

    def opportunity_type(self, value: object) -> str:
        if value in (None, ""):
            return self.default_type
        text = str(value).strip()
        known = self.mapping.types.get(text.lower())
        if known is not None:
            return known
        if text.lower() in OPPORTUNITY_TYPES:
            return text.lower()
        self.unknown_types[text] += 1
        return text

    def notes(self, setting: str) -> list[str]:
        notes = []
        if self.unknown_channels:
            notes.append(
                f"{len(self.unknown_channels)} channel value(s) not in the channel map, landed in lower case; "
                f"to map them add to {setting}:"
            )
            notes.extend(
                f"  channel.{value}=<channel>   ({n} record(s))" for value, n in sorted(self.unknown_channels.items())
            )
        if self.unknown_types:
            notes.append(
                f"{len(self.unknown_types)} opportunity type value(s) not mapped (the quality gate blocks them); "
                f"add to {setting}:"
            )
            notes.extend(
                f"  type.{value}=new_business|expansion|renewal   ({n} record(s))"
                for value, n in sorted(self.unknown_types.items())
            )
        return notes


def mapped_stages(stage_mapping: Path) -> set[str]:
    with stage_mapping.open(newline="", encoding="utf-8-sig") as handle:
        return {row["crm_stage"] for row in csv.DictReader(handle) if row.get("crm_stage")}


def unknown_stage_notes(seen: Mapping[str, str], stage_mapping: Path) -> list[str]:
    """`seen`: stage name -> its outcome as the CRM says (open, won, lost). The stages the mapping
    lacks, as CSV lines to paste into it (funnel_stage to fill in for open stages)."""
    missing = sorted(set(seen) - mapped_stages(stage_mapping))
    if not missing:
        return []
    lines = [
        f"{len(missing)} stage(s) missing from the stage mapping {stage_mapping} (publishing stays blocked "
        "until they are added); paste and complete these lines (crm_stage,funnel_stage,stage_order,outcome):"
    ]
    for stage in missing:
        outcome = seen[stage]
        funnel = {"won": "Won", "lost": "Lost"}.get(outcome, "<funnel stage>")
        order = "" if outcome in ("won", "lost") else "<order>"
        lines.append("  " + _csv_line([stage, funnel, order, outcome]))
    return lines


def _csv_line(values: list[str]) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


def deletion_notes(deleted: Mapping[str, list[str]], shown: int = 20) -> list[str]:
    """Records the CRM reports deleted since the last pull, per object: counted and listed."""
    notes = []
    for kind, ids in deleted.items():
        if ids:
            listed = ", ".join(ids[:shown]) + (f", ... ({len(ids) - shown} more)" if len(ids) > shown else "")
            notes.append(
                f"{len(ids)} {kind} deleted in the CRM (kept in the warehouse; docs/landing-contract.md, "
                f"'Deleted CRM records'): {listed}"
            )
    return notes
