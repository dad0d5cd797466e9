"""A booking: the customer's purchase order entered against a quote."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from schemas._base import Record


class Booking(Record):
    """One row of bookings.csv, or a booking as read back from a portal."""

    quote_id: Annotated[str, Field(min_length=1)]
    po_number: str
    po_date: date
    po_amount: Annotated[Decimal, Field(allow_inf_nan=False)]
    po_currency: str
