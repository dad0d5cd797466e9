"""Quotes: the one the rules expect, and the one a bot read back from a portal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from schemas._base import Record

Money = Annotated[Decimal, Field(allow_inf_nan=False)]


class ExpectedLine(Record):
    """How one opportunity line must be priced, with the steps that led to the price."""

    line_no: int
    sku: str
    family: str
    quantity: int
    list_price: Money
    base_price: Money
    """Before discounts: list, or prior price with uplift, capped at list when the rules say."""
    discount: Decimal
    unit_price: Money
    line_amount: Money


class ExpectedQuote(Record):
    """The quote AUDIT_SPEC says an opportunity must get on `quote_date`."""

    opportunity_id: str
    currency: str
    quote_date: date
    valid_until: date
    term_start: date
    term_end: date
    lines: tuple[ExpectedLine, ...]
    quote_total: Money


class QuoteLineSnapshot(Record):
    """One quote line as the portal shows it."""

    line_no: int
    sku: Annotated[str, Field(min_length=1)]
    quantity: int
    unit_price: Money
    line_amount: Money


class QuoteSnapshot(Record):
    """A quote as read back from a portal (or a row group of quotes.csv)."""

    quote_id: Annotated[str, Field(min_length=1)]
    opportunity_id: str
    quote_date: date
    valid_until: date
    currency: str
    term_start: date
    term_end: date
    lines: tuple[QuoteLineSnapshot, ...]
    quote_total: Money
