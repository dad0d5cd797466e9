"""`quotebot rules diff`: the lines a pricing change moves, before and after, with totals,
each price what the per-quote pricing engine says under that rules file."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from test_audit_helpers import OPPORTUNITY, write_csv, write_rules

from audit import price
from audit.readers import OPPORTUNITY_COLUMNS, OPPORTUNITY_OPTIONAL
from audit.reference import read_opportunities
from quotebot import cli
from schemas.rules import load_rules

LINES = [
    {"line_no": 1, "sku": "NET-SUP-100", "quantity": 10, "prior_unit_price": "1000.00"},
    {"line_no": 2, "sku": "NET-LIC-200", "quantity": 3, "prior_unit_price": "400.00"},
    # An add-on ending on a leap day: co-termed from 2027-03-01 under the new rules.
    {"line_no": 3, "sku": "NET-OLD-300", "quantity": 1, "prior_unit_price": ""},
]


def _book(tmp: Path) -> tuple[Path, Path, Path]:
    rows = [{**OPPORTUNITY, **line} for line in LINES]
    rows.append(
        {
            **OPPORTUNITY,
            "opportunity_id": "OPP-2",
            "account_id": "A-2",
            "contract_end": "2026-01-31",
            "line_no": 1,
            "sku": "NET-SUP-100",
            "quantity": 1,
            "prior_unit_price": "1100.00",
            "line_end": "2026-02-28",
        }
    )
    rows.append({**rows[-1], "line_no": 2, "sku": "NET-LIC-200", "line_end": "", "renew": "no"})
    old = write_rules(tmp / "old.yaml")
    new = write_rules(
        tmp / "new.yaml",
        {
            "uplift": {"support": "0.07", "default": "0.03"},
            "accounts": {"A-1": {"price_method": "same"}},
            "proration": "day",
        },
    )
    columns = [*OPPORTUNITY_COLUMNS, *OPPORTUNITY_OPTIONAL]
    return old, new, write_csv(tmp / "o.csv", columns, rows)


def _engine(rules_path: Path, opps: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """`(unit price, amount)` of every renewed, priceable line, by the per-quote engine."""
    rules = load_rules(rules_path)
    prices = {}
    for opp in read_opportunities(opps).values():
        for line in opp.lines:
            entry = rules.entry(line.sku, opp.currency)
            if line.renew and entry is not None and entry.active:
                priced = price(opp.model_copy(update={"lines": (line,)}), rules, date(2026, 1, 1))
                got = priced.lines[0]
                prices[(opp.opportunity_id, line.sku)] = (
                    f"{got.unit_price:f}",
                    f"{got.line_amount:f}",
                )
    return prices


def test_the_diff_lists_changed_lines_with_the_engine_prices_and_totals(tmp_path: Path) -> None:
    old, new, opps = _book(tmp_path)
    result = CliRunner().invoke(
        cli, ["rules", "diff", str(old), str(new), "--opportunities", str(opps)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    lines = {(r["opportunity_id"], r["sku"]): r for r in rows if r["level"] == "line"}
    before, after = _engine(old, opps), _engine(new, opps)
    wanted = {key: (*before[key], *after[key]) for key in before if before[key] != after[key]}
    changed = {
        key: (r["unit_price_before"], r["amount_before"], r["unit_price_after"], r["amount_after"])
        for key, r in lines.items()
    }
    assert changed == wanted
    assert ("OPP-2", "NET-LIC-200") not in lines  # do-not-renew: priced by neither
    # A-1 moves to `same`: 1000.00 less 5% volume = 950.00 (was 997.50 with the 5% uplift).
    assert changed[("OPP-1", "NET-SUP-100")][::2] == ("997.50", "950.00")
    usd = next(r for r in rows if r["level"] == "currency" and r["currency"] == "USD")
    assert usd["lines"] == "5" and usd["changed"] == str(len(wanted))
    assert "USD:" in result.stderr


def test_html_and_bad_rules(tmp_path: Path) -> None:
    old, new, opps = _book(tmp_path)
    out = tmp_path / "diff.html"
    args = ["rules", "diff", str(old), str(new), "--opportunities", str(opps)]
    result = CliRunner().invoke(cli, [*args, "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Lines that change" in out.read_text() and "OPP-2" in out.read_text()
    write_rules(new, {"proration": "weekly"})
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "new.yaml" in result.stderr and "proration" in result.stderr
