"""The step a batch finding's message names, with the same words as the per-quote checks.

Only the rows that become findings are explained, one at a time: they are few."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit._parse import to_date
from audit._period import period
from audit._prices import METHODS, LinePrices
from audit._vector import Array
from schemas.rules import PricingRules


def price_notes(
    rules: PricingRules, opps: pd.DataFrame, prices: LinePrices, m: Array, rows: Array
) -> Array:
    """Per quote line, where its expected unit price is a price hold or another method."""
    notes = np.full(len(m), "", dtype=object)
    accounts = opps["account_id"].to_numpy()
    for row in np.flatnonzero(rows):
        line = m[row]
        hold = prices.hold[line]
        if hold >= 0:
            held = rules.contracted_prices[hold]
            notes[row] = f" (contracted price {held.unit_price:f}, {held.from_} to {held.until})"
        elif prices.method[line] != 0:
            where = "accounts" if accounts[line] in rules.accounts else "renewal_price_method"
            notes[row] = f" (price method {METHODS[prices.method[line]]}, from {where})"
    return notes


def period_notes(
    rules: PricingRules,
    start: Array,
    end: Array,
    months: Array,
    num: Array,
    den: Array,
    rows: Array,
) -> Array:
    """Per quote line, its period's factor where it is not simply the whole term."""
    notes = np.full(len(start), "", dtype=object)
    for row in np.flatnonzero(rows & (num * 12 != months * den)):
        own = period(to_date(start[row]), to_date(end[row]), rules.proration)
        notes[row] = f" ({own.describe()})"
    return notes
