"""A renewal opportunity as read from a client's CRM: what the customer has and when it ends."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Self

from dateutil.relativedelta import relativedelta
from pydantic import Field, model_validator

from schemas._base import Record

NonEmpty = Annotated[str, Field(min_length=1)]


class OpportunityLine(Record):
    """One install-base line: a sku, how many, and last term's annual net price per unit."""

    line_no: Annotated[int, Field(ge=1)]
    sku: NonEmpty
    quantity: Annotated[int, Field(ge=1)]
    prior_unit_price: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    line_end: date | None = None
    """The last day of this line's current term when it ends after the contract (a line
    added mid-term); None: it ends with the contract."""
    renew: bool = True
    """False for a do-not-renew line: the customer gave notice on it."""


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
        ends = [line for line in self.lines if line.line_end is not None]
        if ends and self.contract_end is not None:
            start = self.contract_end + timedelta(days=1)
            term_end = start + relativedelta(months=self.renewal_term_months) - timedelta(days=1)
            for line in ends:
                assert line.line_end is not None
                if not self.contract_end <= line.line_end < term_end:
                    raise ValueError(
                        f"line_end of {line.sku} in opportunity {self.opportunity_id}: "
                        f"{line.line_end} is not from the contract end {self.contract_end} "
                        f"to before the renewal's term end {term_end}"
                    )
        return self

    def line_ends(self, line: OpportunityLine) -> date | None:
        """The last day of the line's current term: its own end, else the contract's."""
        return line.line_end or self.contract_end

    @property
    def annual_value(self) -> Decimal:
        """Last term's annual value of what renews: prior unit price times quantity of each
        line the customer keeps (a line without a prior price counts nothing)."""
        return sum(
            (
                (line.prior_unit_price or Decimal(0)) * line.quantity
                for line in self.lines
                if line.renew
            ),
            Decimal(0),
        )

    def line(self, sku: str) -> OpportunityLine | None:
        return next((line for line in self.lines if line.sku == sku), None)
