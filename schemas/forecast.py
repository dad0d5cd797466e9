"""The renewal calendar and what the forecast and the sampling are told by the engagement.

A renewal's **line** is the last day a clean quote still counts as in time: `LEAD_DAYS`
(120) before its contract ends (`schemas.figures`, the same rule the managers' figures use).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from schemas._base import Record
from schemas.figures import LEAD_DAYS


def line_of(contract_end: date) -> date:
    """The 120-day line of a renewal ending on `contract_end`: quoted on or before it is in time."""
    return contract_end - timedelta(days=LEAD_DAYS)


def is_late(contract_end: date | None, quoted: bool, today: date) -> bool:
    """A renewal is late once its 120-day line has passed (contract end less than 120 days
    away) and it is still not quoted: marked on every page, never hidden."""
    return not quoted and contract_end is not None and line_of(contract_end) < today


class Renewal(Record):
    """One upcoming renewal of the calendar: read ahead from the portal, quoted or not yet."""

    engagement: str
    opportunity_id: str
    account_name: str = ""
    contract_end: date
    annual_value: Decimal | None = None
    """Last term's annual value (the install base's prior prices); None until read."""
    currency: str | None = None
    quoted_on: date | None = None
    """The day its quote was first entered; None while it waits."""
    needs_person: bool = False
    """Its work item failed on bad data: no run quotes it until the audit team fixes it."""

    @property
    def line(self) -> date:
        return line_of(self.contract_end)


class ForecastPlan(Record):
    """How far discovery reads ahead, and how long a quoting run may last (engagements file,
    `forecast:`): the forecast's capacity is the runs' hours times the browsers."""

    read_ahead_days: int = Field(default=365, ge=0, le=730)
    """Renewals ending up to this many days ahead are kept in the calendar (not quoted
    before their window opens)."""
    run_hours: float = Field(default=2.0, gt=0, le=24)
    """The longest a scheduled quoting run may last."""


class Sampling(Record):
    """Quality control (engagements file, `sampling:`): a share of verified quotes, and every
    one above a value, goes to the audit team's queue as a sample."""

    share: Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)] = Decimal(5)
    """Per cent of verified quotes sampled at random (0-100)."""
    above: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] | None = None
    """Every verified quote whose total is above this (in its own currency) is sampled."""


class RunThroughput(Record):
    """What one finished quoting run did, for the measured throughput."""

    run_id: int
    started_at: datetime
    busy_until: datetime
    """Its last item's move (the run's end when none moved)."""
    entered: int
    """Quotes it entered."""


class SampleCounts(Record):
    """An engagement's quality-control samples: how many verified quotes, how many sampled
    (at random, or for their value), decided by a person, and disagreed with."""

    engagement: str
    verified: int
    sampled: int
    by_value: int
    decided: int
    disagreed: int
