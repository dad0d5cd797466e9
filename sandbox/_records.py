"""How the portal's rows become records and export files (AUDIT_SPEC's CSV columns)."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import date
from decimal import Decimal

from sandbox._util import optional_date
from sandbox.models import (
    Booking,
    CustomerPO,
    Opportunity,
    OpportunityLine,
    OpportunitySummary,
    Quote,
    QuoteLine,
)

OPPORTUNITY_COLUMNS = [
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
    "line_end",
    "renew",
]
QUOTE_COLUMNS = [
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
    "line_start",
    "line_end",
    "unit_price",
    "line_amount",
    "quote_total",
]
BOOKING_COLUMNS = ["quote_id", "po_number", "po_date", "po_amount", "po_currency"]


def to_csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return out.getvalue()


def summary(row: sqlite3.Row) -> OpportunitySummary:
    """A list row, from `opportunities` joined with its account and counts."""
    return OpportunitySummary(
        opportunity_id=row["opportunity_id"],
        account_name=row["name"],
        segment=row["segment"],
        currency=row["currency"],
        contract_end=optional_date(row["contract_end"]),
        renewal_term_months=row["renewal_term_months"],
        line_count=row["line_count"],
        quote_number=row["quote_number"],
    )


def opportunity(row: sqlite3.Row, lines: list[sqlite3.Row]) -> Opportunity:
    """An opportunity with its install-base lines (with the price book's descriptions)."""
    return Opportunity(
        opportunity_id=row["opportunity_id"],
        account_id=row["account_id"],
        account_name=row["name"],
        segment=row["segment"],
        currency=row["currency"],
        contract_end=optional_date(row["contract_end"]),
        renewal_term_months=row["renewal_term_months"],
        lines=[
            OpportunityLine(
                line_no=line["line_no"],
                sku=line["sku"],
                description=line["description"] or "",
                quantity=line["quantity"],
                prior_unit_price=(
                    Decimal(line["prior_unit_price"]) if line["prior_unit_price"] else None
                ),
                line_end=optional_date(line["line_end"]),
                renew=bool(line["renew"]),
            )
            for line in lines
        ],
    )


def quote(conn: sqlite3.Connection, row: sqlite3.Row) -> Quote:
    """A quote with its lines, customer PO and booking, from its `quotes` row."""
    number, cur = row["quote_number"], row["currency"]
    lines = conn.execute(
        "SELECT * FROM quote_lines WHERE quote_number = ? ORDER BY line_no", (number,)
    ).fetchall()
    po = conn.execute("SELECT * FROM customer_pos WHERE quote_number = ?", (number,)).fetchone()
    booking = conn.execute("SELECT * FROM bookings WHERE quote_number = ?", (number,)).fetchone()
    return Quote(
        quote_number=number,
        opportunity_id=row["opportunity_id"],
        external_ref=row["external_ref"],
        status=row["status"],
        quote_date=date.fromisoformat(row["quote_date"]),
        valid_until=date.fromisoformat(row["valid_until"]),
        currency=cur,
        term_start=date.fromisoformat(row["term_start"]),
        term_end=date.fromisoformat(row["term_end"]),
        lines=[
            QuoteLine(
                line_no=line["line_no"],
                sku=line["sku"],
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
                line_amount=Decimal(line["line_amount"]),
                line_start=date.fromisoformat(line["line_start"]),
                line_end=date.fromisoformat(line["line_end"]),
            )
            for line in lines
        ],
        total=Decimal(row["total"]),
        customer_po=None
        if po is None
        else CustomerPO(
            po_number=po["po_number"],
            po_date=date.fromisoformat(po["po_date"]),
            amount=Decimal(po["amount"]),
            currency=po["currency"],
            pdf_name=po["pdf_name"],
        ),
        order_number=row["order_number"],
        booking=None
        if booking is None
        else Booking(
            order_number=booking["order_number"],
            po_number=booking["po_number"],
            po_date=date.fromisoformat(booking["po_date"]),
            po_amount=Decimal(booking["po_amount"]),
            pdf_name=booking["pdf_name"],
            booked_on=date.fromisoformat(booking["booked_on"]),
        ),
    )
