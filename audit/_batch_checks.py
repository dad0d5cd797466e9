"""The checks of the batch audit, one function per level: quotes, lines, bookings.

Each takes the readers' frames (money in integer minor units, dates as day numbers) and
adds findings for every row where a rule of AUDIT_SPEC fails, exactly as `audit.checks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit._emit import Column, Day, Findings, Money
from audit._prices import line_prices
from audit._validate import first_rows
from audit._vector import Array, add_months, div_half_up, product
from schemas.rules import PricingRules


def quote_level(
    rules: PricingRules,
    out: Findings,
    head: pd.DataFrame,
    opp_head: pd.DataFrame,
    qopp: Array,
    quotes: pd.DataFrame,
    qcode: Array,
    tol: Array,
) -> None:
    ids, opp_of = head["quote_id"].to_numpy(), head["opportunity_id"].to_numpy()
    known = qopp >= 0
    out.add("unknown_opportunity", ~known, ids, opp_of, actual=opp_of)
    if not known.any():
        return
    o = opp_head.iloc[np.where(known, qopp, 0)]
    currency = o["currency"].to_numpy()
    out.add(
        "currency_mismatch",
        known & (head["currency"].to_numpy() != currency),
        ids,
        opp_of,
        expected=currency,
        actual=head["currency"].to_numpy(),
    )
    end = o["contract_end"].to_numpy()
    start = end + 1
    for rule, column, expected in (
        ("term_start_mismatch", "term_start", start),
        ("term_end_mismatch", "term_end", add_months(start, o["months"].to_numpy()) - 1),
    ):
        actual = head[column].to_numpy()
        out.add(
            rule,
            known & (actual != expected),
            ids,
            opp_of,
            expected=Day(expected),
            actual=Day(actual),
        )
    quoted = head["quote_date"].to_numpy()
    deadline = end - rules.lead_days
    out.add(
        "late_quote",
        known & (quoted > deadline),
        ids,
        opp_of,
        expected=Day(deadline),
        actual=Day(quoted),
        extra=Day(end),
    )
    valid = quoted + rules.validity_days
    until = head["valid_until"].to_numpy()
    out.add(
        "short_validity",
        known & (until < valid),
        ids,
        opp_of,
        expected=Day(valid),
        actual=Day(until),
    )
    shown = np.zeros(len(head), dtype=np.int64)
    np.add.at(shown, qcode, quotes["line_amount"].to_numpy())  # exact: integers, no float
    total, places = head["quote_total"].to_numpy(), head["places"].to_numpy()
    out.add(
        "total_mismatch",
        known & (np.abs(total - shown) > tol[places]),
        ids,
        opp_of,
        expected=Money(shown, places),
        actual=Money(total, places),
    )
    # The first quote of each opportunity in quote_id order, where it has more than one.
    shared = known & (np.bincount(np.where(known, qopp, 0), minlength=len(opp_head))[qopp] > 1)
    rows = np.flatnonzero(shared)
    first = ids.copy()
    if len(rows):
        rank, ranked = pd.factorize(ids[rows], sort=True)  # rank follows quote_id order
        lowest = np.full(len(opp_head), len(ranked), dtype=np.int64)
        np.minimum.at(lowest, qopp[rows], rank)
        first[rows] = np.asarray(ranked, dtype=object)[lowest[qopp[rows]]]
    out.add("duplicate_quote", shared & (ids != first), ids, opp_of, expected=first, extra=opp_of)


def lines(
    rules: PricingRules,
    out: Findings,
    quotes: pd.DataFrame,
    qcode: Array,
    qopp: Array,
    opps: pd.DataFrame,
    ocode: Array,
    tol: Array,
) -> None:
    line_opp = qopp[qcode]
    known = line_opp >= 0
    if not known.any():
        return
    ids, opp_of = quotes["quote_id"].to_numpy(), quotes["opportunity_id"].to_numpy()
    sku, line_no = quotes["sku"].to_numpy(), quotes["line_no"].to_numpy()
    unit, qty = quotes["unit_price"].to_numpy(), quotes["quantity"].to_numpy()
    places = quotes["places"].to_numpy()

    def flag(rule: str, mask: Array, **values: Column) -> None:
        out.add(rule, mask, ids, opp_of, sku=sku, line_no=line_no, **values)

    months = opps["months"].to_numpy()[first_rows(ocode)][line_opp]
    shown, amount = div_half_up(product(unit, qty, months), 12), quotes["line_amount"].to_numpy()
    flag(
        "line_amount_mismatch",
        known & (np.abs(amount - shown) > tol[places]),
        expected=Money(shown, places),
        actual=Money(amount, places),
    )
    # Quote skus numbered as the opportunities' skus (-1: no opportunity has it).
    opp_sku = opps["sku_code"].to_numpy()
    quote_sku = quotes["sku_code"].to_numpy()
    opp_skus = pd.Index(opps["sku"].to_numpy()[first_rows(opp_sku)])
    quote_sku = opp_skus.get_indexer(sku[first_rows(quote_sku)])[quote_sku]
    n_sku = len(opp_skus) + 1
    wanted_key = np.where(known & (quote_sku >= 0), line_opp * n_sku + quote_sku, -1)
    match = pd.Index(ocode * n_sku + opp_sku).get_indexer(wanted_key)
    matched = known & (match >= 0)
    flag("extra_line", known & ~matched, actual=sku)
    prices = line_prices(rules, opps)
    m = np.where(matched, match, 0)
    entry, active = prices.entry[m], prices.active[m]
    currency = opps["currency"].to_numpy()[m]
    flag("unknown_sku", matched & (entry < 0), actual=sku, extra=currency)
    flag("inactive_sku", matched & (entry >= 0) & ~active, actual=sku, extra=currency)
    priceable = matched & active
    wanted = opps["quantity"].to_numpy()[m]
    flag(
        "quantity_mismatch",
        priceable & (qty != wanted),
        expected=wanted,
        actual=qty,
    )
    priceable &= quotes["currency"].to_numpy() == currency
    expected, floor = prices.unit_price[m], prices.floor[m]
    actual = Money(unit, places)
    flag(
        "unit_price_mismatch",
        priceable & (np.abs(unit - expected) > tol[places]),
        expected=Money(expected, places),
        actual=actual,
    )
    flag(
        "discount_over_cap",
        priceable & (floor - unit > tol[places]),
        expected=Money(floor, places),
        actual=actual,
        extra=opps["segment"].to_numpy()[m],
    )
    _missing(out, quotes, qcode, qopp, ocode, opps, np.where(matched, match, -1))


def _missing(
    out: Findings,
    quotes: pd.DataFrame,
    qcode: Array,
    qopp: Array,
    ocode: Array,
    opps: pd.DataFrame,
    match: Array,
) -> None:
    """`missing_line` for every opportunity line that a quote of that opportunity lacks."""
    # Opportunity lines usually come grouped by opportunity: then no sort is needed.
    grouped = bool(np.all(ocode[1:] >= ocode[:-1]))
    order = np.arange(len(ocode)) if grouped else np.argsort(ocode, kind="stable")
    count = np.bincount(ocode, minlength=int(ocode.max(initial=-1)) + 1)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    quote = np.flatnonzero(qopp >= 0)
    per_quote = count[qopp[quote]]
    pair_quote = np.repeat(quote, per_quote)
    offset = np.arange(len(pair_quote)) - np.repeat(np.cumsum(per_quote) - per_quote, per_quote)
    pair_line = order[start[qopp[pair_quote]] + offset]
    n_lines = max(len(opps), 1)
    covered = pd.Index(qcode[match >= 0] * n_lines + match[match >= 0])
    missing = covered.get_indexer(pair_quote * n_lines + pair_line) < 0
    head = quotes.iloc[first_rows(qcode)]
    opp_sku = opps["sku"].to_numpy()[pair_line]
    out.add(
        "missing_line",
        missing,
        head["quote_id"].to_numpy()[pair_quote],
        head["opportunity_id"].to_numpy()[pair_quote],
        sku=opp_sku,
        expected=opp_sku,
    )


def bookings(
    out: Findings, bookings: pd.DataFrame, head: pd.DataFrame, quote_index: pd.Index, tol: Array
) -> None:
    ids, number = bookings["quote_id"].to_numpy(), bookings["po_number"].to_numpy()
    at = quote_index.get_indexer(ids)
    known = at >= 0
    out.add("unknown_quote", ~known, ids, "", actual=ids, extra=number)
    if not known.any():
        return
    q = head.iloc[np.where(known, at, 0)]
    opp_of = np.where(known, q["opportunity_id"].to_numpy(), "")
    currency, po_currency = q["currency"].to_numpy(), bookings["po_currency"].to_numpy()
    out.add(
        "po_currency_mismatch",
        known & (po_currency != currency),
        ids,
        opp_of,
        expected=currency,
        actual=po_currency,
    )
    places, po_places = q["places"].to_numpy(), bookings["places"].to_numpy()
    common = np.maximum(places, po_places)
    total, amount = q["quote_total"].to_numpy(), bookings["po_amount"].to_numpy()
    differs = (
        np.abs(
            product(amount, 10 ** (common - po_places)) - product(total, 10 ** (common - places))
        )
        > tol[common]
    )
    out.add(
        "po_amount_mismatch",
        known & differs,
        ids,
        opp_of,
        expected=Money(total, places),
        actual=Money(amount, po_places),
    )
