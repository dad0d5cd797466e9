"""One test per AUDIT_SPEC check: each planted discrepancy gives exactly its finding, and the
batch audit and the per-quote checks say the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_audit_helpers import (
    opportunity_line,
    quote_line,
    write_bookings,
    write_opportunities,
    write_quotes,
    write_rules,
)

from audit.batch import as_findings, audit_files
from audit.checks import passes
from audit.reference import audit_files_reference
from schemas.findings import Finding


def audit(
    tmp_path: Path,
    quotes: list[dict[str, Any]],
    opportunities: list[dict[str, Any]] | None = None,
    bookings: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
) -> list[Finding]:
    """Both audits of the files; they must agree, and the findings are returned."""
    files = (
        write_rules(tmp_path / "rules.yaml", rules),
        write_opportunities(tmp_path / "o.csv", opportunities or [opportunity_line()]),
        write_quotes(tmp_path / "q.csv", quotes),
        write_bookings(tmp_path / "b.csv", bookings) if bookings is not None else None,
    )
    batch = as_findings(audit_files(*files).findings)
    assert batch == audit_files_reference(*files)
    return batch


def brief(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.rule, f.sku, f.expected, f.actual) for f in findings]


def test_a_correct_quote_has_no_finding(tmp_path: Path) -> None:
    assert audit(tmp_path, [quote_line()]) == []


def test_currency_mismatch_skips_price_checks(tmp_path: Path) -> None:
    found = audit(
        tmp_path,
        [quote_line(currency="EUR", unit_price="1.00", line_amount="10.00", quote_total="10.00")],
    )
    assert brief(found) == [("currency_mismatch", "", "USD", "EUR")]
    assert found[0].is_error and found[0].sku == "" and found[0].line_no is None


@pytest.mark.parametrize(
    ("field", "value", "rule", "expected"),
    [
        ("term_start", "2026-06-30", "term_start_mismatch", "2026-07-01"),
        ("term_end", "2027-07-01", "term_end_mismatch", "2027-06-30"),
    ],
)
def test_term_mismatch(tmp_path: Path, field: str, value: str, rule: str, expected: str) -> None:
    found = audit(tmp_path, [quote_line(**{field: value})])
    assert brief(found) == [(rule, "", expected, value)]


def test_term_end_clamps_to_the_month_end(tmp_path: Path) -> None:
    # Contract ends Jan 30: the term starts Jan 31; one month later is Feb 28 (clamped),
    # so the term ends Feb 27. Naive day arithmetic would say Mar 2.
    opp = opportunity_line(contract_end="2026-01-30", renewal_term_months=1)
    quote = quote_line(
        quote_date="2025-09-01",
        valid_until="2025-10-01",
        term_start="2026-01-31",
        term_end="2026-02-27",
        line_amount="831.25",
        quote_total="831.25",
    )
    assert audit(tmp_path, [quote], [opp]) == []
    found = audit(tmp_path, [{**quote, "term_end": "2026-03-02"}], [opp])
    assert brief(found) == [("term_end_mismatch", "", "2026-02-27", "2026-03-02")]


def test_late_quote_is_a_warning_from_the_day_after_the_lead_deadline(tmp_path: Path) -> None:
    # 2026-06-30 minus 120 days is 2026-03-02: quoting that day is on time.
    assert audit(tmp_path, [quote_line(quote_date="2026-03-02", valid_until="2026-04-01")]) == []
    found = audit(tmp_path, [quote_line(quote_date="2026-03-03", valid_until="2026-04-02")])
    assert brief(found) == [("late_quote", "", "2026-03-02", "2026-03-03")]
    assert not found[0].is_error and passes(found)
    assert (
        found[0].message == "quoted 2026-03-03, after the lead-time deadline 2026-03-02 "
        "(contract ends 2026-06-30)"
    )


def test_short_validity(tmp_path: Path) -> None:
    found = audit(tmp_path, [quote_line(valid_until="2026-03-02")])
    assert brief(found) == [("short_validity", "", "2026-03-03", "2026-03-02")]
    assert passes(found)


def test_total_mismatch_within_and_beyond_tolerance(tmp_path: Path) -> None:
    quote = quote_line(quote_total="9975.01")
    assert brief(audit(tmp_path, [quote])) == [("total_mismatch", "", "9975.00", "9975.01")]
    assert audit(tmp_path, [quote], rules={"tolerance": "0.01"}) == []


def test_duplicate_quote_flags_each_quote_after_the_first_by_id(tmp_path: Path) -> None:
    quotes = [quote_line(quote_id="Q-3"), quote_line(quote_id="Q-1"), quote_line(quote_id="Q-2")]
    found = audit(tmp_path, quotes)
    assert [(f.quote_id, f.rule, f.expected) for f in found] == [
        ("Q-2", "duplicate_quote", "Q-1"),
        ("Q-3", "duplicate_quote", "Q-1"),
    ]


def test_unknown_opportunity_is_the_only_finding(tmp_path: Path) -> None:
    quote = quote_line(opportunity_id="OPP-404", currency="EUR", unit_price="1", quote_total="5")
    found = audit(tmp_path, [quote])
    assert brief(found) == [("unknown_opportunity", "", "", "OPP-404")]
    assert found[0].opportunity_id == "OPP-404"


def test_missing_and_extra_lines(tmp_path: Path) -> None:
    opps = [opportunity_line(), opportunity_line(line_no=2, sku="NET-LIC-200", quantity=1)]
    extra = quote_line(
        line_no=2, sku="NET-ZZZ-999", unit_price="1.00", line_amount="10.00", quote_total="9985.00"
    )
    found = audit(tmp_path, [quote_line(quote_total="9985.00"), extra], opps)
    assert brief(found) == [
        ("missing_line", "NET-LIC-200", "NET-LIC-200", ""),
        ("extra_line", "NET-ZZZ-999", "", "NET-ZZZ-999"),
    ]
    assert found[0].line_no is None and found[1].line_no == 2


@pytest.mark.parametrize(
    ("sku", "rule"), [("NET-NEW-400", "unknown_sku"), ("NET-OLD-300", "inactive_sku")]
)
def test_unpriceable_lines_get_no_price_or_quantity_check(
    tmp_path: Path, sku: str, rule: str
) -> None:
    opp = opportunity_line(sku=sku)
    quote = quote_line(
        sku=sku, quantity=3, unit_price="1.00", line_amount="3.00", quote_total="3.00"
    )
    found = audit(tmp_path, [quote], [opp])
    assert brief(found) == [(rule, sku, "", sku)]
    assert found[0].message.endswith("in USD" if rule == "unknown_sku" else "in USD is inactive")


def test_quantity_mismatch(tmp_path: Path) -> None:
    quote = quote_line(quantity=11, line_amount="10972.50", quote_total="10972.50")
    assert brief(audit(tmp_path, [quote])) == [("quantity_mismatch", "NET-SUP-100", "10", "11")]


def test_unit_price_mismatch(tmp_path: Path) -> None:
    quote = quote_line(unit_price="997.51", line_amount="9975.10", quote_total="9975.10")
    found = audit(tmp_path, [quote])
    assert brief(found) == [("unit_price_mismatch", "NET-SUP-100", "997.50", "997.51")]
    assert found[0].line_no == 1 and found[0].field == "unit_price"
    assert audit(tmp_path, [quote], rules={"tolerance": "0.01"}) == []


def test_discount_over_cap(tmp_path: Path) -> None:
    # base 1050.00, enterprise max_discount 0.20: nothing below 840.00 is allowed.
    quote = quote_line(unit_price="839.99", line_amount="8399.90", quote_total="8399.90")
    found = audit(tmp_path, [quote])
    assert brief(found) == [
        ("discount_over_cap", "NET-SUP-100", "840.00", "839.99"),
        ("unit_price_mismatch", "NET-SUP-100", "997.50", "839.99"),
    ]
    at_floor = quote_line(unit_price="840.00", line_amount="8400.00", quote_total="8400.00")
    assert [f.rule for f in audit(tmp_path, [at_floor])] == ["unit_price_mismatch"]


def test_line_amount_mismatch_uses_the_quotes_own_price_and_quantity(tmp_path: Path) -> None:
    quote = quote_line(line_amount="9975.01", quote_total="9975.01")
    assert brief(audit(tmp_path, [quote])) == [
        ("line_amount_mismatch", "NET-SUP-100", "9975.00", "9975.01")
    ]


def test_booking_rules(tmp_path: Path) -> None:
    bookings = [
        {
            "quote_id": "Q-1",
            "po_number": "PO-1",
            "po_date": "2026-03-01",
            "po_amount": "9975.10",
            "po_currency": "EUR",
        },
        {
            "quote_id": "Q-9",
            "po_number": "PO-9",
            "po_date": "2026-03-01",
            "po_amount": "1.00",
            "po_currency": "USD",
        },
    ]
    found = audit(tmp_path, [quote_line()], bookings=bookings)
    assert [(f.quote_id, f.rule, f.expected, f.actual) for f in found] == [
        ("Q-1", "po_amount_mismatch", "9975.00", "9975.10"),
        ("Q-1", "po_currency_mismatch", "USD", "EUR"),
        ("Q-9", "unknown_quote", "", "Q-9"),
    ]
    assert found[2].message == "PO PO-9 books quote Q-9, which is not in the quotes"
