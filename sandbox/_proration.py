"""How the client's system charges a line that runs part of a year: its own arithmetic.

The portal is the client's software, not ours: it prorates by the method it was
configured with (`month_day`, `month` or `day`, the names AUDIT_SPEC gives them), which
may not be the method the client's rules file says.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from dateutil.relativedelta import relativedelta

METHODS = ("month_day", "month", "day")


def months_and_days(first: date, last: date) -> tuple[int, int]:
    """Whole calendar months counted from `first`, and the days left up to `last`."""
    stop = last + timedelta(days=1)
    months = (stop.year - first.year) * 12 + stop.month - first.month
    while months > 0 and first + relativedelta(months=months) > stop:
        months -= 1
    months = max(months, 0)
    return months, (stop - (first + relativedelta(months=months))).days


def year_share(first: date, last: date, method: str) -> Fraction:
    """The share of a year in `[first, last]` that the portal charges."""
    months, days = months_and_days(first, last)
    if method == "day":
        return Fraction((last - first).days + 1, 365)
    if method == "month":
        return Fraction(months + (days > 0), 12)
    return Fraction(months, 12) + Fraction(days, 365)


def charge(unit_price: Decimal, quantity: int, share: Fraction, places: int) -> Decimal:
    """`unit_price × quantity × share`, rounded half-up to `places` once."""
    exact = Fraction(unit_price) * quantity * share * 10**places
    units = int(exact + Fraction(1, 2))  # prices and quantities are never negative here
    return Decimal(units).scaleb(-places)
