"""The per-quote audit of whole files: `check_quote` on each quote, one at a time.

The reference the batch audit is tested and benchmarked against. Plain `csv` and pydantic
models, no pandas; it expects files that `audit.readers` accepts.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from audit.checks import check_booking, check_quote
from schemas.booking import Booking
from schemas.findings import Finding
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import QuoteLineSnapshot, QuoteSnapshot
from schemas.rules import PricingRules, load_rules


def audit_models(
    rules: PricingRules,
    opportunities: Mapping[str, Opportunity],
    quotes: Sequence[QuoteSnapshot],
    bookings: Sequence[Booking] = (),
) -> list[Finding]:
    """All findings on `quotes` and `bookings`, in findings.csv order."""
    quote_ids: dict[str, list[str]] = defaultdict(list)
    for quote in quotes:
        quote_ids[quote.opportunity_id].append(quote.quote_id)
    findings: list[Finding] = []
    for quote in quotes:
        opportunity = opportunities.get(quote.opportunity_id)
        others = quote_ids[quote.opportunity_id]
        findings += check_quote(opportunity, quote, rules, prior_quote_ids=others)
    snapshots = {quote.quote_id: quote for quote in quotes}
    for booking in bookings:
        findings += check_booking(booking, snapshots.get(booking.quote_id), rules)
    return sorted(findings, key=Finding.sort_key)


def audit_files_reference(
    rules_path: str | Path,
    opportunities_path: str | Path,
    quotes_path: str | Path,
    bookings_path: str | Path | None = None,
) -> list[Finding]:
    """`audit_models` over AUDIT_SPEC's files."""
    rules = load_rules(rules_path)
    bookings = read_bookings(Path(bookings_path)) if bookings_path else []
    return audit_models(
        rules,
        read_opportunities(Path(opportunities_path)),
        read_quotes(Path(quotes_path)),
        bookings,
    )


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _grouped(path: Path, key: str) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows(path):
        groups[row[key]].append(row)
    return groups


def read_opportunities(path: Path) -> dict[str, Opportunity]:
    found = {}
    for opportunity_id, rows in _grouped(path, "opportunity_id").items():
        first = rows[0]
        lines = tuple(
            OpportunityLine(
                line_no=int(row["line_no"]),
                sku=row["sku"],
                quantity=int(row["quantity"]),
                prior_unit_price=Decimal(row["prior_unit_price"])
                if row["prior_unit_price"]
                else None,
                line_end=_day(row.get("line_end")),
                renew=(row.get("renew") or "yes") == "yes",
            )
            for row in rows
        )
        found[opportunity_id] = Opportunity(
            opportunity_id=opportunity_id,
            account_id=first["account_id"],
            account_name=first["account_name"],
            segment=first["segment"],
            currency=first["currency"],
            contract_end=date.fromisoformat(first["contract_end"]),
            renewal_term_months=int(first["renewal_term_months"]),
            lines=lines,
        )
    return found


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def read_quotes(path: Path) -> list[QuoteSnapshot]:
    quotes = []
    for quote_id, rows in _grouped(path, "quote_id").items():
        first = rows[0]
        lines = tuple(
            QuoteLineSnapshot(
                line_no=int(row["line_no"]),
                sku=row["sku"],
                quantity=int(row["quantity"]),
                unit_price=Decimal(row["unit_price"]),
                line_amount=Decimal(row["line_amount"]),
                # A file with line-date columns: an empty cell is the quote's own term.
                line_start=None
                if "line_start" not in row
                else _day(row["line_start"]) or date.fromisoformat(first["term_start"]),
                line_end=None
                if "line_end" not in row
                else _day(row["line_end"]) or date.fromisoformat(first["term_end"]),
            )
            for row in rows
        )
        quotes.append(
            QuoteSnapshot(
                quote_id=quote_id,
                opportunity_id=first["opportunity_id"],
                quote_date=date.fromisoformat(first["quote_date"]),
                valid_until=date.fromisoformat(first["valid_until"]),
                currency=first["currency"],
                term_start=date.fromisoformat(first["term_start"]),
                term_end=date.fromisoformat(first["term_end"]),
                lines=lines,
                quote_total=Decimal(first["quote_total"]),
            )
        )
    return quotes


def read_bookings(path: Path) -> list[Booking]:
    return [
        Booking(
            quote_id=row["quote_id"],
            po_number=row["po_number"],
            po_date=date.fromisoformat(row["po_date"]),
            po_amount=Decimal(row["po_amount"]),
            po_currency=row["po_currency"],
        )
        for row in _rows(path)
    ]
