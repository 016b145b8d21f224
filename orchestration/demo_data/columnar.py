"""A base for the simulation's records: a dataclass of equally long numpy arrays."""

from __future__ import annotations

from dataclasses import fields
from typing import Self

import numpy as np


class Columnar:
    """Rows held column by column; every dataclass field is an array of the same length."""

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))  # type: ignore[arg-type]

    def take(self, rows: np.ndarray) -> Self:
        """The rows selected by a mask or an index array."""
        return type(self)(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})  # type: ignore[arg-type]

    @classmethod
    def concat(cls, *parts: Self) -> Self:
        return cls(**{
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(cls)  # type: ignore[arg-type]
        })
