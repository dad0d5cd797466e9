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

from bots._errors import BusinessError, PortalError
from bots.portals.base import (
    CustomerPO,
    DueOpportunity,
    PortalBot,
    PortalPage,
    PortalQuote,
    QuoteReadBack,
    parse_date,
    parse_money,
    read_back,
    read_opportunity_page,
)
from schemas import ExpectedQuote, Opportunity, OpportunityLine, QuoteLineSnapshot

_CELLS = "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))"


def _cells(rows: Locator) -> list[list[str]]:
    result: list[list[str]] = rows.evaluate_all(_CELLS)
    return result


class GlobexBot(PortalBot):
    """Reads, quotes and books in a Globex portal."""

    flavour = "globex"

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
            raise PortalError(f"http_{response.status}", f"{what} answered {response.status}")
        location = response.headers.get("location", "")
        if response.status in (301, 302, 303, 307) and "/login" in location:
            raise PortalError("session_lost", f"{what}: the session expired")

    # -- reading --------------------------------------------------------------------

    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        due: list[DueOpportunity] = []
        page_no = 1
        while True:
            view = self.open("opportunities", end_from=start, end_to=end, page=page_no)
            for cells in _cells(view("rows")):
                if len(cells) < 5 or not cells[0]:
                    continue  # the "No records" row
                end_text = cells[4]
                contract_end = parse_date(end_text, "contract end") if end_text else None
                due.append(DueOpportunity(cells[0], cells[1], contract_end))
            if view("next").count() == 0:
                return due
            page_no += 1

    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        view = self.open("opportunity", opportunity_id=opportunity_id)
        lines = []
        for cells in _cells(view("lines")):
            if len(cells) < 5:
                raise PortalError("unexpected_page", f"install-base row has {len(cells)} cells")
            line_no, sku, _description, quantity, prior = cells[:5]
            lines.append(
                OpportunityLine(
                    line_no=int(line_no),
                    sku=sku,
                    quantity=int(quantity),
                    prior_unit_price=parse_money(prior, f"{sku} prior price") if prior else None,
                )
            )
        return read_opportunity_page(view, opportunity_id, lines)

    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[PortalQuote]:
        view = self.open(
            "quote_search", external_ref=external_ref or "", opportunity_id=opportunity_id or ""
        )
        found = []
        for cells in _cells(view("rows")):
            if len(cells) < 4 or not cells[0]:
                continue  # the "No records" row
            found.append(PortalQuote(cells[0], cells[1], cells[2], cells[3].lower()))
        # The portal's search matches parts of a reference; only an exact one is ours.
        return [q for q in found if external_ref is None or q.external_ref == external_ref]

    def read_quote(self, quote_number: str) -> QuoteReadBack:
        view = self.open("quote", quote_number=quote_number)
        lines = []
        for cells in _cells(view("lines")):
            if len(cells) < 5 or not cells[1]:
                continue
            lines.append(
                QuoteLineSnapshot(
                    line_no=int(cells[0]),
                    sku=cells[1],
                    quantity=int(cells[2]),
                    unit_price=parse_money(cells[3], f"{cells[1]} unit price"),
                    line_amount=parse_money(cells[4], f"{cells[1]} amount"),
                )
            )
        return read_back(view, tuple(lines))

    def save_quote(self, expected: ExpectedQuote, reference: str) -> str:
        view = self.open("editor", opportunity_id=expected.opportunity_id)
        view.require(
            "term_start",
            "term_end",
            "external_ref",
            "sku",
            "quantity",
            "unit_price",
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
