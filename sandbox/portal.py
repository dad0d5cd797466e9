"""The portal's business operations, pure Python over its database, shared by every flavour.

Both UI flavours (acme's JSON API, globex's server-rendered pages) call only this class,
so the two portals differ in how they look and behave, never in what they store.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sandbox import _records
from sandbox import _util as u
from sandbox._proration import charge, year_share
from sandbox.db import Database
from sandbox.models import (
    Booking,
    CustomerPO,
    Opportunity,
    OpportunityLine,
    OpportunitySummary,
    Page,
    PortalValidationError,
    Quote,
    QuoteLine,
)

__all__ = [
    "Booking",
    "CustomerPO",
    "Opportunity",
    "OpportunityLine",
    "OpportunitySummary",
    "Page",
    "Portal",
    "PortalValidationError",
    "Quote",
    "QuoteLine",
]

LineInput = tuple[object, ...]
"""`(sku, quantity, unit_price[, line_start, line_end])` as typed into an editor."""
VALIDITY_DAYS = 30
PO_SHARE_PERCENT = 60
SORTS = {
    "contract_end": "o.contract_end IS NULL, o.contract_end, o.opportunity_id",
    "-contract_end": "o.contract_end IS NULL, o.contract_end DESC, o.opportunity_id",
    "account_name": "a.name COLLATE NOCASE, o.opportunity_id",
    "-account_name": "a.name COLLATE NOCASE DESC, o.opportunity_id",
    "opportunity_id": "o.opportunity_id",
    "-opportunity_id": "o.opportunity_id DESC",
}


class Portal:
    """Every business operation of the simulated client portal."""

    def __init__(self, db_path: Path, *, today: date | None = None) -> None:
        self.db = Database(db_path)
        self.today = today or date.today()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.db.read()

    @property
    def proration(self) -> str:
        """How this portal prorates a line that runs part of a year (see `_proration`)."""
        return self._meta("proration", "month_day")

    def _meta(self, key: str, default: str = "") -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else default

    # --- users -------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> bool:
        row = self._conn.execute(
            "SELECT salt, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        if row is None:
            u.check_password(password, "timing", "0" * 64)  # same cost for unknown users
            return False
        return u.check_password(password, row["salt"], row["password_hash"])

    def totp_secret(self, username: str) -> str | None:
        row = self._conn.execute(
            "SELECT totp_secret FROM users WHERE username = ?", (username,)
        ).fetchone()
        return row["totp_secret"] if row else None

    # --- opportunities -----------------------------------------------------------------

    def _window(self, end_from: date | None, end_to: date | None) -> tuple[str, list[object]]:
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        if end_from is not None:
            clauses.append("o.contract_end >= ?")
            params.append(end_from.isoformat())
        if end_to is not None:
            clauses.append("o.contract_end <= ?")
            params.append(end_to.isoformat())
        return " AND ".join(clauses), params

    def list_opportunities(
        self,
        *,
        end_from: date | None = None,
        end_to: date | None = None,
        sort: str = "contract_end",
        page: int = 1,
        per_page: int = 25,
    ) -> Page[OpportunitySummary]:
        if sort not in SORTS:
            raise PortalValidationError("sort", f"unknown sort {sort!r}; one of {sorted(SORTS)}")
        page, per_page = max(1, page), min(max(1, per_page), 200)
        where, params = self._window(end_from, end_to)
        base = f"FROM opportunities o JOIN accounts a USING (account_id) WHERE {where}"
        total = self._conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
        rows = self._conn.execute(
            "SELECT o.*, a.name, a.segment,"
            " (SELECT count(*) FROM opportunity_lines l"
            "   WHERE l.opportunity_id = o.opportunity_id) AS line_count,"
            " (SELECT max(q.quote_number) FROM quotes q"
            "   WHERE q.opportunity_id = o.opportunity_id) AS quote_number"
            f" {base} ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page],
        ).fetchall()
        items = [_records.summary(r) for r in rows]
        return Page(items=items, page=page, per_page=per_page, total=total)

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        row = self._conn.execute(
            "SELECT o.*, a.name, a.segment FROM opportunities o JOIN accounts a"
            " USING (account_id) WHERE o.opportunity_id = ?",
            (opportunity_id,),
        ).fetchone()
        if row is None:
            raise KeyError(opportunity_id)
        lines = self._conn.execute(
            "SELECT l.*, p.description FROM opportunity_lines l LEFT JOIN price_book p"
            " ON p.sku = l.sku AND p.currency = ? WHERE l.opportunity_id = ? ORDER BY l.line_no",
            (row["currency"], opportunity_id),
        ).fetchall()
        return _records.opportunity(row, lines)

    def opportunities_csv(self, *, end_from: date | None = None, end_to: date | None = None) -> str:
        """AUDIT_SPEC's opportunities.csv for the opportunities ending in the window."""
        where, params = self._window(end_from, end_to)
        rows = self._conn.execute(
            "SELECT o.opportunity_id, o.account_id, a.name, a.segment, o.currency,"
            " o.contract_end, o.renewal_term_months, l.line_no, l.sku, l.quantity,"
            " l.prior_unit_price, l.line_end, CASE l.renew WHEN 1 THEN 'yes' ELSE 'no' END"
            " FROM opportunities o JOIN accounts a USING (account_id)"
            " JOIN opportunity_lines l USING (opportunity_id)"
            f" WHERE {where} ORDER BY o.opportunity_id, l.line_no",
            params,
        ).fetchall()
        return _records.to_csv(_records.OPPORTUNITY_COLUMNS, [list(r) for r in rows])

    # --- price book --------------------------------------------------------------------

    def search_skus(self, query: str, currency: str, limit: int = 10) -> list[tuple[str, str]]:
        """Active SKUs in the currency whose code or description contains the query."""
        pattern = "%" + query.strip().replace("%", "").replace("_", "\\_") + "%"
        rows = self._conn.execute(
            "SELECT sku, description FROM price_book WHERE currency = ? AND active = 1"
            " AND (sku LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')"
            " ORDER BY sku LIMIT ?",
            (currency, pattern, pattern, max(1, min(limit, 50))),
        ).fetchall()
        return [(r["sku"], r["description"]) for r in rows]

    def default_unit_price(self, sku: str, currency: str) -> Decimal | None:
        """The price the quote editor pre-fills: the portal's own, possibly stale, default."""
        row = self._conn.execute(
            "SELECT default_price FROM price_book WHERE sku = ? AND currency = ? AND active = 1",
            (sku, currency),
        ).fetchone()
        return Decimal(row["default_price"]) if row else None

    # --- quotes ------------------------------------------------------------------------

    def _checked_lines(
        self, currency: str, lines: Sequence[LineInput], term_start: date, term_end: date
    ) -> list[tuple[str, int, Decimal, date, date]]:
        """Each line validated, with its own period (the whole term unless it says)."""
        if not lines:
            raise PortalValidationError("lines", "a quote needs at least one line")
        checked: list[tuple[str, int, Decimal, date, date]] = []
        seen: set[str] = set()
        for index, (raw_sku, raw_qty, raw_price, *dates) in enumerate(lines):
            sku = str(raw_sku).strip()
            row = self._conn.execute(
                "SELECT active, save_price FROM price_book WHERE sku = ? AND currency = ?",
                (sku, currency),
            ).fetchone()
            if row is None:
                raise PortalValidationError(f"lines.{index}.sku", f"unknown SKU {sku!r}")
            if not row["active"]:
                raise PortalValidationError(f"lines.{index}.sku", f"SKU {sku} is inactive")
            if sku in seen:
                raise PortalValidationError(f"lines.{index}.sku", f"SKU {sku} is already quoted")
            seen.add(sku)
            quantity = u.parse_int(raw_qty, f"lines.{index}.quantity")
            if quantity < 1:
                raise PortalValidationError(f"lines.{index}.quantity", "quantity must be ≥ 1")
            price = u.parse_decimal(raw_price, f"lines.{index}.unit_price")
            if price < 0:
                raise PortalValidationError(f"lines.{index}.unit_price", "price must be ≥ 0")
            if price != u.round_money(price, currency):
                raise PortalValidationError(
                    f"lines.{index}.unit_price",
                    f"at most {u.places(currency)} decimals in {currency}",
                )
            start, end = _line_period(index, dates, term_start, term_end)
            if row["save_price"] is not None:  # planted: a stale server-side price book
                price = Decimal(row["save_price"])
            checked.append((sku, quantity, price, start, end))
        return checked

    def save_quote(
        self,
        opportunity_id: str,
        *,
        external_ref: str,
        term_start: date,
        term_end: date,
        lines: Sequence[LineInput],
        quote_number: str | None = None,
    ) -> Quote:
        """Create a draft quote, or update the draft `quote_number`; the portal prices lines.

        A line is `(sku, quantity, unit_price)`, or with its own `line_start, line_end`
        (either may be None: the term's); its amount is prorated by the portal's method."""
        try:
            opp = self.get_opportunity(opportunity_id)
        except KeyError:
            raise PortalValidationError("opportunity_id", f"unknown {opportunity_id!r}") from None
        external_ref = str(external_ref).strip()
        if len(external_ref) > 64:
            raise PortalValidationError("external_ref", "at most 64 characters")
        term_start = u.parse_date(term_start, "term_start")
        term_end = u.parse_date(term_end, "term_end")
        if term_end < term_start:
            raise PortalValidationError("term_end", "term end is before term start")
        checked = self._checked_lines(opp.currency, lines, term_start, term_end)
        method, places = self.proration, u.places(opp.currency)
        priced = [
            (
                sku,
                qty,
                price,
                start,
                end,
                charge(price, qty, year_share(start, end, method), places),
            )
            for sku, qty, price, start, end in checked
        ]
        total = sum((line[-1] for line in priced), Decimal(0))
        shift = self._conn.execute(
            "SELECT term_end_shift_days FROM opportunities WHERE opportunity_id = ?",
            (opportunity_id,),
        ).fetchone()[0]
        stored_end = term_end + timedelta(days=shift)  # planted: off-by-one for some
        cur = opp.currency
        with self.db.write() as conn:
            if quote_number is None:
                quote_number = f"Q-{self.db.next_number(conn, 'quote'):06d}"
                conn.execute(
                    "INSERT INTO quotes (quote_number, opportunity_id, external_ref, status,"
                    " quote_date, valid_until, currency, term_start, term_end, total)"
                    " VALUES (?, ?, '', 'draft', '', '', ?, '', '', '0')",
                    (quote_number, opportunity_id, cur),
                )
            else:
                row = conn.execute(
                    "SELECT opportunity_id, status FROM quotes WHERE quote_number = ?",
                    (quote_number,),
                ).fetchone()
                if row is None or row["opportunity_id"] != opportunity_id:
                    raise PortalValidationError("quote_number", f"no draft {quote_number}")
                if row["status"] != "draft":
                    raise PortalValidationError("status", f"{quote_number} is {row['status']}")
            conn.execute(
                "UPDATE quotes SET external_ref = ?, quote_date = ?, valid_until = ?,"
                " term_start = ?, term_end = ?, total = ? WHERE quote_number = ?",
                (
                    external_ref,
                    self.today.isoformat(),
                    (self.today + timedelta(days=VALIDITY_DAYS)).isoformat(),
                    term_start.isoformat(),
                    stored_end.isoformat(),
                    u.money_str(total, cur),
                    quote_number,
                ),
            )
            conn.execute("DELETE FROM quote_lines WHERE quote_number = ?", (quote_number,))
            conn.executemany(
                "INSERT INTO quote_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        quote_number,
                        n,
                        sku,
                        qty,
                        u.money_str(p, cur),
                        u.money_str(a, cur),
                        start.isoformat(),
                        end.isoformat(),
                    )
                    for n, (sku, qty, p, start, end, a) in enumerate(priced, start=1)
                ],
            )
        return self.get_quote(quote_number)

    def _accepts(self, opportunity_id: str) -> bool:
        digest = hashlib.sha256(f"{self._meta('seed', '0')}:{opportunity_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 100 < PO_SHARE_PERCENT

    def submit_quote(self, quote_number: str) -> Quote:
        """Draft -> submitted; the customer accepts some at once and sends a PO."""
        quote = self.get_quote(quote_number)
        if quote.status != "draft":
            raise PortalValidationError("status", f"{quote_number} is already {quote.status}")
        with self.db.write() as conn:
            updated = conn.execute(
                "UPDATE quotes SET status = 'submitted'"
                " WHERE quote_number = ? AND status = 'draft'",
                (quote_number,),
            ).rowcount
            if updated != 1:
                raise PortalValidationError("status", f"{quote_number} is no longer a draft")
            if self._accepts(quote.opportunity_id):
                digest = hashlib.sha256(f"{self._meta('seed', '0')}:{quote_number}".encode())
                po_number = f"PO-{int(digest.hexdigest()[:12], 16) % 10**8:08d}"
                amount = u.money_str(quote.total, quote.currency)
                pdf = u.minimal_pdf(
                    [
                        "PURCHASE ORDER",
                        f"PO number: {po_number}",
                        f"Date: {self.today.isoformat()}",
                        f"Quote: {quote_number} (opportunity {quote.opportunity_id})",
                        f"Amount: {amount} {quote.currency}",
                    ]
                )
                conn.execute(
                    "INSERT INTO customer_pos VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        quote_number,
                        po_number,
                        self.today.isoformat(),
                        amount,
                        quote.currency,
                        f"{po_number}.pdf",
                        pdf,
                    ),
                )
        return self.get_quote(quote_number)

    def get_quote(self, quote_number: str) -> Quote:
        row = self._conn.execute(
            "SELECT * FROM quotes WHERE quote_number = ?", (quote_number,)
        ).fetchone()
        if row is None:
            raise KeyError(quote_number)
        return _records.quote(self._conn, row)

    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[Quote]:
        """Quotes matching every given criterion exactly, oldest first."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        if external_ref:
            clauses.append("external_ref = ?")
            params.append(external_ref.strip())
        if opportunity_id:
            clauses.append("opportunity_id = ?")
            params.append(opportunity_id.strip())
        rows = self._conn.execute(
            f"SELECT * FROM quotes WHERE {' AND '.join(clauses)} ORDER BY quote_number", params
        ).fetchall()
        return [_records.quote(self._conn, row) for row in rows]

    def quotes_csv(self) -> str:
        """AUDIT_SPEC's quotes.csv: every line of every submitted or booked quote."""
        rows = self._conn.execute(
            "SELECT q.quote_number, q.opportunity_id, q.quote_date, q.valid_until, q.currency,"
            " q.term_start, q.term_end, l.line_no, l.sku, l.quantity, l.line_start, l.line_end,"
            " l.unit_price,"
            " l.line_amount, q.total FROM quotes q JOIN quote_lines l USING (quote_number)"
            " WHERE q.status != 'draft' ORDER BY q.quote_number, l.line_no"
        ).fetchall()
        return _records.to_csv(_records.QUOTE_COLUMNS, [list(r) for r in rows])

    def bookings_csv(self) -> str:
        """AUDIT_SPEC's bookings.csv: one row per booked quote, as entered."""
        rows = self._conn.execute(
            "SELECT b.quote_number, b.po_number, b.po_date, b.po_amount, q.currency"
            " FROM bookings b JOIN quotes q USING (quote_number) ORDER BY b.quote_number"
        ).fetchall()
        return _records.to_csv(_records.BOOKING_COLUMNS, [list(r) for r in rows])

    # --- customer acceptance and booking -----------------------------------------------

    def po_pdf(self, quote_number: str) -> bytes:
        """The customer's PO document (KeyError when the quote has no PO)."""
        row = self._conn.execute(
            "SELECT pdf FROM customer_pos WHERE quote_number = ?", (quote_number,)
        ).fetchone()
        if row is None:
            raise KeyError(quote_number)
        return bytes(row["pdf"])

    def book(
        self,
        quote_number: str,
        *,
        po_number: str,
        po_date: date,
        po_amount: Decimal,
        pdf_name: str,
        pdf: bytes,
    ) -> str:
        """Book an accepted quote against its customer PO; returns the order number."""
        try:
            quote = self.get_quote(quote_number)
        except KeyError:
            raise PortalValidationError("quote_number", f"unknown quote {quote_number}") from None
        if quote.status == "booked":
            raise PortalValidationError("status", f"{quote_number} is already booked")
        if quote.status != "submitted":
            raise PortalValidationError("status", f"{quote_number} is not submitted")
        if quote.customer_po is None:
            raise PortalValidationError("po_number", f"{quote_number} has no customer PO")
        po_number = str(po_number).strip()
        if not po_number:
            raise PortalValidationError("po_number", "PO number is required")
        if po_number != quote.customer_po.po_number:
            raise PortalValidationError("po_number", "PO number does not match the customer PO")
        po_date = u.parse_date(po_date, "po_date")
        amount = u.parse_decimal(po_amount, "po_amount")
        if amount < 0:
            raise PortalValidationError("po_amount", "amount must be ≥ 0")
        if not pdf:
            raise PortalValidationError("pdf", "the PO document (PDF) is required")
        if not pdf.startswith(b"%PDF"):
            raise PortalValidationError("pdf", "the PO document is not a PDF")
        with self.db.write() as conn:
            updated = conn.execute(
                "UPDATE quotes SET status = 'booked' WHERE quote_number = ? AND status = ?",
                (quote_number, "submitted"),
            ).rowcount
            if updated != 1:
                raise PortalValidationError("status", f"{quote_number} is already booked")
            order_number = f"SO-{self.db.next_number(conn, 'order'):06d}"
            conn.execute(
                "UPDATE quotes SET order_number = ? WHERE quote_number = ?",
                (order_number, quote_number),
            )
            conn.execute(
                "INSERT INTO bookings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    order_number,
                    quote_number,
                    po_number,
                    po_date.isoformat(),
                    str(amount),
                    pdf_name or "po.pdf",
                    pdf,
                    self.today.isoformat(),
                ),
            )
        return order_number


def _line_period(
    index: int, dates: list[object], term_start: date, term_end: date
) -> tuple[date, date]:
    """A line's own period as typed (blank: the term's), inside the quote's term."""
    raw_start, raw_end = (list(dates) + [None, None])[:2]
    start = (
        term_start
        if raw_start in (None, "")
        else u.parse_date(raw_start, f"lines.{index}.line_start")
    )
    end = term_end if raw_end in (None, "") else u.parse_date(raw_end, f"lines.{index}.line_end")
    if not term_start <= start <= term_end:
        raise PortalValidationError(
            f"lines.{index}.line_start",
            f"the line must start within the term ({term_start} to {term_end})",
        )
    if not start <= end <= term_end:
        raise PortalValidationError(
            f"lines.{index}.line_end",
            f"the line must end from its start to the term end {term_end}",
        )
    return start, end
