"""A line's share of a year: AUDIT_SPEC step 6, as an exact rational number."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import NamedTuple

from dateutil.relativedelta import relativedelta


class Period(NamedTuple):
    """`m` whole calendar months and `r` days left in `[start, end]`, and the factor."""

    start: date
    end: date
    months: int
    days: int
    proration: str
    factor: Fraction

    def describe(self) -> str:
        """How an auditor reads the factor, e.g. `2026-09-01 to 2027-06-30: 10 months ...`."""
        span = f"{self.start} to {self.end}"
        if self.proration == "day":
            total = (self.end - self.start).days + 1
            return f"{span}: {total} days / 365 (proration day)"
        if self.proration == "month":
            return (
                f"{span}: {self.months} months + {self.days} days, a started month counted "
                f"whole (proration month) = {self.factor}"
            )
        return f"{span}: {self.months}/12 + {self.days}/365 (proration month_day)"


def whole_months(start: date, end: date) -> int:
    """The largest m with `start + m months <= end + 1 day` (relativedelta from start)."""
    after = end + timedelta(days=1)
    m = (after.year - start.year) * 12 + after.month - start.month
    return m - 1 if start + relativedelta(months=m) > after else m


def period(start: date, end: date, proration: str) -> Period:
    """The period `[start, end]` under the rules' `proration` (`month_day`, `month`, `day`)."""
    m = max(whole_months(start, end), 0)
    r = (end + timedelta(days=1) - (start + relativedelta(months=m))).days
    if proration == "day":
        factor = Fraction((end - start).days + 1, 365)
    elif proration == "month":
        factor = Fraction(m + (1 if r > 0 else 0), 12)
    else:
        factor = Fraction(m, 12) + Fraction(r, 365)
    return Period(start, end, m, r, proration, factor)
