"""What a rules change costs: every opportunity line priced by the old and the new rules.

So that a client's pricing change is reviewed before it is switched on: per line the expected
unit price and amount before and after, per account and currency the totals, and the lines
that change. Vectorised on integer minor units, like the batch audit.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from audit._batch_checks import factors
from audit._prices import line_prices
from audit._vector import Array, div_half_up, money_text, product
from audit.readers import read_opportunities
from schemas.rules import PricingRules, load_rules

LINE_COLUMNS = (
    "opportunity_id",
    "account_id",
    "currency",
    "line_no",
    "sku",
    "quantity",
    "unit_price_before",
    "unit_price_after",
    "amount_before",
    "amount_after",
    "change",
)
HTML_LINES = 1000
"""Changed lines listed in the HTML report; the CSV has them all."""


@dataclass(frozen=True)
class RulesDiff:
    """The lines whose expected price changes, and totals per account and per currency."""

    lines: int
    changed: pd.DataFrame
    """LINE_COLUMNS; unpriceable lines show an empty price on that side."""
    accounts: pd.DataFrame
    """account_id, currency, lines, changed, amount_before, amount_after, change."""
    totals: pd.DataFrame
    """currency, lines, changed, amount_before, amount_after, change."""


def _priced(rules: PricingRules, opps: pd.DataFrame) -> tuple[Array, Array, Array]:
    """`(priceable, unit price, amount)` per line in minor units of its currency."""
    prices = line_prices(rules, opps)
    num, den = factors(prices.line_start, prices.term_end, rules.proration)
    amount = div_half_up(product(prices.unit_price, opps["quantity"].to_numpy(), num), den)
    priceable = prices.active & opps["renew"].to_numpy()
    return priceable, prices.unit_price, amount


def diff_frames(old: PricingRules, new: PricingRules, opps: pd.DataFrame) -> RulesDiff:
    """The diff over an opportunities frame as `audit.readers` returns it."""
    ok_before, unit_before, amount_before = _priced(old, opps)
    ok_after, unit_after, amount_after = _priced(new, opps)
    amount_before = np.where(ok_before, amount_before, 0)
    amount_after = np.where(ok_after, amount_after, 0)
    changes = (ok_before != ok_after) | (ok_after & (unit_before != unit_after))
    changes |= amount_before != amount_after
    places = opps["places"].to_numpy()
    frame = pd.DataFrame(
        {
            "account_id": opps["account_id"].astype(str).to_numpy(),
            "currency": opps["currency"].astype(str).to_numpy(),
            "places": places,
            "amount_before": amount_before,
            "amount_after": amount_after,
            "changed": changes,
        }
    )
    keys = ["account_id", "currency"]
    accounts = _sums(frame, keys)
    totals = _sums(frame, ["currency"])
    rows = np.flatnonzero(changes)

    def price(ok: Array, units: Array) -> Array:
        text = money_text(units[rows], places[rows]).astype(object)
        return np.where(ok[rows], text, "")

    changed = pd.DataFrame(
        {
            "opportunity_id": opps["opportunity_id"].astype(str).to_numpy()[rows],
            "account_id": frame["account_id"].to_numpy()[rows],
            "currency": frame["currency"].to_numpy()[rows],
            "line_no": opps["line_no"].to_numpy()[rows],
            "sku": opps["sku"].astype(str).to_numpy()[rows],
            "quantity": opps["quantity"].to_numpy()[rows],
            "unit_price_before": price(ok_before, unit_before),
            "unit_price_after": price(ok_after, unit_after),
            "amount_before": price(ok_before, amount_before),
            "amount_after": price(ok_after, amount_after),
            "change": money_text(amount_after[rows] - amount_before[rows], places[rows]),
        }
    )
    return RulesDiff(len(opps), changed, accounts, totals)


def _sums(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Totals per key, money as text in the currency's places (exact: integer sums)."""
    grouped = frame.groupby(keys, sort=True, observed=True)
    sums = grouped.agg(
        lines=("changed", "size"),
        changed=("changed", "sum"),
        amount_before=("amount_before", "sum"),
        amount_after=("amount_after", "sum"),
        places=("places", "first"),
    ).reset_index()
    places = sums["places"].to_numpy()
    before, after = sums["amount_before"].to_numpy(), sums["amount_after"].to_numpy()
    sums["amount_before"] = money_text(before, places)
    sums["amount_after"] = money_text(after, places)
    sums["change"] = money_text(after - before, places)
    return sums.drop(columns="places")


def diff_files(old_path: Path, new_path: Path, opportunities: Path) -> RulesDiff:
    """Read both rules files and the opportunities (`InputError` on a bad one), then diff."""
    old, new = load_rules(old_path), load_rules(new_path)
    opps = read_opportunities(opportunities, old)
    if old.currency_places != new.currency_places or set(old.max_discount) != set(new.max_discount):
        opps = read_opportunities(opportunities, new)  # the new rules must accept them too
    return diff_frames(old, new, opps)


def to_csv(diff: RulesDiff) -> str:
    """One CSV: a `level` column (`line`, `account`, `currency`) over the three tables."""
    parts = [
        diff.changed.assign(level="line"),
        diff.accounts.assign(level="account"),
        diff.totals.assign(level="currency"),
    ]
    columns = ["level", *LINE_COLUMNS, "lines", "changed"]
    table = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    for name in ("line_no", "quantity", "lines", "changed"):
        table[name] = table[name].astype("Int64")
    return str(table.to_csv(index=False, lineterminator="\n"))


def _table(frame: pd.DataFrame, caption: str) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{body}</table>"


def to_html(diff: RulesDiff, old_name: str, new_name: str) -> str:
    """A page for the people who approve a pricing change."""
    shown = diff.changed.head(HTML_LINES)
    more = len(diff.changed) - len(shown)
    note = f"<p>… and {more:,} more changed lines: see the CSV.</p>" if more > 0 else ""
    title = f"Rules change {old_name} → {new_name}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{diff.lines:,} opportunity lines, {len(diff.changed):,} change.</p>"
        f"{_table(diff.totals, 'Per currency')}{_table(diff.accounts, 'Per account')}"
        f"{_table(shown, 'Lines that change')}{note}</body></html>"
    )
