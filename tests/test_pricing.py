"""The pricing engine at its edges; every expected quote is also accepted by both audits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_audit_helpers import RULES, write_opportunities, write_quotes, write_rules

from audit.batch import audit_files
from audit.pricing import UnpriceableError, price, renewal_term
from audit.reference import audit_files_reference
from audit.vectorised import div_half_up, parse_decimal
from schemas.money import format_money, round_half_up
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import ExpectedQuote
from schemas.rules import PricingRules

QUOTED = date(2026, 1, 5)


def rules(**changes: Any) -> PricingRules:
    return PricingRules.model_validate({**RULES, **changes})


def opportunity(*lines: OpportunityLine, **fields: Any) -> Opportunity:
    values: dict[str, Any] = {
        "opportunity_id": "OPP-1",
        "segment": "enterprise",
        "currency": "USD",
        "contract_end": date(2026, 6, 30),
        "renewal_term_months": 12,
    }
    lines = lines or (OpportunityLine(line_no=1, sku="NET-SUP-100", quantity=1),)
    return Opportunity(**{**values, **fields}, lines=lines)


def line(quantity: int = 1, prior: str | None = None, sku: str = "NET-SUP-100") -> OpportunityLine:
    prior_price = Decimal(prior) if prior is not None else None
    return OpportunityLine(line_no=1, sku=sku, quantity=quantity, prior_unit_price=prior_price)


def accepted_by_both_audits(
    tmp: Path, opp: Opportunity, quote: ExpectedQuote, rules: dict[str, Any]
) -> bool:
    """Write the opportunity and its expected quote as files; neither audit finds anything."""
    places = {"USD": 2, "EUR": 2, "JPY": 0}[opp.currency]
    head = opp.model_dump(exclude={"lines"})
    opp_rows = [{**head, **ln.model_dump()} for ln in opp.lines]
    dates = quote.model_dump(include={"quote_date", "valid_until", "term_start", "term_end"})
    quote_head = {
        "quote_id": "Q-1",
        "opportunity_id": opp.opportunity_id,
        "currency": opp.currency,
        **dates,
        "quote_total": format_money(quote.quote_total, places),
    }
    quote_rows = [
        {
            **quote_head,
            "line_no": ln.line_no,
            "sku": ln.sku,
            "quantity": ln.quantity,
            "unit_price": format_money(ln.unit_price, places),
            "line_amount": format_money(ln.line_amount, places),
        }
        for ln in quote.lines
    ]
    files = (
        write_rules(tmp / "rules.yaml", rules),
        write_opportunities(tmp / "o.csv", opp_rows),
        write_quotes(tmp / "q.csv", quote_rows),
    )
    return audit_files(*files).findings.empty and audit_files_reference(*files) == []


def unit_price(tmp: Path, opp: Opportunity, **changes: Any) -> Decimal:
    quote = price(opp, rules(**changes), QUOTED)
    assert accepted_by_both_audits(tmp, opp, quote, changes)
    return quote.lines[0].unit_price


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(9, "1200.00"), (10, "1140.00"), (49, "1140.00"), (50, "1080.00"), (500, "1080.00")],
)
def test_volume_tier_boundaries(tmp_path: Path, quantity: int, expected: str) -> None:
    assert unit_price(tmp_path, opportunity(line(quantity))) == Decimal(expected)


@pytest.mark.parametrize(
    ("months", "expected"), [(23, "1200.00"), (24, "1164.00"), (36, "1140.00")]
)
def test_term_discount_boundaries(tmp_path: Path, months: int, expected: str) -> None:
    assert unit_price(tmp_path, opportunity(renewal_term_months=months)) == Decimal(expected)


def test_discount_never_exceeds_the_segments_max(tmp_path: Path) -> None:
    # 10% volume + 5% term = 15%, but smb may get at most 8%.
    opp = opportunity(line(50), segment="smb", renewal_term_months=36)
    assert unit_price(tmp_path, opp) == Decimal("1104.00")


def test_half_up_at_exactly_half_a_cent(tmp_path: Path) -> None:
    # 1000.10 x 1.05 = 1050.105: half-up gives 1050.11 (half-even would give 1050.10).
    assert unit_price(tmp_path, opportunity(line(prior="1000.10"))) == Decimal("1050.11")
    assert round_half_up(Decimal("-1050.105"), 2) == Decimal("-1050.11")
    assert list(div_half_up(np.array([105, -105, 104, -104, 106]), 10)) == [11, -11, 10, -10, 11]


def test_jpy_has_no_minor_units(tmp_path: Path) -> None:
    # 10010 x 1.05 = 10510.5 yen: rounds half-up to 10511.
    opp = opportunity(line(prior="10010"), currency="JPY")
    assert unit_price(tmp_path, opp) == Decimal("10511")
    assert format_money(Decimal("10511"), 0) == "10511"


def test_empty_prior_price_renews_at_list(tmp_path: Path) -> None:
    assert unit_price(tmp_path, opportunity(line(prior=None))) == Decimal("1200.00")


def test_cap_at_list(tmp_path: Path) -> None:
    # 1190 x 1.05 = 1249.50 is above the 1200.00 list price.
    opp = opportunity(line(prior="1190.00"))
    assert unit_price(tmp_path, opp) == Decimal("1200.00")
    assert unit_price(tmp_path, opp, cap_at_list=False) == Decimal("1249.50")


def test_family_uplift_and_default(tmp_path: Path) -> None:
    opp = opportunity(line(prior="100.00", sku="NET-LIC-200"))  # license: default 3%
    assert unit_price(tmp_path, opp) == Decimal("103.00")


def test_line_amount_prorates_the_annual_price_and_rounds_half_up(tmp_path: Path) -> None:
    opp = opportunity(line(prior="0.01", sku="NET-LIC-200"), renewal_term_months=6)
    quote = price(opp, rules(uplift={"default": "0"}), QUOTED)
    assert (quote.lines[0].unit_price, quote.lines[0].line_amount) == (
        Decimal("0.01"),
        Decimal("0.01"),
    )
    assert accepted_by_both_audits(tmp_path, opp, quote, {"uplift": {"default": "0"}})


def test_expected_quote_dates_and_total() -> None:
    opp = opportunity(
        OpportunityLine(
            line_no=1, sku="NET-SUP-100", quantity=10, prior_unit_price=Decimal("1000")
        ),
        OpportunityLine(line_no=2, sku="NET-LIC-200", quantity=1),
    )
    quote = price(opp, rules(), QUOTED)
    assert (quote.term_start, quote.term_end) == (date(2026, 7, 1), date(2027, 6, 30))
    assert quote.valid_until == date(2026, 2, 4)
    assert quote.quote_total == Decimal("9975.00") + Decimal("500.00")


@pytest.mark.parametrize(
    ("end", "months", "term"),
    [
        (date(2026, 1, 30), 1, (date(2026, 1, 31), date(2026, 2, 27))),
        (date(2024, 1, 30), 1, (date(2024, 1, 31), date(2024, 2, 28))),
        (date(2024, 2, 28), 12, (date(2024, 2, 29), date(2025, 2, 27))),
        (date(2025, 12, 31), 60, (date(2026, 1, 1), date(2030, 12, 31))),
    ],
)
def test_renewal_term_clamps_to_month_ends(end: date, months: int, term: tuple[date, date]) -> None:
    assert renewal_term(end, months) == term


@pytest.mark.parametrize(
    ("opp", "code"),
    [
        (opportunity(line(sku="NET-NEW-400")), "unknown_sku"),
        (opportunity(line(sku="NET-OLD-300")), "inactive_sku"),
        (opportunity(line(), currency="EUR"), "unknown_sku"),
        (opportunity(contract_end=None), "missing_contract_end"),
        (opportunity(segment="public"), "unknown_segment"),
    ],
)
def test_unpriceable_opportunities_are_business_errors(opp: Opportunity, code: str) -> None:
    with pytest.raises(UnpriceableError) as caught:
        price(opp, rules(), QUOTED)
    assert caught.value.code == code
    if code.endswith("sku"):
        assert opp.lines[0].sku in caught.value.message


def test_decimal_text_to_minor_units_without_float() -> None:
    text = np.array(["1200.5", "-0.05", "7", "1.234", "1e3", "", " 1", "99999999999999999"], object)
    units, bad, empty = parse_decimal(text, 2)
    assert list(units[~bad & ~empty]) == [120050, -5, 700]
    assert list(bad) == [False, False, False, True, True, False, True, True]
    assert list(empty) == [False] * 5 + [True, False, False]
