"""Integer arithmetic for the batch audit: half-up division, overflow-safe products, calendar
months on day numbers, and the text of amounts and dates exactly as the per-quote checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
_SAFE = 2**62  # headroom below int64's 2**63 for the sums that follow a product
POW10 = np.array([10**k for k in range(19)], dtype=np.int64)


def product(*factors: Array | int) -> Array:
    """The exact product; in int64 when it surely fits, else in Python integers (object)."""
    bound = 1
    for factor in factors:
        bound *= int(np.max(np.abs(factor), initial=0))
    exact = bound < _SAFE
    result: Array = np.ones(1, dtype=np.int64 if exact else object)
    for factor in factors:
        result = result * (np.asarray(factor) if exact else np.asarray(factor).astype(object))
    return result


def div_half_up(numerator: Array, denominator: Array | int) -> Array:
    """`round(numerator / denominator)` half away from zero, as AUDIT_SPEC's `round`."""
    magnitude = np.abs(numerator)
    quotient, remainder = magnitude // denominator, magnitude % denominator
    rounded = quotient + (2 * remainder >= denominator)
    signed = np.where(numerator < 0, -rounded, rounded)
    return signed.astype(np.int64) if signed.dtype == object else signed


def tolerance_units(tolerance: Decimal) -> Array:
    """For each number of places p, the largest difference in 10**-p units still accepted."""
    return np.array([int(tolerance.scaleb(p)) for p in range(19)], dtype=np.int64)


def scale_rate(rate: Decimal, places: int) -> int:
    """A rate as an integer in units of 10**-places (exact: places covers every rate)."""
    scaled = rate.scaleb(places)
    assert scaled == scaled.to_integral_value(), rate
    return int(scaled)


def add_months(days: Array, months: Array) -> Array:
    """Day numbers plus calendar months, a day past the month's end clamped to it.

    The calendar is worked out once per distinct day of the span the days cover (a book's
    dates span a few years), then looked up: numpy's month arithmetic per cell is slow."""
    days = np.asarray(days, dtype=np.int64)
    months = np.broadcast_to(np.asarray(months, dtype=np.int64), days.shape)
    if not days.size:
        return days.copy()
    low, high = int(days.min()), int(days.max())
    if high - low > 4 * days.size + 4000:  # scattered far apart: per cell is cheaper
        return _add_months_per_cell(days, months)
    span = np.arange(low, high + 1).astype("datetime64[D]")
    month_of_span = span.astype("datetime64[M]")
    month = month_of_span.astype(np.int64)[days - low]  # months since 1970-01
    day_of_month = (span - month_of_span.astype("datetime64[D]")).astype(np.int64)[days - low]
    target = month + months
    first = int(target.min())
    starts = np.arange(first, int(target.max()) + 2).astype("datetime64[M]")
    start_day = starts.astype("datetime64[D]").astype(np.int64)
    begins, ends = start_day[target - first], start_day[target - first + 1]
    return begins + np.minimum(day_of_month, ends - begins - 1)


def _add_months_per_cell(days: Array, months: Array) -> Array:
    day = days.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    day_of_month = (day - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    month_days = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    clamped = target.astype("datetime64[D]") + np.minimum(day_of_month, month_days - 1)
    return clamped.astype(np.int64)


def date_text(days: Array) -> Array:
    """`YYYY-MM-DD` of day numbers."""
    return np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))


def money_text(units: Array, places: Array) -> Array:
    """Minor units as text with exactly `places` decimals, like `schemas.money.format_money`."""
    units = np.asarray(units, dtype=np.int64)
    if not units.size:
        return np.zeros(0, dtype=object)
    places = np.broadcast_to(np.asarray(places, dtype=np.int64), units.shape)
    whole, fraction = np.divmod(np.abs(units), POW10[places])
    sign = np.where(units < 0, "-", "")
    text = np.strings.add(sign, whole.astype(str))
    digits = np.strings.zfill(fraction.astype(str), places)
    return np.where(places > 0, np.strings.add(np.strings.add(text, "."), digits), text)
