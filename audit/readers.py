"""Readers of AUDIT_SPEC's CSV files into typed columns: money in integer minor units, dates
as day numbers. A file that breaks the spec raises `InputError` at its first bad line.

Besides the spec's columns, the frames carry `code` (the quote or opportunity, numbered in
order of first appearance), `sku_code` and `currency_code` (likewise), which the batch audit
uses to match rows without hashing text again, and `places` (the currency's decimals).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd

from audit import _validate as v
from audit._csvfile import Engine, read_text_columns
from audit._parse import IntArray
from audit._text import Column, Objects, Text, cell, equals, factorize, objects, one_of, take
from audit._vector import Array, add_months
from schemas.rules import PricingRules

OPPORTUNITY_COLUMNS = (
    "opportunity_id",
    "account_id",
    "account_name",
    "segment",
    "currency",
    "contract_end",
    "renewal_term_months",
    "line_no",
    "sku",
    "quantity",
    "prior_unit_price",
)
QUOTE_COLUMNS = (
    "quote_id",
    "opportunity_id",
    "quote_date",
    "valid_until",
    "currency",
    "term_start",
    "term_end",
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "line_amount",
    "quote_total",
)
OPPORTUNITY_OPTIONAL = ("line_end", "renew")
QUOTE_OPTIONAL = ("line_start", "line_end")
BOOKING_COLUMNS = ("quote_id", "po_number", "po_date", "po_amount", "po_currency")
_MANY = 10**15
TextColumns: TypeAlias = dict[str, Column]
FileKind: TypeAlias = Literal["opportunities", "quotes", "bookings"]
_LAYOUT: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # columns, whole-number columns, optional columns
    "opportunities": (
        OPPORTUNITY_COLUMNS,
        ("renewal_term_months", "line_no", "quantity"),
        OPPORTUNITY_OPTIONAL,
    ),
    "quotes": (QUOTE_COLUMNS, ("line_no", "quantity"), QUOTE_OPTIONAL),
    "bookings": (BOOKING_COLUMNS, (), ()),
}


def file_columns(
    kind: FileKind, path: Path, *, progress: bool = False, engine: Engine = "arrow"
) -> TextColumns:
    """A file's cells, before any rule is known: the CSV reading, which needs no rules, can
    run while they load (Arrow reads without holding Python's lock)."""
    columns, integers, optional = _LAYOUT[kind]
    return read_text_columns(
        path, columns, progress=progress, integers=integers, optional=optional, engine=engine
    )


def _places(codes: IntArray, currencies: Objects, rules: PricingRules) -> IntArray:
    per_currency = np.array([rules.places(c) for c in currencies], dtype=np.int64)
    return per_currency[codes] if len(codes) else np.zeros(0, dtype=np.int64)


def _differs(what: str, group_of: Text, cols: dict[str, Column]) -> Callable[[str, int, int], str]:
    return lambda column, row, first: (
        f"'{cell(cols[column], row)}' differs from line {v.line_of(first)} of the same {what} "
        f"{cell(group_of, row)} ('{cell(cols[column], first)}')"
    )


def _repeated(
    what: str, group_of: Text, cols: dict[str, Column], column: str
) -> Callable[[int, int], str]:
    return lambda row, first: (
        f"{column} {cell(cols[column], row)} appears twice in {what} {cell(group_of, row)} "
        f"(first on line {v.line_of(first)})"
    )


def _categories(codes: IntArray, distinct: Objects) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(distinct, dtype=object))


def _coded(grouped: v.Grouped, name: str, values: Text, **checks: Any) -> tuple[IntArray, Objects]:
    """A text column of a group as codes (in order of first appearance) and distinct values."""
    distinct: list[Objects] = []

    def parse(problems: v.Problems, rows: IntArray) -> IntArray:
        codes, uniques = v.text(problems, name, take(values, rows), **checks)
        distinct.append(uniques)
        return codes

    return grouped.column(name, values, parse), distinct[0]


def _dates(name: str, values: Text) -> Callable[[v.Problems, IntArray], IntArray]:
    return lambda problems, rows: v.dates(problems, name, take(values, rows))


_CURRENCY = {"pattern": v.CURRENCY, "what": "a currency code (3 capital letters)"}


def _spread(codes: IntArray, distinct: Objects) -> pd.Series:
    """A text column from its codes: `str` objects (not pandas' `str` dtype, which would
    copy every cell into Arrow and back out at each `to_numpy`)."""
    return pd.Series(distinct[codes] if len(codes) else distinct[:0], dtype=object)


def read_opportunities(
    path: Path,
    rules: PricingRules,
    *,
    progress: bool = False,
    engine: Engine = "arrow",
    columns: TextColumns | None = None,
) -> pd.DataFrame:
    """opportunities.csv: one row per opportunity line, checked against the rules' segments.

    `columns`: the file's cells as `file_columns` read them, where they were read already."""
    if columns is None:
        columns = file_columns("opportunities", path, progress=progress, engine=engine)
    cols = columns
    p = v.Problems(path)
    ids = cols["opportunity_id"]
    opp, opp_ids = v.text(p, "opportunity_id", ids, what="an opportunity id")
    per_opp = v.Grouped(p, opp, _differs("opportunity", ids, cols))
    for name in ("account_id", "account_name"):  # any text, the same on each line
        per_opp.column(name, cols[name], lambda _, rows: rows)
    segments = sorted(rules.max_discount)
    what = f"a segment of max_discount ({', '.join(segments)})"
    segment, segment_names = _coded(
        per_opp, "segment", cols["segment"], allowed=set(segments), what=what
    )
    currency, currencies = _coded(per_opp, "currency", cols["currency"], **_CURRENCY)
    places = _places(currency, currencies, rules)
    end = per_opp.column(
        "contract_end", cols["contract_end"], _dates("contract_end", cols["contract_end"])
    )
    months = per_opp.column(
        "renewal_term_months",
        cols["renewal_term_months"],
        lambda sub, rows: v.whole(
            sub, "renewal_term_months", take(cols["renewal_term_months"], rows), 1, 60
        ),
    )
    line_no = v.whole(p, "line_no", cols["line_no"], 1, _MANY)
    sku, skus = v.text(p, "sku", cols["sku"], what="a sku")
    quantity = v.whole(p, "quantity", cols["quantity"], 1, _MANY)
    prior, no_prior, prior_extra = v.money(
        p, "prior_unit_price", cols["prior_unit_price"], cols["currency"], places, optional=True
    )
    line_end = _line_ends(p, cols, end, months)
    renew = _renew(p, cols)
    p.raise_first()
    v.unique(p, "sku", opp, sku, _repeated("opportunity", ids, cols, "sku"))
    v.unique(p, "line_no", opp, line_no, _repeated("opportunity", ids, cols, "line_no"))
    p.raise_first()
    account, accounts = factorize(cols["account_id"])
    frame = pd.DataFrame(
        {
            # Text as categories (codes and distinct values): compact, and cheap to hand over
            # from the process that reads opportunities beside the quotes.
            "opportunity_id": _categories(opp, opp_ids),
            "segment": _categories(segment, segment_names),
            "currency": _categories(currency, currencies),
            "places": places,
            "contract_end": end,
            "months": months,
            "line_no": line_no,
            "sku": _categories(sku, skus),
            "quantity": quantity,
            "prior": prior,
            "has_prior": ~no_prior,
            "line_end": line_end,
            "renew": renew,
            "account_id": _categories(account, accounts),
            "code": opp,
            "sku_code": sku,
            "currency_code": currency,
        },
        copy=False,  # one block per column: stacking a million rows of each type copies them
    )
    frame.attrs["extra_places"] = {"prior": prior_extra}
    return frame


def _optional_dates(p: v.Problems, name: str, values: Text, default: IntArray) -> IntArray:
    """An optional date column: empty cells take `default`."""
    given = np.flatnonzero(~equals(values, ""))
    days = default.copy()
    if len(given):
        days[given] = v.dates(p.subset(given), name, take(values, given))
    return days


def _line_ends(p: v.Problems, cols: dict[str, Column], end: IntArray, months: IntArray) -> IntArray:
    """Each line's own end (default: the contract's), from contract end to before term end."""
    if "line_end" not in cols:
        return end
    values = cols["line_end"]
    line_end = _optional_dates(p, "line_end", values, end)
    term_end = add_months(end + 1, months) - 1
    outside = ~equals(values, "") & ((line_end < end) | (line_end >= term_end))
    p.flag(
        "line_end",
        outside,
        lambda row: (
            f"{cell(values, row)} is not from the contract end {cell(cols['contract_end'], row)} "
            "to before "
            f"the renewal's term end"
        ),
    )
    return line_end


def _renew(p: v.Problems, cols: dict[str, Column]) -> Array:
    """`renew`: yes (the default) or no, a do-not-renew line."""
    if "renew" not in cols:
        return np.ones(len(cols["sku"]), dtype=bool)
    values = cols["renew"]
    p.flag(
        "renew",
        ~one_of(values, ["yes", "no", ""]),
        lambda row: f"{cell(values, row)!r} is not yes or no",
    )
    return ~equals(values, "no")


def read_quotes(
    path: Path,
    rules: PricingRules,
    *,
    progress: bool = False,
    engine: Engine = "arrow",
    columns: TextColumns | None = None,
) -> pd.DataFrame:
    """quotes.csv: one row per quote line, amounts in minor units of the quote's currency."""
    if columns is None:
        columns = file_columns("quotes", path, progress=progress, engine=engine)
    cols = columns
    p = v.Problems(path)
    ids = cols["quote_id"]
    quote, quote_ids = v.text(p, "quote_id", ids, what="a quote id")
    per_quote = v.Grouped(p, quote, _differs("quote", ids, cols))
    opp, opp_ids = _coded(
        per_quote, "opportunity_id", cols["opportunity_id"], what="an opportunity id"
    )
    day = {
        name: per_quote.column(name, cols[name], _dates(name, cols[name]))
        for name in ("quote_date", "valid_until", "term_start", "term_end")
    }
    currency, currencies = _coded(per_quote, "currency", cols["currency"], **_CURRENCY)
    places = _places(currency, currencies, rules)
    extra: dict[str, int] = {}

    def totals(sub: v.Problems, rows: IntArray) -> IntArray:
        units, _, extra["quote_total"] = v.money(
            sub,
            "quote_total",
            take(cols["quote_total"], rows),
            take(cols["currency"], rows),
            places[rows],
        )
        return units

    total = per_quote.column("quote_total", cols["quote_total"], totals)
    line_no = v.whole(p, "line_no", cols["line_no"], 1, _MANY)
    sku, skus = v.text(p, "sku", cols["sku"], what="a sku")
    quantity = v.whole(p, "quantity", cols["quantity"], 0, _MANY)
    # Line amounts are mostly distinct: scanning every cell beats hashing them first.
    amounts = {}
    for name in ("unit_price", "line_amount"):
        amounts[name], _, extra[name] = v.money(
            p, name, cols[name], cols["currency"], places, repeated=False
        )
    dated = "line_start" in cols or "line_end" in cols
    period = {
        name: _optional_dates(p, name, cols[name], day[default]) if name in cols else day[default]
        for name, default in (("line_start", "term_start"), ("line_end", "term_end"))
    }
    p.raise_first()
    v.unique(p, "sku", quote, sku, _repeated("quote", ids, cols, "sku"))
    v.unique(p, "line_no", quote, line_no, _repeated("quote", ids, cols, "line_no"))
    p.raise_first()
    frame = pd.DataFrame(
        {
            # Text as `str` objects, each distinct value once (the readers' codes spread).
            "quote_id": _spread(quote, quote_ids),
            "opportunity_id": _spread(opp, opp_ids),
            **day,
            "currency": _spread(currency, currencies),
            "places": places,
            "line_no": line_no,
            "sku": _spread(sku, skus),
            "quantity": quantity,
            **amounts,
            "quote_total": total,
            **period,
            "code": quote,
            "sku_code": sku,
        },
        copy=False,  # one block per column: stacking a million rows of each type copies them
    )
    frame.attrs["extra_places"] = extra
    frame.attrs["line_dates"] = dated
    return frame


def read_bookings(
    path: Path,
    rules: PricingRules,
    *,
    progress: bool = False,
    engine: Engine = "arrow",
    columns: TextColumns | None = None,
) -> pd.DataFrame:
    """bookings.csv: one booking per quote, the PO amount in minor units of its currency."""
    if columns is None:
        columns = file_columns("bookings", path, progress=progress, engine=engine)
    cols = columns
    p = v.Problems(path)
    quote, quote_ids = v.text(p, "quote_id", cols["quote_id"], what="a quote id")
    po_date = v.dates(p, "po_date", cols["po_date"])
    currency, currencies = v.text(
        p,
        "po_currency",
        cols["po_currency"],
        pattern=v.CURRENCY,
        what="a currency code (3 capital letters)",
    )
    places = _places(currency, currencies, rules)
    amount, _, extra = v.money(p, "po_amount", cols["po_amount"], cols["po_currency"], places)
    p.raise_first()
    repeats = pd.Series(quote).duplicated().to_numpy()
    p.flag("quote_id", repeats, lambda row: f"quote {cell(cols['quote_id'], row)} is booked twice")
    p.raise_first()
    frame = pd.DataFrame(
        {
            "quote_id": _spread(quote, quote_ids),
            "po_number": pd.Series(objects(cols["po_number"]), dtype=object),
            "po_date": po_date,
            "po_amount": amount,
            "po_currency": _spread(currency, currencies),
            "places": places,
        },
        copy=False,  # one block per column: stacking a million rows of each type copies them
    )
    frame.attrs["extra_places"] = {"po_amount": extra}
    return frame
