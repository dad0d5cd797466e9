"""The expected quote beside the one read back, field by field, differences marked."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

HEADER_FIELDS = ("currency", "quote_date", "valid_until", "term_start", "term_end", "quote_total")
LINE_FIELDS = ("quantity", "unit_price", "line_amount")


@dataclass(frozen=True)
class Cell:
    field: str
    expected: str
    actual: str

    @property
    def differs(self) -> bool:
        return not _same(self.expected, self.actual)


@dataclass(frozen=True)
class LineRow:
    sku: str
    cells: tuple[Cell, ...]

    @property
    def differs(self) -> bool:
        return any(cell.differs for cell in self.cells)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _same(a: str, b: str) -> bool:
    """Equal as text, or as numbers (1200 and 1200.00 are the same money)."""
    if a == b:
        return True
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, ValueError):
        return False


def header(expected: dict[str, Any] | None, actual: dict[str, Any] | None) -> list[Cell]:
    exp, act = expected or {}, actual or {}
    return [Cell(f, _text(exp.get(f)), _text(act.get(f))) for f in HEADER_FIELDS]


def lines(expected: dict[str, Any] | None, actual: dict[str, Any] | None) -> list[LineRow]:
    """One row per sku on either side; a line missing on one side shows empty there."""
    exp = {line["sku"]: line for line in (expected or {}).get("lines", [])}
    act = {line["sku"]: line for line in (actual or {}).get("lines", [])}
    skus = list(exp) + [sku for sku in act if sku not in exp]
    return [
        LineRow(
            sku,
            tuple(
                Cell(f, _text(exp.get(sku, {}).get(f)), _text(act.get(sku, {}).get(f)))
                for f in LINE_FIELDS
            ),
        )
        for sku in skus
    ]
