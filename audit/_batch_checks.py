"""The checks of the batch audit, one function per level: quotes, lines, bookings.

Each takes the readers' frames (money in integer minor units, dates as day numbers) and
adds findings for every row where a rule of AUDIT_SPEC fails, exactly as `audit.checks`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from audit import _batch_explain as explain
from audit._emit import Column, Day, Findings, Money
from audit._prices import LinePrices
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
    x_amount, x_total = extra_places(quotes, "line_amount"), extra_places(quotes, "quote_total")
    common = max(x_amount, x_total)
    differs = np.abs(total * 10 ** (common - x_total) - shown * 10 ** (common - x_amount))
    out.add(
        "total_mismatch",
        known & (differs > tol[places + common]),
        ids,
        opp_of,
        expected=Money(shown, places, x_amount),
        actual=Money(total, places, x_total),
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
    prices: LinePrices,
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

    def flag(rule: str, mask: Array, field: str = "", **values: Column) -> None:
        out.add(rule, mask, ids, opp_of, sku=sku, line_no=line_no, field=field, **values)

    months = opps["months"].to_numpy()[first_rows(ocode)][line_opp]
    _line_amounts(rules, out, quotes, months, known, tol, flag)
    # Quote skus numbered as the opportunities' skus (-1: no opportunity has it).
    opp_sku = opps["sku_code"].to_numpy()
    quote_sku = quotes["sku_code"].to_numpy()
    opp_skus = pd.Index(opps["sku"].to_numpy()[first_rows(opp_sku)], dtype=object)
    quote_sku = opp_skus.get_indexer(sku[first_rows(quote_sku)])[quote_sku]
    n_sku = len(opp_skus) + 1
    wanted_key = np.where(known & (quote_sku >= 0), line_opp * n_sku + quote_sku, -1)
    match = pd.Index(ocode * n_sku + opp_sku).get_indexer(wanted_key)
    matched = known & (match >= 0)
    flag("extra_line", known & ~matched, actual=sku)
    m = np.where(matched, match, 0)
    renew = opps["renew"].to_numpy()[m]
    flag("non_renewable_line", matched & ~renew, actual=sku)
    covered = np.where(matched, match, -1)
    matched &= renew
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
    if quotes.attrs.get("line_dates"):
        _line_terms(quotes, prices, m, priceable, flag)
    priceable &= quotes["currency"].to_numpy() == currency
    x_unit = extra_places(quotes, "unit_price")
    fine = 10**x_unit
    expected, floor = prices.unit_price[m], prices.floor[m]
    actual = Money(unit, places, x_unit)
    wrong = priceable & (np.abs(unit - expected * fine) > tol[places + x_unit])
    flag(
        "unit_price_mismatch",
        wrong,
        expected=Money(expected, places),
        actual=actual,
        extra=explain.price_notes(rules, opps, prices, m, wrong),
    )
    held = prices.hold[m] >= 0
    flag(
        "discount_over_cap",
        priceable & ~held & (floor * fine - unit > tol[places + x_unit]),
        expected=Money(floor, places),
        actual=actual,
        extra=opps["segment"].to_numpy()[m],
    )
    _missing(out, quotes, qcode, qopp, ocode, opps, covered)


def extra_places(frame: pd.DataFrame, column: str) -> int:
    """How many decimals beyond its currency's the readers kept for a money column."""
    return int(frame.attrs.get("extra_places", {}).get(column, 0))


def _line_amounts(
    rules: PricingRules,
    out: Findings,
    quotes: pd.DataFrame,
    months: Array,
    known: Array,
    tol: Array,
    flag: Callable[..., None],
) -> None:
    """`line_amount_mismatch`: each line's amount for the quote's own unit price, quantity and
    period (the line's own dates where the file has them, else the whole term)."""
    unit, qty = quotes["unit_price"].to_numpy(), quotes["quantity"].to_numpy()
    places = quotes["places"].to_numpy()
    x_unit, x_amount = extra_places(quotes, "unit_price"), extra_places(quotes, "line_amount")
    if quotes.attrs.get("line_dates"):
        start, end = quotes["line_start"].to_numpy(), quotes["line_end"].to_numpy()
        num, den = factors(start, end, rules.proration)
    else:
        num, den = months, np.full(len(months), 12, dtype=np.int64)
    shown = div_half_up(product(unit, qty, num), den * 10**x_unit)
    amount = quotes["line_amount"].to_numpy()
    wrong = known & (np.abs(amount - shown * 10**x_amount) > tol[places + x_amount])
    notes: Column = ""
    if quotes.attrs.get("line_dates"):
        notes = explain.period_notes(rules, start, end, months, num, den, wrong)
    flag(
        "line_amount_mismatch",
        wrong,
        expected=Money(shown, places),
        actual=Money(amount, places, x_amount),
        extra=notes,
    )


def factors(start: Array, end: Array, proration: str) -> tuple[Array, Array]:
    """The period factor of `[start, end]` as `numerator / denominator` (AUDIT_SPEC step 6)."""
    m, r = months_and_days(start, end)
    if proration == "day":
        return end - start + 1, np.full(len(start), 365, dtype=np.int64)
    if proration == "month":
        return m + (r > 0), np.full(len(start), 12, dtype=np.int64)
    return 365 * m + 12 * r, np.full(len(start), 4380, dtype=np.int64)


def months_and_days(start: Array, end: Array) -> tuple[Array, Array]:
    """`m` whole calendar months from `start` within `[start, end]`, and `r` days left."""
    after = end + 1
    month = lambda days: days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)  # noqa: E731
    m = month(after) - month(start)
    m = np.where(add_months(start, m) > after, m - 1, m)
    m = np.maximum(m, 0)
    return m, after - add_months(start, m)


def _line_terms(
    quotes: pd.DataFrame, prices: LinePrices, m: Array, priceable: Array, flag: Callable[..., None]
) -> None:
    """`line_term_mismatch`: the line's own dates against its co-termed period."""
    start, end = quotes["line_start"].to_numpy(), quotes["line_end"].to_numpy()
    want_start, want_end = prices.line_start[m], prices.term_end[m]
    bad_start = priceable & (start != want_start)
    bad_end = priceable & ~bad_start & (end != want_end)
    for name, mask, want, got, verb in (
        ("line_start", bad_start, want_start, start, "starts"),
        ("line_end", bad_end, want_end, end, "ends"),
    ):
        flag(
            "line_term_mismatch",
            mask,
            expected=Day(want),
            actual=Day(got),
            extra=verb,
            field=name,
        )


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
    missing &= opps["renew"].to_numpy()[pair_line]  # a do-not-renew line is not missed
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
    places = q["places"].to_numpy() + extra_places(head, "quote_total")
    po_places = bookings["places"].to_numpy() + extra_places(bookings, "po_amount")
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
        expected=Money(total, q["places"].to_numpy(), extra_places(head, "quote_total")),
        actual=Money(amount, bookings["places"].to_numpy(), extra_places(bookings, "po_amount")),
    )
