"""Builders of AUDIT_SPEC files for the audit tests: rules, opportunities, quotes, bookings."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from audit.readers import BOOKING_COLUMNS, OPPORTUNITY_COLUMNS, QUOTE_COLUMNS

SKUS = ["NET-SUP-100", "NET-LIC-200", "NET-OLD-300", "NET-NEW-400"]
CURRENCIES = ["USD", "EUR", "JPY"]
PLACES = {"USD": 2, "EUR": 2, "JPY": 0}
RULES: dict[str, Any] = {
    "client": "acme",
    "currency_places": {"USD": 2, "EUR": 2, "JPY": 0},
    "price_book": [
        {"sku": "NET-SUP-100", "family": "support", "currency": "USD", "list_price": "1200.00"},
        {"sku": "NET-SUP-100", "family": "support", "currency": "JPY", "list_price": "130000"},
        {"sku": "NET-LIC-200", "family": "license", "currency": "USD", "list_price": "500.00"},
        {"sku": "NET-LIC-200", "family": "license", "currency": "EUR", "list_price": "450.00"},
        {
            "sku": "NET-OLD-300",
            "family": "license",
            "currency": "USD",
            "list_price": "99.99",
            "active": False,
        },
    ],
    "uplift": {"support": "0.05", "default": "0.03"},
    "cap_at_list": True,
    "volume_tiers": [
        {"min_qty": 1, "discount": "0"},
        {"min_qty": 10, "discount": "0.05"},
        {"min_qty": 50, "discount": "0.10"},
    ],
    "term_discounts": [
        {"min_months": 1, "discount": "0"},
        {"min_months": 24, "discount": "0.03"},
        {"min_months": 36, "discount": "0.05"},
    ],
    "max_discount": {"enterprise": "0.20", "commercial": "0.12", "smb": "0.08"},
    "lead_days": 120,
    "validity_days": 30,
    "tolerance": "0.00",
}

OPPORTUNITY = {
    "opportunity_id": "OPP-1",
    "account_id": "A-1",
    "account_name": "Initech",
    "segment": "enterprise",
    "currency": "USD",
    "contract_end": "2026-06-30",
    "renewal_term_months": "12",
}
QUOTE = {
    "quote_id": "Q-1",
    "opportunity_id": "OPP-1",
    "quote_date": "2026-02-01",
    "valid_until": "2026-03-03",
    "currency": "USD",
    "term_start": "2026-07-01",
    "term_end": "2027-06-30",
}


def write_rules(path: Path, changes: Mapping[str, Any] | None = None) -> Path:
    path.write_text(yaml.safe_dump({**RULES, **(changes or {})}, sort_keys=False))
    return path


def write_csv(path: Path, columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: "" if v is None else str(v) for k, v in row.items()} for row in rows)
    return path


def write_opportunities(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_csv(path, OPPORTUNITY_COLUMNS, rows)


def write_quotes(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_csv(path, QUOTE_COLUMNS, rows)


def write_bookings(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_csv(path, BOOKING_COLUMNS, rows)


def opportunity_line(**values: Any) -> dict[str, Any]:
    """One opportunities.csv row: OPP-1's header with the line's fields."""
    line = {"line_no": 1, "sku": "NET-SUP-100", "quantity": 10, "prior_unit_price": "1000.00"}
    return {**OPPORTUNITY, **line, **values}


def quote_line(**values: Any) -> dict[str, Any]:
    """One quotes.csv row: Q-1's header with a correctly priced line for the default
    opportunity line (1000 x 1.05 = 1050, 5% volume discount: 997.50, 12 months)."""
    line = {
        "line_no": 1,
        "sku": "NET-SUP-100",
        "quantity": 10,
        "unit_price": "997.50",
        "line_amount": "9975.00",
        "quote_total": "9975.00",
    }
    return {**QUOTE, **line, **values}


def test_default_rows_are_a_clean_quote(tmp_path: Path) -> None:
    from audit.batch import audit_files

    result = audit_files(
        write_rules(tmp_path / "rules.yaml"),
        write_opportunities(tmp_path / "o.csv", [opportunity_line()]),
        write_quotes(tmp_path / "q.csv", [quote_line()]),
    )
    assert result.findings.empty and result.quotes == 1 and result.passed == 1
