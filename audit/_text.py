"""Columns of CSV text cells, as Arrow arrays (the fast reader) or `str` object arrays.

The validators go through these helpers so that they never turn a million Arrow cells into
Python strings: codes and the few distinct values are what they need, and the text of one
cell only when an error message quotes it. Object arrays come from the pandas reader, which
reads the files Arrow refuses, so that their errors are said exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

Objects: TypeAlias = npt.NDArray[np.object_]
Text: TypeAlias = pa.Array | Objects
"""A column of text cells (parsed whole numbers are int64 arrays and pass through too)."""
Column: TypeAlias = Text | npt.NDArray[Any]


def take(values: Column, rows: npt.NDArray[np.int64]) -> Column:
    return values.take(pa.array(rows)) if isinstance(values, pa.Array) else values[rows]


def cell(values: Column, row: int) -> Any:
    """One cell as Python text (or number), for an error message."""
    return values[row].as_py() if isinstance(values, pa.Array) else values[row]


def objects(values: Text) -> Objects:
    """The cells as an object array of `str`."""
    if isinstance(values, pa.Array):
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    return values


def factorize(values: Text) -> tuple[npt.NDArray[np.int64], Objects]:
    """Codes in order of first appearance, and the distinct values as `str`."""
    if isinstance(values, pa.Array):
        encoded = values.dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, objects(encoded.dictionary)
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def differs(values: Column, head: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Rows whose cell is not the cell of row `head[row]`."""
    if isinstance(values, pa.Array):
        return _bools(pc.not_equal(values, values.take(pa.array(head))))
    return np.asarray(values != values[head], dtype=bool)


def equals(values: Text, text: str) -> npt.NDArray[np.bool_]:
    if isinstance(values, pa.Array):
        return _bools(pc.equal(values, text))
    return np.asarray(values == text, dtype=bool)


def one_of(values: Text, allowed: Sequence[str]) -> npt.NDArray[np.bool_]:
    if isinstance(values, pa.Array):
        return _bools(pc.is_in(values, value_set=pa.array(list(allowed), values.type)))
    return np.isin(values, list(allowed))


def _bools(result: pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(result.to_numpy(zero_copy_only=False), dtype=bool)
