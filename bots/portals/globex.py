"""Globex Partner Portal: a legacy server-rendered portal, its quote editor in an iframe.

Every action is a form post and a full page reload, so each step waits for the reloaded
page to show the step's result (one more line, a quote number, a status) or a validation
box, never for time to pass.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from playwright.sync_api import Locator, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots._errors import BusinessError, PortalError, portal_answer
from bots.portals.base import (
    PAGE_PER_URL,
    CustomerPO,
    DueOpportunity,
    PortalBot,
    PortalPage,
    PortalQuote,
    QuoteReadBack,
    install_base,
    own_period,
    parse_date,
    quote_lines,
    quote_search,
    read_back,
    read_opportunity_page,
    requires,
)
from schemas import ExpectedQuote, Opportunity


class GlobexBot(PortalBot):
    """Reads, quotes and books in a Globex portal."""

    flavour = "globex"
    required = requires(
        PAGE_PER_URL,
        opportunities="rows next rows.opportunity_id rows.account rows.contract_end",
        opportunity="opportunity_id lines lines.line_no lines.sku lines.quantity "
        "lines.prior_unit_price lines.line_end lines.renew",
        editor="term_start term_end external_ref lines sku quantity unit_price line_start "
        "line_end add_line save submit confirm_yes quote_number quote_status validation",
        draft_editor="quote_number quote_status submit confirm_yes",
        quote_search="rows rows.quote_number rows.opportunity_id rows.external_ref rows.status",
        quote="lines lines.line_no lines.sku lines.quantity lines.unit_price lines.line_amount "
        "lines.line_start lines.line_end",
        booking="order_number validation",
    )

    def _postback(self, view: PortalPage, button: str, *, done: Locator) -> None:
        """Click a submit button, then wait for `done` or the validation box of the reload."""
        with self.page.expect_response(
            lambda r: r.request.method == "POST" and r.request.is_navigation_request()
        ) as answer:
            view(button).click()
        self._check_answer(answer.value, button)
        validation = view("validation")
        try:
            done.or_(validation).first.wait_for()
        except PlaywrightTimeout:
            raise PortalError(
                "no_answer", f"{view.name}.{button}: the page did not reload"
            ) from None
        if validation.count() and validation.first.is_visible():
            raise BusinessError("portal_validation", " ".join(validation.inner_text().split()))

    def _check_answer(self, response: Response, what: str) -> None:
        if response.status >= 500:
            status = response.status
            raise portal_answer(f"http_{status}", f"{what} answered {status}", after_write=True)
        location = response.headers.get("location", "")
        if response.status in (301, 302, 303, 307) and "/login" in location:
            raise portal_answer("session_lost", f"{what}: the session expired", after_write=True)

    # -- reading --------------------------------------------------------------------

    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        due: list[DueOpportunity] = []
        page_no = 1
        while True:
            view = self.open("opportunities", end_from=start, end_to=end, page=page_no)
            for row in view.rows("rows"):
                ends = row["contract_end"]
                contract_end = parse_date(ends, "contract end") if ends else None
                due.append(DueOpportunity(row["opportunity_id"], row["account"], contract_end))
            if view("next").count() == 0:
                return due
            page_no += 1

    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        view = self.open("opportunity", opportunity_id=opportunity_id)
        return read_opportunity_page(view, opportunity_id, install_base(view))

    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[PortalQuote]:
        view = self.open(
            "quote_search", external_ref=external_ref or "", opportunity_id=opportunity_id or ""
        )
        return quote_search(view, external_ref)

    def read_quote(self, quote_number: str) -> QuoteReadBack:
        view = self.open("quote", quote_number=quote_number)
        return read_back(view, quote_lines(view))

    def save_quote(self, expected: ExpectedQuote, reference: str) -> str:
        view = self.open("editor", opportunity_id=expected.opportunity_id)
        view.require(
            "term_start",
            "term_end",
            "external_ref",
            "sku",
            "quantity",
            "unit_price",
            "line_start",
            "line_end",
            "add_line",
            "save",
        )
        for line_count, line in enumerate(expected.lines, start=1):
            # Header fields travel with every postback; the reload keeps what was typed.
            view("term_start").fill(expected.term_start.isoformat())
            view("term_end").fill(expected.term_end.isoformat())
            view("external_ref").fill(reference)
            try:
                view("sku").select_option(value=line.sku)
            except PlaywrightTimeout:
                raise BusinessError(
                    "unknown_sku", f"the portal does not offer {line.sku}"
                ) from None
            view("quantity").fill(str(line.quantity))
            view("unit_price").fill(str(line.unit_price))  # overwrite the pre-filled price
            start, end = own_period(line, expected)
            view("line_start").fill(start)
            view("line_end").fill(end)
            self._postback(view, "add_line", done=view("lines").nth(line_count - 1))
        view("term_start").fill(expected.term_start.isoformat())
        view("term_end").fill(expected.term_end.isoformat())
        view("external_ref").fill(reference)
        self._postback(view, "save", done=view("quote_number"))
        return view.text("quote_number")

    def submit_quote(self, quote_number: str) -> None:
        view = self._editor_showing(quote_number)
        if view is None:
            view = self.open("draft_editor", quote_number=quote_number)
        if view.text("quote_status").lower() != "draft":
            return
        view.require("submit")
        self._postback(view, "submit", done=view("confirm_yes"))
        self._postback(view, "confirm_yes", done=view("quote_status").filter(has_text="Submitted"))

    def _editor_showing(self, quote_number: str) -> PortalPage | None:
        """The editor still on screen after saving this quote, if it is."""
        view = PortalPage(self, "editor", self.map.page("editor"))
        number = view("quote_number")
        if number.count() == 1 and number.inner_text().strip() == quote_number:
            return view
        return None

    # -- booking --------------------------------------------------------------------

    def book(self, quote_number: str, po: CustomerPO, pdf: Path) -> str:
        view = self.fill_booking(quote_number, po, pdf)
        self._postback(view, "book", done=view("order_number"))
        return view.text("order_number")
