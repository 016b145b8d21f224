"""What every connector is: a name, the entities it writes, its settings and its dlt resources."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestration.lib.contract import Entity
from orchestration.settings import Settings


class PullError(RuntimeError):
    """A pull failed: names the source, where (endpoint, table or file) and why. Never holds a secret."""

    def __init__(self, source: str, where: str, reason: str):
        self.source, self.where, self.reason = source, where, reason
        super().__init__(f"pull of {source} failed at {where}: {reason}")


@dataclass
class Extraction:
    """The dlt resources of one pull, each named by the entity it yields (`billing__subscriptions`)
    and yielding rows in the contract's column names; `notes` fill up while they run."""

    resources: Sequence[Any]
    notes: list[str] = field(default_factory=list)
    # notes computed once the run is over: one line, or several
    summaries: list[Callable[[], str | list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Connector:
    name: str
    description: str
    entities: tuple[Entity, ...]
    required_settings: tuple[str, ...]  # Settings fields that must be set for the source to be pulled
    extraction: Callable[[Settings], Extraction]
    secrets: Callable[[Settings], tuple[str, ...]] = lambda settings: ()

    def missing_settings(self, settings: Settings) -> list[str]:
        return ["GTM_" + name.upper() for name in self.required_settings if not getattr(settings, name)]


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """`text` with every secret, and any password inside a URL, replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)
