"""Property: the batch audit and the per-quote checks find exactly the same findings."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_audit_helpers import (
    CURRENCIES,
    PLACES,
    RULES,
    SKUS,
    write_bookings,
    write_opportunities,
    write_quotes,
    write_rules,
)

from audit.batch import as_findings, audit_files
from audit.pricing import UnpriceableError, price_line, renewal_term
from audit.reference import audit_files_reference
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.rules import PricingRules

# Month ends and leap days, where calendar-month arithmetic goes wrong first.
DATES = [date(2024, 1, 31), date(2024, 2, 29), date(2025, 8, 31), date(2026, 3, 15)]

rates = st.decimals(min_value=0, max_value=Decimal("0.3"), places=4).map(str)
rules_changes = st.fixed_dictionaries(
    {
        "uplift": st.fixed_dictionaries({"support": rates, "default": rates}),
        "cap_at_list": st.booleans(),
        "tolerance": st.sampled_from(["0", "0.00", "0.01", "0.005", "1"]),
        "max_discount": st.fixed_dictionaries({"enterprise": rates, "smb": rates}),
    }
)


def money(currency: str) -> st.SearchStrategy[Decimal]:
    places = PLACES[currency]
    return st.decimals(min_value=0, max_value=5000, places=places)


@st.composite
def opportunity(draw: st.DrawFn, number: int) -> Opportunity:
    currency = draw(st.sampled_from(CURRENCIES))
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=3, unique=True))
    lines = tuple(
        OpportunityLine(
            line_no=i + 1,
            sku=sku,
            quantity=draw(st.sampled_from([1, 9, 10, 49, 50, 120])),
            prior_unit_price=draw(st.none() | money(currency)),
        )
        for i, sku in enumerate(skus)
    )
    return Opportunity(
        opportunity_id=f"OPP-{number}",
        account_id=f"A-{number}",
        account_name=f"Account, {number}",
        segment=draw(st.sampled_from(["enterprise", "smb"])),
        currency=currency,
        contract_end=draw(st.sampled_from(DATES) | st.dates(date(2023, 1, 1), date(2027, 12, 31))),
        renewal_term_months=draw(st.sampled_from([1, 12, 23, 24, 36, 60])),
        lines=lines,
    )


def perturb(draw: st.DrawFn, value: Decimal, places: int) -> Decimal:
    """Mostly the right value; sometimes off by one minor unit, or anything."""
    step = Decimal(1).scaleb(-places)
    return draw(
        st.sampled_from([value, value, value, value + step, value - step])
        | st.decimals(min_value=-10, max_value=9000, places=places)
    )


@st.composite
def quote_rows(draw: st.DrawFn, number: int, opp: Opportunity, rules: PricingRules) -> list[Any]:
    currency = opp.currency if draw(st.integers(0, 5)) else draw(st.sampled_from(CURRENCIES))
    places = PLACES[currency]
    assert opp.contract_end is not None
    start, end = renewal_term(opp.contract_end, opp.renewal_term_months)
    quote_date = opp.contract_end - timedelta(days=draw(st.sampled_from([200, 121, 120, 119, 10])))
    lines = [line for line in opp.lines if draw(st.integers(0, 6))]
    lines += [OpportunityLine(line_no=9, sku="EXTRA-1", quantity=1)] * draw(st.integers(0, 1))
    rows, total = [], Decimal(0)
    for i, line in enumerate(lines):
        try:
            unit = price_line(line, opp, rules).unit_price
        except UnpriceableError:
            unit = Decimal(100)
        unit = perturb(draw, unit.quantize(Decimal(1).scaleb(-places)), places)
        quantity = line.quantity + draw(st.sampled_from([0, 0, 0, 1]))
        amount = (unit * quantity * opp.renewal_term_months / 12).quantize(
            Decimal(1).scaleb(-places)
        )
        amount = perturb(draw, amount, places)
        total += amount
        rows.append(
            {
                "line_no": i + 1,
                "sku": line.sku,
                "quantity": quantity,
                "unit_price": unit,
                "line_amount": amount,
            }
        )
    total = perturb(draw, total, places)
    opp_id = opp.opportunity_id if draw(st.integers(0, 8)) else "OPP-UNKNOWN"
    shift = st.sampled_from([0, 0, 1, -1])
    header = {
        "quote_id": f"Q-{number:03d}",
        "opportunity_id": opp_id,
        "quote_date": quote_date,
        "valid_until": quote_date + timedelta(days=draw(st.sampled_from([30, 29, 31]))),
        "currency": currency,
        "term_start": start + timedelta(days=draw(shift)),
        "term_end": end + timedelta(days=draw(shift)),
        "quote_total": total,
    }
    return [{**header, **row} for row in rows]


def opportunity_rows(opp: Opportunity) -> list[dict[str, Any]]:
    head = opp.model_dump(exclude={"lines"})
    return [{**head, **line.model_dump()} for line in opp.lines]


@st.composite
def books(draw: st.DrawFn) -> tuple[dict[str, Any], list[Any], list[Any], list[Any]]:
    changes = draw(rules_changes)
    rules = PricingRules.model_validate({**RULES, **changes})
    opps = [draw(opportunity(n)) for n in range(draw(st.integers(1, 3)))]
    quotes: list[Any] = []
    for n in range(draw(st.integers(1, 4))):
        quotes += draw(quote_rows(n, draw(st.sampled_from(opps)), rules))
    totals = {row["quote_id"]: (row["quote_total"], row["currency"]) for row in quotes}
    bookings = []
    for quote_id, (total, currency) in [*totals.items(), ("Q-NONE", (Decimal(1), "USD"))]:
        if draw(st.booleans()):
            po_currency = draw(st.sampled_from([currency, currency, "USD", "JPY"]))
            amount = perturb(draw, total, min(PLACES[currency], PLACES[po_currency]))
            bookings.append(
                {
                    "quote_id": quote_id,
                    "po_number": f"PO-{quote_id}",
                    "po_date": "2026-01-02",
                    "po_amount": amount.quantize(Decimal(1).scaleb(-PLACES[po_currency])),
                    "po_currency": po_currency,
                }
            )
    rows = [row for opp in opps for row in opportunity_rows(opp)]
    return changes, rows, quotes, bookings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_batch_audit_agrees_with_per_quote_checks(book: Any) -> None:
    changes, opportunities, quotes, bookings = book
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        files = (
            write_rules(tmp / "rules.yaml", changes),
            write_opportunities(tmp / "opportunities.csv", opportunities),
            write_quotes(tmp / "quotes.csv", quotes),
            write_bookings(tmp / "bookings.csv", bookings),
        )
        batch = as_findings(audit_files(*files).findings)
        reference = audit_files_reference(*files)
    for rule in sorted({finding.rule for finding in reference}):
        event(rule)
    assert batch == reference
