"""Quotes: the one the rules expect, and the one a bot read back from a portal."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from schemas._base import Record

Money = Annotated[Decimal, Field(allow_inf_nan=False)]


class PriceStep(Record):
    """One step of how an expected price was reached, with the rule that gave it."""

    step: str
    """`base`, `method`, `contracted`, `uplift`, `cap_at_list`, `volume_tier`,
    `term_discount`, `segment_cap`, `rounding`, `period` or `line_amount`."""
    rule: str
    """Where the step comes from: a rules key, or the opportunity's field."""
    value: str
    detail: str = ""


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
    line_start: date | None = None
    """The line's renewal period: from the day after its own end (co-termed) ..."""
    line_end: date | None = None
    """... to the quote's term_end."""
    contracted: bool = False
    """Priced by a contracted price (a price hold): no uplift, cap or discount applies."""
    steps: tuple[PriceStep, ...] = ()


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
    line_start: date | None = None
    """The line's own renewal period as the portal shows it; None where the portal (or
    quotes.csv) has no line dates: then the line runs the whole term."""
    line_end: date | None = None


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
