"""Readable keys (`OPP-0001234`), numbered in the order rows were created."""

from __future__ import annotations

import numpy as np

ID_DIGITS = 7


def make_ids(prefix: str, *sort_keys: np.ndarray) -> np.ndarray:
    """One id per row, numbered from 1 in the order of `sort_keys` (last key first, as lexsort).

    Returns an object array indexed like the rows.
    """
    order = np.lexsort(sort_keys) if len(sort_keys[0]) else np.array([], dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return format_ids(prefix, rank)


def format_ids(prefix: str, numbers: np.ndarray) -> np.ndarray:
    if not len(numbers):
        return np.array([], dtype=object)
    digits = np.strings.zfill(np.asarray(numbers, dtype=np.int64).astype(np.str_), ID_DIGITS)
    return np.strings.add(prefix, digits).astype(object)


def refer(ids: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The ids of rows `index` (an object array), None where index < 0."""
    found = ids[np.clip(index, 0, max(len(ids) - 1, 0))] if len(ids) else np.full(len(index), None)
    return np.where(index >= 0, found, None)
