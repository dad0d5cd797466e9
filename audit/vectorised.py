"""The batch audit's exact integer arithmetic, for tools that build or check books at scale
(the benchmarks, `rules diff`): expected prices of a whole opportunities frame, half-up
division, calendar months on day numbers, period factors, and the text of amounts and dates.

Imports numpy and pandas, so it is not re-exported from `audit`.
"""

from audit._batch_checks import factors, months_and_days
from audit._parse import parse_decimal, parse_exact
from audit._prices import METHODS, LinePrices, line_prices
from audit._vector import add_months, date_text, div_half_up, money_text, product

__all__ = [
    "METHODS",
    "LinePrices",
    "add_months",
    "date_text",
    "div_half_up",
    "factors",
    "line_prices",
    "money_text",
    "months_and_days",
    "parse_decimal",
    "parse_exact",
    "product",
]
