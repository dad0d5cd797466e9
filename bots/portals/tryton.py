"""Tryton 8.0 through its web client (sao): renewals are sale opportunities, quotes are sales.

How quotebot's intents map onto Tryton (the seed in sandbox/tryton writes data this way):

- a renewal is a `sale.opportunity` in state "opportunity": its number is the opportunity
  id, `end_date` the contract end, the description "<segment> renewal, <n> months", its
  lines the install base (product code = SKU);
- a quote is a `sale.sale` in state "quotation", its record id the quote number; the
  reference field holds the work item's reference, the description "Renewal of <opp> (<ref>),
  term <start>..<end>" (a sale has no term and no link we can type; the description keeps
  our reference after booking replaces the reference field);
- the customer accepts by writing "Customer PO: <number>, <date>, <amount> <currency>" in
  the sale's comment; booking enters the PO number as the sale's reference and confirms:
  the order number is then the sale's number.

The web client itself is driven by `bots.portals.sao`.
"""

from __future__ import annotations

import json
import re
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loguru import logger

from bots._errors import BusinessError, InputNotTaken, PortalError
from bots.portals.base import (
    CustomerPO,
    DueOpportunity,
    PortalPage,
    PortalQuote,
    QuoteReadBack,
    requires,
)
from bots.portals.sao import (
    SaoBot,
    amount,
    domain_date,
    selected,
    selection,
    shown_date,
    unknown_if_never_offered,
)
from schemas import (
    ExpectedLine,
    ExpectedQuote,
    Opportunity,
    OpportunityLine,
    QuoteLineSnapshot,
    QuoteSnapshot,
)

ORDERED = {"confirmed", "processing", "done"}
_DESCRIPTION = re.compile(r"^(?P<segment>\w+) renewal, (?P<months>\d+) months$")
_SALE = re.compile(
    r"^Renewal of (?P<opp>\S+) \((?P<ref>[^)]*)\), term (?P<start>[\d-]+)\.\.(?P<end>[\d-]+)$"
)
_PO = re.compile(
    r"Customer PO: (?P<number>[^,]+), (?P<date>[\d-]+), (?P<amount>[\d.]+) (?P<currency>[A-Z]{3})"
)
_SALE_FIELDS = (  # what the bot reads or types on a sale's form
    *("number", "party", "reference", "description", "comment", "currency", "state"),
    *("quotation_date", "quotation_expire", "untaxed_amount", "lines"),
)
_SKU = re.compile(r"^\[(?P<sku>[^\]]+)\]")


class TrytonBot(SaoBot):
    """Reads renewal opportunities, quotes and books them as sales in Tryton's web client."""

    flavour = "tryton"
    carries_line_dates = False  # a sale line has no dates of its own
    required = requires(
        login="username next password submit",
        home="logged_in tab_close dialog",
        opportunities="table counter rows switch rows.number rows.party rows.end_date",
        opportunity="rows row_select switch number party description end_date currency "
        "lines_tab lines lines_count lines_more rows.party lines.product lines.quantity",
        sales="table counter rows new switch next",
        sale="number party reference description comment currency quotation_date "
        "quotation_expire state total lines lines_count lines_more add_line line_product "
        "line_quantity line_unit_price focused_number line_ok line_next completion "
        "save quote confirm warning_ok error "
        "lines.product lines.quantity lines.unit_price lines.amount",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parties: dict[str, str] = {}
        """Each opportunity's party as last read: the new sale's customer."""

    # -- reading --------------------------------------------------------------------

    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        domain = [
            ["state", "=", "opportunity"],
            ["end_date", ">=", domain_date(start)],
            ["end_date", "<=", domain_date(end)],
        ]
        view = self._list("opportunities", domain)
        due = [
            DueOpportunity(r["number"], r["party"], self._date(r["end_date"], "end date"))
            for r in view.rows("rows")
        ]
        return sorted(due, key=lambda d: (d.contract_end or date.max, d.opportunity_id))

    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        view = self._list("opportunity", [["number", "=", opportunity_id]])
        if view("rows").count() != 1:
            raise BusinessError(
                "unknown_opportunity", f"Tryton has no opportunity {opportunity_id}"
            )
        view = self._to_form(view, "opportunity", number=opportunity_id)
        shown = self.values(view, "party", "description", "end_date", "currency")
        described = _DESCRIPTION.match(shown["description"].strip())
        if described is None:
            raise BusinessError(
                "unreadable_description",
                f"{opportunity_id}: description is not '<segment> renewal, <n> months'",
            )
        view("lines_tab").click()  # the notebook page's rows load when it is shown
        lines = []
        for no, row in enumerate(self._wait_lines(view), 1):
            sku = _SKU.match(row["product"])
            if sku is None:
                raise BusinessError(
                    "unknown_sku", f"{opportunity_id}: line {no} has no product code"
                )
            quantity = amount(row["quantity"], "quantity")
            lines.append(OpportunityLine(line_no=no, sku=sku["sku"], quantity=int(quantity)))
        ends = shown["end_date"]
        self._parties[opportunity_id] = shown["party"].strip()
        return Opportunity(
            opportunity_id=opportunity_id,
            account_name=self._parties[opportunity_id],
            segment=described["segment"],
            currency=self._currency(shown["currency"]),
            contract_end=self._date(ends, "end date") if ends.strip() else None,
            renewal_term_months=int(described["months"]),
            lines=tuple(lines),
        )

    def _date(self, text: str, what: str) -> date:
        return shown_date(text, what, self.map.date_format)

    def _currency(self, shown: str) -> str:
        """The ISO code of a currency as the form names it (the map's `currencies`)."""
        name = shown.strip()
        if name not in self.map.currencies:
            raise BusinessError("unknown_currency", f"currency '{name[:40]}' is not known")
        return self.map.currencies[name]

    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[PortalQuote]:
        domain: list[object] = []
        if opportunity_id:
            domain.append(["description", "ilike", f"Renewal of {opportunity_id} (%"])
        if external_ref:
            domain.append(["description", "ilike", f"% ({external_ref}), term %"])
        view = self._list("sales", domain)
        count = view("rows").count()
        found: list[PortalQuote] = []
        if count:
            sale = self._to_form(view, "sale")
            for index in range(count):
                if index:
                    view("next").click()
                    self.settle()
                described = _SALE.match(sale("description").input_value().strip())
                if described is None:
                    continue
                found.append(
                    PortalQuote(
                        self._record_id(),
                        described["opp"],
                        described["ref"],
                        selection(sale("state")),
                    )
                )
        return [
            q
            for q in found
            if (external_ref is None or q.external_ref == external_ref)
            and (opportunity_id is None or q.opportunity_id == opportunity_id)
        ]

    def read_quote(self, quote_number: str) -> QuoteReadBack:
        view = self._shown_sale(quote_number) or self._open_sale(quote_number)
        shown = self.values(
            view,
            *("description", "state", "currency", "total", "quotation_date", "quotation_expire"),
            *("comment", "number"),
        )
        described = _SALE.match(shown["description"].strip())
        if described is None:
            raise BusinessError("not_a_renewal", f"sale {quote_number} is not a renewal quote")
        lines = tuple(
            QuoteLineSnapshot(
                line_no=no,
                sku=(_SKU.match(r["product"]) or {"sku": r["product"]})["sku"],
                quantity=int(amount(r["quantity"], "quantity")),
                unit_price=amount(r["unit_price"], "unit price"),
                line_amount=amount(r["amount"], "amount"),
            )
            for no, r in enumerate(self._wait_lines(view), 1)
        )
        state = selected(shown["state"])
        quoted = shown["quotation_date"].strip()
        expires = shown["quotation_expire"].strip()
        today = date.today()
        snapshot = QuoteSnapshot(
            quote_id=quote_number,
            opportunity_id=described["opp"],
            quote_date=self._date(quoted, "quotation date") if quoted else today,
            valid_until=self._date(expires, "quotation expire") if expires else today,
            currency=self._currency(shown["currency"]),
            term_start=date.fromisoformat(described["start"]),
            term_end=date.fromisoformat(described["end"]),
            lines=lines,
            quote_total=amount(shown["total"], "total"),
        )
        po = _PO.search(shown["comment"])
        customer_po = (
            CustomerPO(
                po["number"].strip(),
                date.fromisoformat(po["date"]),
                Decimal(po["amount"]),
                po["currency"],
            )
            if po
            else None
        )
        number = shown["number"].strip()
        return QuoteReadBack(
            snapshot=snapshot,
            external_ref=described["ref"],
            status=state,
            customer_po=customer_po,
            order_number=number if state in ORDERED else None,
        )

    # -- entering -------------------------------------------------------------------

    def save_quote(self, expected: ExpectedQuote, reference: str) -> str:
        party = self._parties.get(expected.opportunity_id) or self._party(expected.opportunity_id)
        # an empty list only for its New button: no need to wait for its (no) rows
        view = self._open("sales", domain=json.dumps([["id", "=", -1]]))
        view("new").click()
        sale = PortalPage(self, "sale", self.map.page("sale"))
        sale("party").wait_for()
        sale.require("party", "reference", "description", "add_line", "save", "quote")
        self._step("open new sale")
        self._choose(sale, sale("party"), party)
        sale("reference").fill(reference)
        sale("description").fill(
            f"Renewal of {expected.opportunity_id} ({reference}), "
            f"term {expected.term_start.isoformat()}..{expected.term_end.isoformat()}"
        )
        self._step("party")
        sale("add_line").click()
        for index, line in enumerate(expected.lines):
            self._enter_line(sale, line)
            if index < len(expected.lines) - 1:
                # "Add and New": the dialog stays, emptied for the next line (once opened)
                sale("line_next").click()
                self._wait_value(sale("line_product"), "", f"the line after {line.sku}")
            else:
                sale("line_ok").click()
                sale("line_product").wait_for(state="detached")  # closing (fading out)
            self._step("line: OK")
        self._wait_total(sale, expected.quote_total)
        self._step("total check")
        sale("save").click()
        self._wait_saved("sale", "sale.sale")
        self._step("save")
        return self._record_id()

    def _wait_total(self, sale: PortalPage, total: Decimal, wait_s: float = 3.0) -> None:
        """Until the sale shows `total` (the server sums the lines as the dialog closes)."""
        if not self._shows(sale("total").first, total, wait_s):
            shown = sale("total").first.input_value().strip()
            raise PortalError("editor_total", f"Tryton shows {shown}, expected {total}")

    def _enter_line(self, sale: PortalPage, line: ExpectedLine) -> None:
        """Product, then quantity (the server prices it from the product and quantity),
        then the unit price where the server's is not ours; then all three checked. A
        line that does not keep them is typed again."""

        def once() -> None:
            self._choose(sale, sale("line_product"), line.sku)
            self._step("line: product")
            self._type_number(sale, "line_quantity", Decimal(line.quantity))
            self._step("line: quantity")
            if not self._shows(sale("line_unit_price").first, line.unit_price, wait_s=0):
                self._type_number(sale, "line_unit_price", line.unit_price)
            self._step("line: unit price")
            kept = self._line_kept(sale, line)
            self._step("line: check")
            if not kept:
                raise InputNotTaken(
                    "line_not_taken", f"the line for {line.sku} did not keep its values"
                )

        self.in_place(f"tryton line {line.sku}", once, exhausted=unknown_if_never_offered)

    def _line_kept(self, sale: PortalPage, line: ExpectedLine, wait_s: float = 2.0) -> bool:
        """Whether the line's dialog shows the product, quantity and unit price typed (a
        number field is blank while it redraws: asked again for a moment)."""
        # A loop: three fields, two of them compared as numbers, whatever their format.
        deadline = time.monotonic() + wait_s
        while True:
            shown = [
                sale(key).first.input_value().strip()
                for key in ("line_product", "line_quantity", "line_unit_price")
            ]
            try:
                numbers = (amount(shown[1], "quantity"), amount(shown[2], "unit price"))
            except PortalError:
                numbers = None
            if shown[0].startswith(f"[{line.sku}]") and numbers == (line.quantity, line.unit_price):
                return True
            if time.monotonic() > deadline:
                logger.debug("tryton: line {} shows {}, typing it again", line.sku, shown)
                return False
            self.page.wait_for_timeout(20)

    def _party(self, opportunity_id: str) -> str:
        """The opportunity's party from the list (after a restart, nothing was read yet)."""
        opportunity = self._list("opportunity", [["number", "=", opportunity_id]])
        rows = opportunity.rows("rows")
        if len(rows) != 1:
            raise BusinessError("unknown_opportunity", f"no opportunity {opportunity_id}")
        return rows[0]["party"]

    def _open_sale(self, quote_number: str) -> PortalPage:
        return self.open_record("sale", quote_number, _SALE_FIELDS, quote_number=quote_number)

    def _shown_sale(self, quote_number: str) -> PortalPage | None:
        """The sale's form when it is what the page shows, saved, and nothing else is open
        (right after `save_quote`): no need to load it again."""
        # the address may go on with the list's domain: ".../sale.sale/7;domain=..."
        fragment = urlsplit(self.page.url).fragment
        if not re.search(rf"/model/sale\.sale/{quote_number}(;|$)", fragment):
            return None
        app = PortalPage(self, "home", self.map.page("home"))
        sale = PortalPage(self, "sale", self.map.page("sale"))
        if app("tab_close").count() != 1 or app("dialog").count() or not sale("number").count():
            return None
        return sale

    def submit_quote(self, quote_number: str) -> None:
        view = self._shown_sale(quote_number) or self._open_sale(quote_number)
        if selection(view("state")) != "draft":
            return
        self._click_and_wait_state("sale", "quote", {"quotation"}, "quote")

    # -- booking --------------------------------------------------------------------

    def download_po(self, quote_number: str, folder: Path) -> Path:
        """Tryton keeps no PO document: the PO as the customer wrote it in the comment."""
        view = self._open_sale(quote_number)
        found = _PO.search(view("comment").input_value())
        if found is None:
            raise BusinessError("no_po", f"sale {quote_number} has no customer PO")
        target = folder / f"{quote_number}-po.txt"
        target.write_text(found.group(0) + "\n", encoding="utf-8")
        return target

    def book(self, quote_number: str, po: CustomerPO, pdf: Path) -> str:
        view = self._open_sale(quote_number)
        view.require("confirm", "save")
        shown = self.values(view, "state", "reference", "number")
        if selected(shown["state"]) in ORDERED:
            return shown["number"].strip()
        # saved by a run killed before its Confirm: sao keeps Save disabled for a record
        # with nothing changed, and a click on it would wait for ever
        if shown["reference"].strip() != po.po_number:
            view("reference").fill(po.po_number)
            view("reference").press("Tab")  # the record counts as changed when it is left
            self.settle()
            view("save").click()
            self.settle()
            self._raise_dialog("sale", "save PO")
        self._click_and_wait_state("sale", "confirm", ORDERED, "confirm")
        return view("number").input_value().strip()
