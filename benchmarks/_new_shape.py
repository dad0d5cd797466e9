"""A benchmark book in the new shape: the old book plus co-termed add-on lines, do-not-renew
lines, quote line dates, accounts on other price methods and price holds.

Derived from `audit_bench.generate`'s files, so both shapes hold the same lines and the
reader's cost of the new columns is measured on the same book in the same run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from audit.vectorised import (
    add_months,
    date_text,
    div_half_up,
    factors,
    money_text,
    parse_decimal,
    product,
)

_PLACES = {"USD": 2, "EUR": 2, "JPY": 0}


def _days(text: pd.Series) -> np.ndarray:
    return (pd.to_datetime(text).to_numpy().astype("datetime64[D]")).astype(np.int64)


def new_shape(
    paths: tuple[Path, Path, Path, Path], folder: Path, seed: int = 3
) -> tuple[Path, ...]:
    """Write rules.yaml, opportunities.csv, quotes.csv, bookings.csv of the new shape."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    opps = pd.read_csv(paths[1], dtype=str, keep_default_na=False)
    quotes = pd.read_csv(paths[2], dtype=str, keep_default_na=False)
    end = _days(opps["contract_end"])
    months = opps["renewal_term_months"].astype(np.int64).to_numpy()
    term_end = add_months(end + 1, months) - 1
    # One line in ten was added mid-term and ends a month after the contract (a month end).
    added = rng.random(len(opps)) < 0.10
    line_end = np.where(added, add_months(end + 1, np.ones_like(months)) - 1, end)
    opps["line_end"] = np.where(added, date_text(line_end), "")
    notice = rng.random(len(opps)) < 0.02
    opps["renew"] = np.where(notice, "no", "yes")
    opps.to_csv(folder / "opportunities.csv", index=False)
    # Quotes as a careful bot enters them: do-not-renew lines left out, add-ons co-termed.
    keep = ~notice  # quotes.csv has the opportunities' lines in the same order
    places = quotes["currency"].map(_PLACES).to_numpy()
    unit, _, _ = parse_decimal(quotes["unit_price"].to_numpy(dtype=object), places)
    qty = quotes["quantity"].astype(np.int64).to_numpy()
    start = line_end + 1
    num, den = factors(start, term_end, "month_day")
    amount = div_half_up(product(unit, qty, num), den)
    quotes["line_start"] = date_text(start)
    quotes["line_end"] = date_text(term_end)
    quotes["line_amount"] = money_text(amount, places)
    total = pd.Series(np.where(keep, amount, 0)).groupby(quotes["quote_id"]).transform("sum")
    quotes["quote_total"] = money_text(total.to_numpy(), places)
    quotes = quotes[keep]
    quotes.to_csv(folder / "quotes.csv", index=False)
    bookings = pd.read_csv(paths[3], dtype=str, keep_default_na=False)
    totals = quotes.drop_duplicates("quote_id").set_index("quote_id")["quote_total"]
    bookings["po_amount"] = bookings["quote_id"].map(totals).fillna(bookings["po_amount"])
    bookings.to_csv(folder / "bookings.csv", index=False)
    rules = yaml.safe_load(paths[0].read_text())
    accounts = sorted(set(opps["account_id"]))
    rules["accounts"] = {a: {"price_method": "same"} for a in accounts[::97]}
    first = opps.drop_duplicates("account_id").iloc[::50]
    rules["contracted_prices"] = [
        {
            "account_id": row.account_id,
            "sku": row.sku,
            "currency": row.currency,
            "unit_price": "95" if row.currency == "JPY" else "95.00",
            "from": "1970-01-01",
            "until": "2099-12-31",
        }
        for row in first.itertuples()
    ]
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, sort_keys=False))
    return tuple(
        folder / n for n in ("rules.yaml", "opportunities.csv", "quotes.csv", "bookings.csv")
    )
