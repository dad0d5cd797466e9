"""Expected unit prices of opportunity lines, vectorised: AUDIT_SPEC steps 2-5 in integers.

Money is in minor units of the opportunity's currency; rates are integers in units of
`10**-r`, where r is the most decimal places any rate of the rules has, so all is exact.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from audit._vector import Array, div_half_up, product, scale_rate
from schemas.money import decimal_places
from schemas.rules import PricingRules


class LinePrices(NamedTuple):
    """Per opportunity line: its price book entry (-1: none), whether that is active, the
    expected unit price and the lowest unit price max_discount allows."""

    entry: Array
    active: Array
    unit_price: Array
    floor: Array


def _rate_places(rules: PricingRules) -> int:
    rates = [
        *rules.uplift.values(),
        *rules.max_discount.values(),
        *(t.discount for t in rules.volume_tiers),
        *(t.discount for t in rules.term_discounts),
    ]
    return max((decimal_places(rate) for rate in rates), default=0)


def _tiered(minima: list[int], discounts: list[int], values: Array) -> Array:
    """The discount of the highest tier reached (0 below the first)."""
    table = np.array([0, *discounts], dtype=np.int64)
    return table[np.searchsorted(np.array(minima, dtype=np.int64), values, side="right")]


def line_prices(rules: PricingRules, opps: pd.DataFrame) -> LinePrices:
    """Expected prices of every row of the opportunities frame (see `readers`)."""
    r = _rate_places(rules)
    one = 10**r
    book = rules.price_book
    keys = pd.MultiIndex.from_arrays([[e.sku for e in book], [e.currency for e in book]])
    lookup = pd.DataFrame({"sku": opps["sku"], "currency": opps["currency"]})
    entry = (
        keys.get_indexer(pd.MultiIndex.from_frame(lookup)) if len(book) else np.full(len(opps), -1)
    )
    found = entry >= 0
    safe = np.where(found, entry, 0)
    active = np.array([e.active for e in book] or [False], dtype=bool)[safe] & found
    list_units = np.array(
        [int(e.list_price.scaleb(rules.places(e.currency))) for e in book] or [0], dtype=np.int64
    )[safe]
    uplift = np.array(
        [scale_rate(rules.uplift_for(e.family), r) for e in book] or [0], dtype=np.int64
    )[safe]
    list_scaled = product(list_units, one)
    base = np.where(
        opps["has_prior"].to_numpy(), product(opps["prior"].to_numpy(), one + uplift), list_scaled
    )
    if rules.cap_at_list:
        base = np.minimum(base, list_scaled)
    volume = _tiered(
        [t.min_qty for t in rules.volume_tiers],
        [scale_rate(t.discount, r) for t in rules.volume_tiers],
        opps["quantity"].to_numpy(),
    )
    term = _tiered(
        [t.min_months for t in rules.term_discounts],
        [scale_rate(t.discount, r) for t in rules.term_discounts],
        opps["months"].to_numpy(),
    )
    segments = list(rules.max_discount)
    cap = np.array([scale_rate(rules.max_discount[s], r) for s in segments], dtype=np.int64)[
        pd.Index(segments).get_indexer(opps["segment"])
    ]
    rate = np.minimum(volume + term, cap)
    return LinePrices(
        entry=entry,
        active=active,
        unit_price=div_half_up(product(base, one - rate), one * one),
        floor=div_half_up(product(base, one - cap), one * one),
    )
