"""Findings of the batch audit as columns: one block per rule, rendered like `Finding.of`."""

from __future__ import annotations

from string import Formatter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from audit._vector import POW10, Array, date_text, money_text
from schemas.findings import FINDINGS_COLUMNS, RULES


class Money(NamedTuple):
    """Amounts to show as text, formatted only for the rows that become findings.

    `extra`: the units are of `10**-(places + extra)`, for amounts read with more decimals
    than their currency has; they are shown with as many as they need, like `format_amount`.
    """

    units: Array
    places: Array
    extra: int = 0

    def text(self, rows: Array) -> Array:
        units = np.asarray(self.units)[rows]
        places = np.broadcast_to(self.places, np.shape(self.units))[rows]
        if not self.extra:
            return money_text(units, places)
        zeros = np.zeros(len(units), dtype=np.int64)
        for k in range(1, self.extra + 1):
            zeros = np.where(units % POW10[k] == 0, k, zeros)
        return money_text(units // POW10[zeros], places + self.extra - zeros)


class Day(NamedTuple):
    """Dates (day numbers) to show as `YYYY-MM-DD`."""

    days: Array

    def text(self, rows: Array) -> Array:
        return date_text(self.days[rows])


Column = Array | str | Money | Day


class Findings:
    """Collects blocks of findings, then renders and sorts them into findings.csv's rows."""

    def __init__(self) -> None:
        self._blocks: list[pd.DataFrame] = []

    def add(
        self,
        rule: str,
        mask: Array,
        quote_id: Array,
        opportunity_id: Column,
        *,
        sku: Column = "",
        line_no: Array | None = None,
        expected: Column = "",
        actual: Column = "",
        extra: Column = "",
        field: str = "",
    ) -> None:
        """Findings of `rule` where `mask` holds; array arguments align with `mask`."""
        rows = np.flatnonzero(mask)
        if not len(rows):
            return

        def pick(column: Column | None, default: Any = "") -> Array:
            if column is None:
                return np.full(len(rows), default, dtype=object)
            if isinstance(column, Money | Day):
                return column.text(rows).astype(object)
            if isinstance(column, str):
                return np.full(len(rows), column, dtype=object)
            picked = np.asarray(column)[rows]
            # Numbers (quantities) become their text; text stays as it is.
            return picked if picked.dtype == object else picked.astype(str).astype(object)

        values = {
            "quote_id": pick(quote_id),
            "opportunity_id": pick(opportunity_id),
            "sku": pick(sku),
            "line_no": np.asarray(line_no)[rows] if line_no is not None else np.full(len(rows), -1),
            "expected": pick(expected),
            "actual": pick(actual),
            "extra": pick(extra),
        }
        spec = RULES[rule]
        values["message"] = _render(spec.message, values)
        self._blocks.append(
            pd.DataFrame(
                {**values, "rule": rule, "severity": spec.severity, "field": field or spec.field}
            )
        )

    def frame(self) -> pd.DataFrame:
        """All findings in findings.csv's columns and order; `line_no` is NA where empty."""
        if not self._blocks:
            empty = {c: pd.Series(dtype=object) for c in FINDINGS_COLUMNS}
            empty["line_no"] = pd.Series(dtype="Int64")
            return pd.DataFrame(empty)
        found = pd.concat(self._blocks, ignore_index=True)
        # -1 (no line) sorts quote-level findings and missing lines before the lines.
        found = found.sort_values(["quote_id", "line_no", "sku", "rule"], kind="stable")
        found["line_no"] = found["line_no"].astype("Int64").mask(found["line_no"] < 0)
        return found.loc[:, list(FINDINGS_COLUMNS)].reset_index(drop=True)


def _render(template: str, values: dict[str, Array]) -> Array:
    """`template.format(**row)` for every row at once (literal text and fields only)."""
    n = len(values["quote_id"])
    text = np.full(n, "", dtype=object)
    for literal, field, _, _ in Formatter().parse(template):
        if literal:
            text = text + literal
        if field is not None:
            text = text + values[field]
    return text
