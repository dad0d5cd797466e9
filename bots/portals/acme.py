"""Acme Renewals: a single-page app over a JSON API, every control with a test id.

The SPA answers in the page, not with page loads: each step waits for the result it
expects (a saved quote number, the quote page, an order number), an error toast, or the
login page, whichever comes first.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator
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

_NOT_EMPTY = re.compile(r"\S")
_ROW_INPUTS = ("line_sku", "line_quantity", "line_unit_price", "line_start", "line_end")


class AcmeBot(PagePerUrlBot):
    """Reads, quotes and books in an Acme portal."""

    flavour = "acme"
    required = requires(
        PAGE_PER_URL,
        opportunity="title",
        editor="form term_start term_end external_ref line_rows line_sku sku_option_of "
        "sku_no_match line_quantity line_unit_price line_start line_end add_line total save "
        "saved_number submit confirm_ok toast_error field_error",
        quote="edit",
        booking="order_number confirm_ok book toast_error field_error",
    )

    def _outcome(self, view: PortalPage, done: Locator, what: str, since: int) -> None:
        """Wait for `done`, an error toast or field error, or the login page. An error shown
        after the portal failed a request (5xx, a dropped connection) since `since` (the
        bot's `troubles` before the click) is the portal's trouble, not a verdict on the
        data."""
        toast, field = view("toast_error").first, view("field_error").first
        login_box = self.page.locator(self.map.page("login").selectors["username"]).first
        try:
            done.first.or_(toast).or_(field).or_(login_box).first.wait_for()
        except PlaywrightTimeout:
            raise portal_answer("no_answer", f"{what}: the portal did not answer") from None
        if done.first.is_visible():
            return
        if login_box.is_visible():
            raise portal_answer("session_lost", f"{what}: the session expired", after_write=True)
        message = " ".join((field if field.is_visible() else toast).inner_text().split())
        if self.troubles > since:
            raise portal_answer(self.last_trouble, f"{what}: {message}", after_write=True)
        if "(503)" in message:  # the editor's own words for a 503 its request met
            raise portal_answer("http_503", f"{what}: {message}", after_write=True)
        raise BusinessError("portal_validation", f"{what}: {message}")

    def save_quote(self, expected: ExpectedQuote, reference: str) -> str:
        view = self.open("editor", opportunity_id=expected.opportunity_id)
        view.require(
            "term_start",
            "term_end",
            "external_ref",
            "line_rows",
            "line_sku",
            "line_quantity",
            "line_unit_price",
            "line_start",
            "line_end",
            "add_line",
            "total",
            "save",
        )
        view("term_start").fill(expected.term_start.isoformat())
        view("term_end").fill(expected.term_end.isoformat())
        view("external_ref").fill(reference)
        typed = []
        for index, line in enumerate(expected.lines):
            if index:
                view("add_line").click()
            row = view("line_rows").nth(index)
            self._choose_sku(view, row, line.sku)
            start, end = own_period(line, expected)
            values = [line.sku, str(line.quantity), str(line.unit_price), start, end]
            for key, value in zip(_ROW_INPUTS[1:], values[1:], strict=True):
                row.locator(view.spec.selectors[key]).fill(value)
            typed.append(values)
        self._check_typed(view, typed)
        since = self.troubles
        view("save").click()
        saved = view("saved_number").filter(has_text=_NOT_EMPTY)
        self._outcome(view, saved, "save quote", since)
        return saved.inner_text().strip()

    def _check_typed(self, view: PortalPage, typed: list[list[str]]) -> None:
        """Every row's inputs hold what was typed (a late pre-fill overwrites a price)."""
        selectors = [view.spec.selectors[key] for key in _ROW_INPUTS]
        shown = view("line_rows").evaluate_all(
            "(rows, keys) => rows.map(r => keys.map(k => r.querySelector(k).value.trim()))",
            selectors,
        )
        if shown != typed:
            raise PortalError(
                "editor_input", f"the editor's lines hold {shown}, the bot typed {typed}"
            )

    def _choose_sku(self, view: PortalPage, row: Locator, sku: str) -> None:
        """Type into the typeahead, pick the SKU, and wait until the editor has pre-filled
        the portal's default price (it is overwritten right after: it may be stale). The
        answer arriving is not enough: the editor's script fills the field later, and a
        price typed before then is replaced. A busy portal is asked again."""
        box = row.locator(view.spec.selectors["line_sku"])
        price = row.locator(view.spec.selectors["line_unit_price"])
        option = row.locator(
            view.spec.selectors["sku_option_of"].format(sku=sku.replace("'", "\\'"))
        )
        no_match = row.locator(view.spec.selectors["sku_no_match"])

        def once() -> None:
            box.fill("")
            toasts = view("toast_error").count()
            box.fill(sku)
            fresh_toast = view("toast_error").nth(toasts)
            option.or_(no_match).or_(fresh_toast).first.wait_for()
            if option.is_visible():
                with self.page.expect_response(lambda r: "/api/prices" in r.url) as answer:
                    option.click()
                if answer.value.status < 500:
                    default = answer.value.json().get("unit_price")
                    if default is not None:
                        self.page.wait_for_function(
                            "([box, value]) => box.value === value",
                            arg=[price.element_handle(), default],
                        )
                    return
                status = answer.value.status
                raise portal_answer(f"http_{status}", f"the price of SKU {sku} did not arrive")
            if no_match.is_visible():
                raise BusinessError("unknown_sku", f"the portal offers no SKU {sku}")
            raise portal_answer(self.last_trouble, f"the SKU search for {sku} failed")

        self.in_place(f"acme SKU search {sku}", once)

    def submit_quote(self, quote_number: str) -> None:
        view = PortalPage(self, "editor", self.map.page("editor"))
        number = view("saved_number")
        if not (number.count() == 1 and number.inner_text().strip() == quote_number):
            quote = self.open("quote", quote_number=quote_number)
            if quote.text("status").lower() != "draft":
                return
            quote.require("edit")
            since = self.troubles
            quote("edit").click()
            view = self.ready("editor")
            opened = view("saved_number").filter(has_text=quote_number)
            self._outcome(view, opened, "open draft", since)
        view.require("submit")
        since = self.troubles
        view("submit").click()
        view("confirm_ok").click()
        submitted = self.page.locator(self.map.page("quote").selectors["status"]).filter(
            has_text="submitted"
        )
        self._outcome(view, submitted, "submit quote", since)

    # -- booking --------------------------------------------------------------------

    def book(self, quote_number: str, po: CustomerPO, pdf: Path) -> str:
        view = self.fill_booking(quote_number, po, pdf)
        since = self.troubles
        view("book").click()
        view("confirm_ok").click()
        order = view("order_number").filter(has_text=_NOT_EMPTY)
        self._outcome(view, order, "book order", since)
        return order.inner_text().strip()
