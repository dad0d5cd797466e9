"""Globex Partner Portal: a legacy server-rendered portal, its quote editor in an iframe.

Every action is a form post and a full page reload, so each step waits for the reloaded
page to show the step's result (one more line, a quote number, a status) or a validation
box, never for time to pass.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots._errors import BusinessError, PortalError, portal_answer
from bots.portals._page_per_url import PAGE_PER_URL, PagePerUrlBot
from bots.portals.base import (
    CustomerPO,
    PortalPage,
    own_period,
    requires,
)
from schemas import ExpectedQuote


class GlobexBot(PagePerUrlBot):
    """Reads, quotes and books in a Globex portal."""

    flavour = "globex"
    required = requires(
        PAGE_PER_URL,
        opportunity="opportunity_id",
        editor="term_start term_end external_ref lines sku quantity unit_price line_start "
        "line_end add_line save submit confirm_yes quote_number quote_status validation",
        draft_editor="quote_number quote_status submit confirm_yes",
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
