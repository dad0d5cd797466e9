"""A renewal opportunity as read from a client's CRM: what the customer has and when it ends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from schemas._base import Record

NonEmpty = Annotated[str, Field(min_length=1)]


class OpportunityLine(Record):
    """One install-base line: a sku, how many, and last term's annual net price per unit."""

    line_no: Annotated[int, Field(ge=1)]
    sku: NonEmpty
    quantity: Annotated[int, Field(ge=1)]
    prior_unit_price: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None


class Opportunity(Record):
    """A renewal to quote: the account, its segment and currency, and the lines to renew."""

    opportunity_id: NonEmpty
    account_id: str = ""
    account_name: str = ""
    segment: NonEmpty
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    contract_end: date | None
    renewal_term_months: Annotated[int, Field(ge=1, le=60)]
    lines: tuple[OpportunityLine, ...]

    @model_validator(mode="after")
    def _unique_lines(self) -> Self:
        for attr in ("sku", "line_no"):
            values = [getattr(line, attr) for line in self.lines]
            repeated = sorted({str(v) for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(
                    f"{attr} repeated in opportunity {self.opportunity_id}: {repeated}"
                )
        return self

    def line(self, sku: str) -> OpportunityLine | None:
        return next((line for line in self.lines if line.sku == sku), None)
