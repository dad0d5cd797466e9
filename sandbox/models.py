"""What the portal shows its users: opportunities, quotes, customer POs (plain records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")


class PortalValidationError(Exception):
    """Raised by `Portal` when input is refused; flavours show `message` next to `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class OpportunitySummary:
    opportunity_id: str
    account_name: str
    segment: str
    currency: str
    contract_end: date | None
    renewal_term_months: int
    line_count: int
    quote_number: str | None
    """The latest quote entered for this opportunity, if any."""


@dataclass(frozen=True)
class OpportunityLine:
    line_no: int
    sku: str
    description: str
    quantity: int
    prior_unit_price: Decimal | None
    line_end: date | None = None
    """The line's own end when it was added mid-term and ends after the contract."""
    renew: bool = True
    """False: the customer gave notice on this line (do not renew)."""


@dataclass(frozen=True)
class Opportunity:
    opportunity_id: str
    account_id: str
    account_name: str
    segment: str
    currency: str
    contract_end: date | None
    renewal_term_months: int
    lines: list[OpportunityLine]


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    line_amount: Decimal
    line_start: date
    line_end: date
    """The line's own renewal period; the whole term unless the editor says otherwise."""


@dataclass(frozen=True)
class CustomerPO:
    po_number: str
    po_date: date
    amount: Decimal
    currency: str
    pdf_name: str


@dataclass(frozen=True)
class Booking:
    """What was entered when the quote was booked."""

    order_number: str
    po_number: str
    po_date: date
    po_amount: Decimal
    pdf_name: str
    booked_on: date


@dataclass(frozen=True)
class Quote:
    quote_number: str
    opportunity_id: str
    external_ref: str
    status: str
    """draft | submitted | booked"""
    quote_date: date
    valid_until: date
    currency: str
    term_start: date
    term_end: date
    lines: list[QuoteLine]
    total: Decimal
    customer_po: CustomerPO | None
    order_number: str | None
    booking: Booking | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int
    """How many items match, over all pages."""

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Credentials:
    """The portal user the generator creates (read from the data dir's credentials.json)."""

    username: str
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)
