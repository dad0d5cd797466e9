"""Cell and row checks for the CSV readers; the earliest bad line is the one reported."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from audit._parse import BoolArray, IntArray, parse_dates, parse_decimal, parse_exact
from audit._text import Column, Text, cell, differs, factorize
from audit._vector import Array
from schemas.errors import InputError

CURRENCY = re.compile(r"[A-Z]{3}")
FIRST_DATA_LINE = 2  # line 1 is the header


class Problems:
    """The first problem found in a file: checks register bad rows, `raise_first` reports."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._first: tuple[int, str, str] | None = None
        self._rows: IntArray | None = None  # a subset's rows in the file, ascending
        self._parent: Problems | None = None

    def subset(self, rows: IntArray) -> Problems:
        """Problems of the rows `rows` (ascending), reported as rows of the whole file."""
        sub = Problems(self.path)
        sub._rows, sub._parent = rows, self._parent or self
        return sub

    def flag(self, column: str, bad: BoolArray, describe: Callable[[int], str]) -> None:
        """Note the rows where `bad` is true; `describe(row)` says what is wrong there."""
        if not bad.any():
            return
        at = int(np.argmax(bad))
        row = at if self._rows is None else int(self._rows[at])
        owner = self._parent or self
        if owner._first is None or row < owner._first[0]:
            owner._first = (row, column, describe(at))

    def raise_first(self) -> None:
        if self._first is not None:
            row, column, message = self._first
            raise InputError(self.path, row + FIRST_DATA_LINE, column, message)


class Grouped:
    """Columns that hold one value per quote (or opportunity), repeated on each of its rows.

    Each row must repeat its group's first row; only first rows (and rows that differ, to
    say precisely what is wrong with them) are parsed, then spread over the group's rows.
    """

    def __init__(
        self,
        problems: Problems,
        group: IntArray,
        describe: Callable[[str, int, int], str],
    ) -> None:
        self.problems, self.group, self.first = problems, group, first_rows(group)
        self.head = self.first[group] if len(group) else group
        self._describe = describe

    def column(
        self, name: str, values: Column, parse: Callable[[Problems, IntArray], Array]
    ) -> Array:
        """Per row, `parse(problems, rows)` of its group's first row (`rows` ascending)."""
        changed = differs(values, self.head)
        odd = np.flatnonzero(changed)  # never a first row: those equal themselves
        rows = np.sort(np.concatenate([self.first, odd])) if len(odd) else self.first
        parsed = parse(self.problems.subset(rows), rows)
        head = self.head
        self.problems.flag(name, changed, lambda row: self._describe(name, row, int(head[row])))
        per_group = parsed[np.searchsorted(rows, self.first)] if len(odd) else parsed
        return per_group[self.group] if len(self.group) else parsed[:0]


def text(
    problems: Problems,
    column: str,
    values: Text,
    *,
    pattern: re.Pattern[str] | None = None,
    allowed: set[str] | None = None,
    what: str = "a value",
) -> tuple[IntArray, Text]:
    """Codes and distinct values of a text column that must not be empty (nor break rules)."""
    codes, uniques = factorize(values)
    ok = np.array(
        [
            bool(u)
            and (pattern is None or pattern.fullmatch(u) is not None)
            and (allowed is None or u in allowed)
            for u in uniques
        ],
        dtype=bool,
    )
    problems.flag(column, ~ok[codes], lambda row: f"{cell(values, row)!r} is not {what}")
    return codes, uniques


def whole(problems: Problems, column: str, values: Column, low: int, high: int) -> IntArray:
    """A column of whole numbers from `low` to `high` (text, or int64 already parsed)."""
    if isinstance(values, pa.Array) or values.dtype == object:
        numbers, bad, empty = parse_decimal(values, 0, signed=False)
        bad |= empty
    else:
        numbers, bad = values.astype(np.int64), np.zeros(len(values), dtype=bool)
    bad |= (numbers < low) | (numbers > high)
    span = f"from {low}" + (f" to {high}" if high < 10**15 else "")
    problems.flag(column, bad, lambda row: f"'{cell(values, row)}' is not a whole number {span}")
    return numbers


def money(
    problems: Problems,
    column: str,
    values: Text,
    currencies: Text,
    places: IntArray,
    *,
    optional: bool = False,
    repeated: bool = True,
) -> tuple[IntArray, BoolArray, int]:
    """Amounts exactly as written, and which cells were empty.

    Units are of `10**-(places + extra)` of each row's currency: more decimals than the
    currency has are not bad input but a value the checks will find wrong (AUDIT_SPEC)."""
    units, bad, empty, extra = parse_exact(values, places, repeated=repeated)
    if not optional:
        bad |= empty
    problems.flag(
        column,
        bad,
        lambda row: (
            f"{cell(values, row)!r} is not an amount in {cell(currencies, row)} "
            "(digits, optional '-')"
        ),
    )
    return units, empty, extra


def dates(problems: Problems, column: str, values: Text) -> IntArray:
    days, bad = parse_dates(values)
    problems.flag(column, bad, lambda row: f"{cell(values, row)!r} is not a date (YYYY-MM-DD)")
    return days


def unique(
    problems: Problems,
    column: str,
    group: IntArray,
    key: IntArray,
    describe: Callable[[int, int], str],
) -> None:
    """`key` appears at most once per `group`; `describe(row, first_row)` names a repeat."""
    combined = group * (int(key.max(initial=0)) + 1) + key
    repeated = pd.Series(combined).duplicated().to_numpy()
    problems.flag(
        column,
        repeated,
        lambda row: describe(row, int(np.argmax(combined == combined[row]))),
    )


def first_rows(codes: IntArray) -> IntArray:
    """The first row of each code, for codes numbered in order of first appearance."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    seen = np.maximum.accumulate(codes)
    return np.flatnonzero(np.concatenate([[True], seen[1:] > seen[:-1]]))


def same_within(
    problems: Problems,
    column: str,
    group: IntArray,
    first: IntArray,
    values: IntArray,
    describe: Callable[[int, int], str],
) -> None:
    """Rows of one group agree on `values` (`first`: each group's first row)."""
    head = first[group] if len(group) else group
    problems.flag(column, values != values[head], lambda row: describe(row, int(head[row])))


def line_of(row: int) -> int:
    return row + FIRST_DATA_LINE
