"""The expected quote beside the one read back, field by field, differences marked."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.money import show_money
from schemas.words import STEP_MONEY, STEP_RATES, field_words
from schemas.work import StoredFinding

MONEY_FIELDS = frozenset({"quote_total", "unit_price", "line_amount", "po_amount"})
"""Fields holding an amount of money: shown with the quote's currency."""
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


def same(a: object, b: object) -> bool:
    """Equal as text, or as numbers: what the explanation compares the portal with."""
    return _same(_text(a), _text(b))


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


def step_value(step: Mapping[str, Any], currency: str | None) -> str:
    """A price step's value as people read it: money with its currency, a rate as a
    percentage, anything else (a method, a factor) as it is."""
    code, value = str(step.get("step")), str(step.get("value"))
    if code in STEP_MONEY:
        return show_money(value, currency)
    if code in STEP_RATES:
        return _percent(value)
    return value


_NUMBER = re.compile(r"-?[0-9]+\.[0-9]+")


def _percent(text: str) -> str:
    try:
        return f"{Decimal(text) * 100:f}".rstrip("0").rstrip(".") + " %"
    except (InvalidOperation, ValueError):
        return text


def step_detail(step: Mapping[str, Any], currency: str | None) -> str:
    """How a step was reached, its amounts with the currency and its rates as percentages
    ("prior USD 1,725.00", "at most 20 %")."""
    code, detail = str(step.get("step")), str(step.get("detail") or "")
    if code in {"method", "line_amount"}:
        return _NUMBER.sub(lambda m: show_money(m.group(0), currency), detail).replace(" x ", " × ")
    if code in {"uplift", "segment_cap"}:
        return _NUMBER.sub(lambda m: _percent(m.group(0)), detail)
    return detail


@dataclass(frozen=True)
class FindingRow:
    """A finding as the "why it is here" table shows it: where, and money with currency."""

    rule: str
    severity: str
    message: str
    where: str
    expected: str
    actual: str
    difference: str
    money: bool
    """An amount: expected, actual and difference say it all, with the currency (the
    audit's message repeats them without it)."""


def finding_rows(findings: Sequence[StoredFinding], currency: str | None) -> list[FindingRow]:
    """The item's findings with expected, actual and (for amounts and quantities) the
    difference actual - expected."""
    rows = []
    for f in findings:
        money = f.field in MONEY_FIELDS
        where = " · ".join(x for x in (f.sku, field_words(f.field)) if x)
        difference = ""
        try:
            if f.expected and f.actual and (money or f.field == "quantity"):
                delta = Decimal(f.actual) - Decimal(f.expected)
                difference = show_money(delta, currency, signed=True) if money else f"{delta:+f}"
        except (InvalidOperation, ValueError):
            difference = ""
        shown = [show_money(v, currency) if money and v else v for v in (f.expected, f.actual)]
        rows.append(
            FindingRow(f.rule, f.severity, f.message, where, shown[0], shown[1], difference, money)
        )
    return rows
