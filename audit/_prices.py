"""Expected unit prices of opportunity lines, vectorised: AUDIT_SPEC steps 2-5 in integers.

Money is in minor units of the opportunity's currency; rates are integers in units of
`10**-r`, where r is the most decimal places any rate of the rules has, so all is exact.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from audit._validate import first_rows
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


def _entries(rules: PricingRules, opps: pd.DataFrame) -> Array:
    """Index into the price book of each line's `(sku, currency)` entry, -1 where none.

    Looked up through the readers' `sku_code` and `currency_code` (numbered in order of
    first appearance), so each distinct sku and currency is matched once, not each line.
    """
    sku_code, cur_code = opps["sku_code"].to_numpy(), opps["currency_code"].to_numpy()
    skus = pd.Index(opps["sku"].to_numpy()[first_rows(sku_code)])
    currencies = pd.Index(opps["currency"].to_numpy()[first_rows(cur_code)])
    table = np.full((len(skus) + 1, len(currencies) + 1), -1, dtype=np.int64)
    book = rules.price_book
    rows = skus.get_indexer([e.sku for e in book])  # -1: the last row, never looked up
    cols = currencies.get_indexer([e.currency for e in book])
    table[rows, cols] = np.arange(len(book))
    table[-1, :] = table[:, -1] = -1
    return table[sku_code, cur_code]


def line_prices(rules: PricingRules, opps: pd.DataFrame) -> LinePrices:
    """Expected prices of every row of the opportunities frame (see `readers`)."""
    r = _rate_places(rules)
    one = 10**r
    book = rules.price_book
    entry = _entries(rules, opps)
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
