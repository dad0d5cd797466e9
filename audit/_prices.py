"""Expected unit prices of opportunity lines, vectorised: AUDIT_SPEC steps 2-5 in integers.

Money is in minor units of the opportunity's currency; rates are integers in units of
`10**-r`, where r is the most decimal places any rate of the rules has, so all is exact.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from audit._parse import EPOCH
from audit._validate import first_rows
from audit._vector import Array, add_months, div_half_up, product, scale_rate
from schemas.money import decimal_places, round_half_up
from schemas.rules import PricingRules


class LinePrices(NamedTuple):
    """Per opportunity line: its price book entry (-1: none), whether that is active, the
    expected unit price, the lowest unit price max_discount allows, the contracted price
    that sets it (-1: none), the price method (index into `METHODS`), and its period."""

    entry: Array
    active: Array
    unit_price: Array
    floor: Array
    hold: Array
    method: Array
    line_start: Array
    term_end: Array


METHODS = ("uplift", "same", "list")
EPOCH_DAYS = 1 << 21  # added to day numbers so that dates before 1970 sort too


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


def _methods(rules: PricingRules, opps: pd.DataFrame) -> Array:
    """Each line's price method, as an index into `METHODS`."""
    default = METHODS.index(rules.renewal_price_method)
    if not rules.accounts:
        return np.full(len(opps), default, dtype=np.int64)
    accounts = opps["account_id"].cat
    per_account = np.array(
        [
            METHODS.index(rules.price_method(str(a))) if a in rules.accounts else default
            for a in accounts.categories
        ]
        or [default],
        dtype=np.int64,
    )
    return per_account[accounts.codes.astype(np.int64)]


def _holds(rules: PricingRules, opps: pd.DataFrame, line_start: Array) -> Array:
    """Index of the contracted price covering each line's start (-1: none).

    Holds of one (account, sku, currency) never overlap (the rules refuse it), so the
    latest hold starting on or before the line's start is the only candidate."""
    holds = rules.contracted_prices
    if not holds:
        return np.full(len(opps), -1, dtype=np.int64)
    columns = [opps[name].cat for name in ("account_id", "sku", "currency")]
    sizes = [len(c.categories) + 1 for c in columns]
    row_key = np.zeros(len(opps), dtype=np.int64)
    hold_key = np.zeros(len(holds), dtype=np.int64)
    for column, size, attr in zip(columns, sizes, ("account_id", "sku", "currency"), strict=True):
        at = pd.Index(column.categories).get_indexer([getattr(h, attr) for h in holds])
        hold_key = hold_key * size + np.where(at >= 0, at, size - 1)
        row_key = row_key * size + column.codes.astype(np.int64)
    day0 = EPOCH_DAYS
    start = np.array([(h.from_ - EPOCH).days for h in holds], dtype=np.int64)
    until = np.array([(h.until - EPOCH).days for h in holds], dtype=np.int64)
    span = 1 << 22  # days: every date from 1970 minus 2**21 days
    order = np.argsort(hold_key * span + start + day0, kind="stable")
    sorted_at = (hold_key * span + start + day0)[order]
    at = np.searchsorted(sorted_at, row_key * span + line_start + day0, side="right") - 1
    cand = order[np.maximum(at, 0)]
    hit = (at >= 0) & (hold_key[cand] == row_key) & (line_start <= until[cand])
    return np.where(hit, cand, -1)


def line_prices(rules: PricingRules, opps: pd.DataFrame) -> LinePrices:
    """Expected prices of every row of the opportunities frame (see `readers`)."""
    r = _rate_places(rules)
    one = 10**r
    book = rules.price_book
    entry = _entries(rules, opps)
    found = entry >= 0
    safe = np.where(found, entry, 0)
    active = np.array([e.active for e in book] or [False], dtype=bool)[safe] & found
    # Prior prices may have more decimals than the currency: `fine` more, exactly.
    fine = 10 ** opps.attrs.get("extra_places", {}).get("prior", 0)
    list_units = np.array(
        [int(e.list_price.scaleb(rules.places(e.currency))) for e in book] or [0], dtype=np.int64
    )[safe]
    uplift = np.array(
        [scale_rate(rules.uplift_for(e.family), r) for e in book] or [0], dtype=np.int64
    )[safe]
    list_scaled = product(list_units, one, fine)
    method = _methods(rules, opps)
    prior = opps["prior"].to_numpy()
    priced = np.where(method == 0, product(prior, one + uplift), product(prior, one))
    base = np.where(opps["has_prior"].to_numpy() & (method != 2), priced, list_scaled)
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
    line_start = opps["line_end"].to_numpy() + 1
    contract_start = opps["contract_end"].to_numpy() + 1
    term_end = add_months(contract_start, opps["months"].to_numpy()) - 1
    hold = _holds(rules, opps, line_start)
    unit_price = div_half_up(product(base, one - rate), one * one * fine)
    if (hold >= 0).any():
        held = np.array(
            [
                int(
                    round_half_up(h.unit_price, rules.places(h.currency)).scaleb(
                        rules.places(h.currency)
                    )
                )
                for h in rules.contracted_prices
            ],
            dtype=np.int64,
        )
        unit_price = np.where(hold >= 0, held[np.maximum(hold, 0)], unit_price)
    return LinePrices(
        entry=entry,
        active=active,
        unit_price=unit_price,
        floor=div_half_up(product(base, one - cap), one * one * fine),
        hold=hold,
        method=method,
        line_start=line_start,
        term_end=term_end,
    )
