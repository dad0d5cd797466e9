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

Traps of the web client handled here: a page is opened by closing the app's tabs and
following the URL fragment, as sao's address bar does (a fresh load of the app only when
something unexpected shows, which is also where drift is reported); numeric fields swap
to a second input on focus (the visible one is typed into); a new record's defaults, and
the unit price after a quantity, arrive from the server a moment later, so typing waits
until no RPC request is in flight.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from loguru import logger
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Request
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots._errors import BusinessError, PortalError, SelectorDrift
from bots.portals.base import (
    READ_ATTEMPTS,
    CustomerPO,
    DueOpportunity,
    PortalBot,
    PortalPage,
    PortalQuote,
    QuoteReadBack,
    parse_money,
    row_texts,
)
from schemas import (
    ExpectedLine,
    ExpectedQuote,
    Opportunity,
    OpportunityLine,
    QuoteLineSnapshot,
    QuoteSnapshot,
)
from schemas.selector_map import SelectorMap

DATE_FORMAT = "%m/%d/%Y"  # the bot user's language (English) shows dates this way
CURRENCIES = {"U.S. Dollar": "USD", "Euro": "EUR", "Japanese Yen": "JPY"}
ORDERED = {"confirmed", "processing", "done"}
_DESCRIPTION = re.compile(r"^(?P<segment>\w+) renewal, (?P<months>\d+) months$")
_SALE = re.compile(
    r"^Renewal of (?P<opp>\S+) \((?P<ref>[^)]*)\), term (?P<start>[\d-]+)\.\.(?P<end>[\d-]+)$"
)
_PO = re.compile(
    r"Customer PO: (?P<number>[^,]+), (?P<date>[\d-]+), (?P<amount>[\d.]+) (?P<currency>[A-Z]{3})"
)
_SKU = re.compile(r"^\[(?P<sku>[^\]]+)\]")
_ACTIVE_REQUESTS = "() => (window.jQuery ? window.jQuery.active : 0)"


def _tryton_date(value: date) -> dict[str, object]:
    return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}


def _shown_date(text: str, what: str) -> date:
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).date()
    except ValueError:
        raise PortalError("unreadable_date", f"{what}: '{text[:40]}' is not a date") from None


def _amount(text: str, what: str) -> Decimal:
    return parse_money(re.sub(r"[^\d.,-]", "", text), what)


def _state(select: Locator) -> str:
    """A selection's value (sao keeps it JSON-encoded in the option: '"draft"')."""
    return select.input_value().strip().strip('"')


def _cells(rows: Locator, titles: list[str]) -> list[dict[str, str]]:
    """Each list row's cells by column title (sao writes it in every cell), in one round trip."""
    return row_texts(rows, {t: f'td[data-title="{t}: "] .widget' for t in titles})


class TrytonBot(PortalBot):
    """Reads renewal opportunities, quotes and books them as sales in Tryton's web client."""

    flavour = "tryton"

    def __init__(
        self,
        page: Page,
        base_url: str,
        selector_map: SelectorMap,
        relogin: Callable[[], None],
        *,
        timeout_ms: float = 30_000,
    ) -> None:
        # a full load of the app takes seconds: a longer default wait than a server-side page
        super().__init__(page, base_url, selector_map, relogin, timeout_ms=timeout_ms)
        self._in_flight: set[Request] = set()
        self._parties: dict[str, str] = {}
        """Each opportunity's party as last read: the new sale's customer."""
        self.page.on("request", self._sent)
        self.page.on("requestfinished", self._answered)
        self.page.on("requestfailed", self._answered)

    def _sent(self, request: Request) -> None:
        if "/rpc/" in request.url:
            self._in_flight.add(request)

    def _answered(self, request: Request) -> None:
        self._in_flight.discard(request)

    def settle(self, quiet_s: float = 0.15) -> None:
        """Wait until no RPC request has been in flight for `quiet_s` (on_change answers).

        In flight is what the app itself counts (sao's requests go through jQuery.ajax,
        which counts them at once) or what the browser reported sending: the browser's
        report alone reaches us late on a busy machine."""
        deadline = time.monotonic() + self.timeout_ms / 1000
        quiet_since: float | None = None
        while True:
            now = time.monotonic()
            if self._in_flight or self._app_requests() > 0:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= quiet_s:
                return
            if now > deadline:
                raise PortalError("no_answer", "Tryton kept a request open too long")
            self.page.wait_for_timeout(25)

    def _app_requests(self) -> int:
        try:
            active: int = self.page.evaluate(_ACTIVE_REQUESTS)
        except PlaywrightError:
            return 1  # the page is between documents: not settled
        return active

    def open(self, name: str, **params: object) -> PortalPage:
        """The page as a single tab of the app, nothing left over from the last page.

        Where the app is already loaded, its tabs are closed by their close buttons and the
        page is opened by its URL fragment, as sao follows the address bar: no reload of
        the app. Anything unexpected on that path (a tab that will not close quietly, a
        dialog, a page that does not show) falls back to a fresh load of the app, the
        only path that can report selector drift.
        """
        if self._close_tabs():
            try:
                view = super().open(name, **params)
                self.settle()
                return view
            except (PortalError, SelectorDrift) as exc:
                logger.debug("tryton: {} by its fragment failed, loading the app: {}", name, exc)
        self.page.goto("about:blank")
        view = super().open(name, **params)
        self.settle()
        return view

    def _close_tabs(self) -> bool:
        """Close every tab of a loaded app; False when the app is not loaded, a dialog is
        open, or a tab asks before closing (changes not saved)."""
        if urlsplit(self.page.url).path != urlsplit(self.base_url).path:
            return False
        app = PortalPage(self, "home", self.map.page("home"))
        try:
            if not app("logged_in").count() or app("dialog").count():
                return False
            for _ in range(app("tab_close").count()):
                left = app("tab_close").count()
                app("tab_close").first.click()
                deadline = time.monotonic() + 5
                while app("tab_close").count() >= left:
                    if app("dialog").count() or time.monotonic() > deadline:
                        return False
                    self.page.wait_for_timeout(50)
            # with the last tab gone, sao points the address at the bare database
            return urlsplit(self.page.url).fragment == urlsplit(self.url("home")).fragment
        except PlaywrightError:
            return False

    def _list(self, name: str, domain: list[object]) -> PortalPage:
        """A list filtered by `domain`, once its counter ("_/6") and its rows agree."""
        view = self.open(name, domain=json.dumps(domain))
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            counter = re.search(r"/\s*(\d+)\s*$", view("counter").first.inner_text())
            if counter and view("rows").count() >= int(counter.group(1)):
                return view
            if time.monotonic() > deadline:
                raise PortalError("list_not_loaded", f"{name}: the list did not load")
            self.page.wait_for_timeout(100)

    def _to_form(self, view: PortalPage, form: str) -> PortalPage:
        """Select the first row and switch to the form view (page `form` of the map)."""
        view("rows").first.locator("td.selection-state input").check()
        view("switch").click()
        record = PortalPage(self, form, self.map.page(form))
        record("number").wait_for()
        self.settle()
        return record

    def _wait_lines(self, view: PortalPage) -> None:
        """Until every line the counter announces ("_ / 3") is a row of the list."""
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            counter = re.search(r"(\d+)\s*$", view("lines_count").first.inner_text())
            expected = int(counter.group(1)) if counter else -1
            if expected >= 0 and view("lines").count() >= expected:
                break
            if view("lines_more").count() and view("lines_more").first.is_visible():
                view("lines_more").first.click()
            if time.monotonic() > deadline:
                raise PortalError("lines_not_loaded", "the lines did not load")
            self.page.wait_for_timeout(100)
        self.settle()

    def _record_id(self) -> str:
        found = re.search(r"/model/[\w.]+/(\d+)", self.page.url)
        if not found:
            raise PortalError("no_record", f"no record id in {self.page.url}")
        return found.group(1)

    # -- reading --------------------------------------------------------------------

    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        domain = [
            ["state", "=", "opportunity"],
            ["end_date", ">=", _tryton_date(start)],
            ["end_date", "<=", _tryton_date(end)],
        ]
        view = self._list("opportunities", domain)
        rows = _cells(view("rows"), ["Number", "Party", "End Date"])
        due = [
            DueOpportunity(r["Number"], r["Party"], _shown_date(r["End Date"], "end date"))
            for r in rows
        ]
        return sorted(due, key=lambda d: (d.contract_end or date.max, d.opportunity_id))

    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        view = self._list("opportunity", [["number", "=", opportunity_id]])
        if view("rows").count() != 1:
            raise BusinessError(
                "unknown_opportunity", f"Tryton has no opportunity {opportunity_id}"
            )
        view = self._to_form(view, "opportunity")
        view.require("party", "description", "end_date", "currency")
        described = _DESCRIPTION.match(view("description").input_value().strip())
        if described is None:
            raise BusinessError(
                "unreadable_description",
                f"{opportunity_id}: description is not '<segment> renewal, <n> months'",
            )
        view("lines_tab").click()  # the notebook page's rows load when it is shown
        self._wait_lines(view)
        lines = []
        for no, row in enumerate(_cells(view("lines"), ["Product", "Quantity"]), 1):
            sku = _SKU.match(row["Product"])
            if sku is None:
                raise BusinessError(
                    "unknown_sku", f"{opportunity_id}: line {no} has no product code"
                )
            quantity = _amount(row["Quantity"], "quantity")
            lines.append(OpportunityLine(line_no=no, sku=sku["sku"], quantity=int(quantity)))
        ends = view("end_date").input_value()
        self._parties[opportunity_id] = view("party").input_value().strip()
        return Opportunity(
            opportunity_id=opportunity_id,
            account_name=self._parties[opportunity_id],
            segment=described["segment"],
            currency=self._currency(view("currency").input_value()),
            contract_end=_shown_date(ends, "end date") if ends.strip() else None,
            renewal_term_months=int(described["months"]),
            lines=tuple(lines),
        )

    @staticmethod
    def _currency(shown: str) -> str:
        name = shown.strip()
        if name not in CURRENCIES:
            raise BusinessError("unknown_currency", f"currency '{name[:40]}' is not known")
        return CURRENCIES[name]

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
                        self._record_id(), described["opp"], described["ref"], _state(sale("state"))
                    )
                )
        return [
            q
            for q in found
            if (external_ref is None or q.external_ref == external_ref)
            and (opportunity_id is None or q.opportunity_id == opportunity_id)
        ]

    def read_quote(self, quote_number: str) -> QuoteReadBack:
        view = self.open("sale", quote_number=quote_number)
        view.require("description", "state", "currency", "total")
        described = _SALE.match(view("description").input_value().strip())
        if described is None:
            raise BusinessError("not_a_renewal", f"sale {quote_number} is not a renewal quote")
        self._wait_lines(view)
        lines = tuple(
            QuoteLineSnapshot(
                line_no=no,
                sku=(_SKU.match(r["Product"]) or {"sku": r["Product"]})["sku"],
                quantity=int(_amount(r["Quantity"], "quantity")),
                unit_price=_amount(r["Unit Price"], "unit price"),
                line_amount=_amount(r["Amount"], "amount"),
            )
            for no, r in enumerate(
                _cells(view("lines"), ["Product", "Quantity", "Unit Price", "Amount"]), 1
            )
        )
        state = _state(view("state"))
        quoted = view("quotation_date").input_value().strip()
        expires = view("quotation_expire").input_value().strip()
        today = date.today()
        snapshot = QuoteSnapshot(
            quote_id=quote_number,
            opportunity_id=described["opp"],
            quote_date=_shown_date(quoted, "quotation date") if quoted else today,
            valid_until=_shown_date(expires, "quotation expire") if expires else today,
            currency=self._currency(view("currency").input_value()),
            term_start=date.fromisoformat(described["start"]),
            term_end=date.fromisoformat(described["end"]),
            lines=lines,
            quote_total=_amount(view("total").input_value(), "total"),
        )
        po = _PO.search(view("comment").input_value())
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
        number = view("number").input_value().strip()
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
        view = self._list("sales", [["id", "=", -1]])
        view("new").click()
        sale = PortalPage(self, "sale", self.map.page("sale"))
        sale("party").wait_for()
        self.settle()  # the new record's defaults would wipe what is typed before they arrive
        sale.require("party", "reference", "description", "add_line", "save", "quote")
        self._choose(sale, sale("party"), party)
        sale("reference").fill(reference)
        sale("description").fill(
            f"Renewal of {expected.opportunity_id} ({reference}), "
            f"term {expected.term_start.isoformat()}..{expected.term_end.isoformat()}"
        )
        self.settle()
        for line in expected.lines:
            sale("add_line").click()
            sale("line_product").wait_for()
            self.settle()
            self._enter_line(sale, line)
            sale("line_ok").click()
            sale("line_product").wait_for(state="detached")
            self.settle()
        shown = _amount(sale("total").input_value(), "total")
        if shown != expected.quote_total:
            raise PortalError(
                "editor_total", f"Tryton shows {shown}, expected {expected.quote_total}"
            )
        sale("save").click()
        self._wait_saved()
        return self._record_id()

    def _enter_line(self, sale: PortalPage, line: ExpectedLine) -> None:
        """Product, quantity, unit price into the line's dialog, typed again until the
        dialog shows all three: a late answer from the server (the product's defaults, the
        price for a quantity) can overwrite what was typed before it arrived."""
        for _ in range(READ_ATTEMPTS):
            self._choose(sale, sale("line_product"), line.sku)
            self._type_number(sale("line_quantity"), str(line.quantity))
            self._type_number(sale("line_unit_price"), str(line.unit_price))
            if self._line_kept(sale, line):
                return
        raise PortalError("line_not_taken", f"the line for {line.sku} did not keep its values")

    def _line_kept(self, sale: PortalPage, line: ExpectedLine, wait_s: float = 2.0) -> bool:
        """Whether the line's dialog shows the product, quantity and unit price typed (a
        number field is blank while it redraws: asked again for a moment)."""
        deadline = time.monotonic() + wait_s
        while True:
            shown = [
                sale(key).input_value().strip()
                for key in ("line_product", "line_quantity", "line_unit_price")
            ]
            try:
                numbers = (_amount(shown[1], "quantity"), _amount(shown[2], "unit price"))
            except PortalError:
                numbers = None
            if shown[0].startswith(f"[{line.sku}]") and numbers == (line.quantity, line.unit_price):
                return True
            if time.monotonic() > deadline:
                logger.debug("tryton: line {} shows {}, typing it again", line.sku, shown)
                return False
            self.page.wait_for_timeout(100)

    def _party(self, opportunity_id: str) -> str:
        """The opportunity's party from the list (after a restart, nothing was read yet)."""
        opportunity = self._list("opportunity", [["number", "=", opportunity_id]])
        rows = _cells(opportunity("rows"), ["Party"])
        if len(rows) != 1:
            raise BusinessError("unknown_opportunity", f"no opportunity {opportunity_id}")
        return rows[0]["Party"]

    def _type_number(self, box: Locator, value: str) -> None:
        """Numeric fields show a text input that swaps to a number input on focus."""
        box.first.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(value)
        self.page.keyboard.press("Tab")
        self.settle()  # a new quantity makes the server recompute the unit price

    def _choose(self, sale: PortalPage, box: Locator, text: str) -> None:
        """A many-to-one: type, then pick the completion Tryton offers for it.

        Typed too early into a new record, the text is wiped by the defaults arriving: it is
        typed again a few times before the value counts as unknown to Tryton.
        """
        choice = sale("completion").filter(has_text=text).first
        for _ in range(READ_ATTEMPTS):
            self.settle()
            box.fill("")
            box.fill(text)
            try:
                choice.wait_for(timeout=min(self.timeout_ms, 8_000))
            except PlaywrightTimeout:
                continue
            choice.click()
            self.settle()
            if text in box.input_value():
                return
        raise BusinessError("unknown_value", f"Tryton offers nothing for '{text}'")

    def _wait_saved(self) -> None:
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not re.search(r"/model/sale\.sale/\d+", self.page.url):
            self._raise_dialog("save")
            if time.monotonic() > deadline:
                raise PortalError("no_answer", "save: Tryton did not answer")
            self.page.wait_for_timeout(100)
        self.settle()

    def _raise_dialog(self, what: str) -> None:
        """An error dialog: a validation message (bad data, to review)."""
        sale = PortalPage(self, "sale", self.map.page("sale"))
        if sale("error").count() and sale("error").first.is_visible():
            message = " ".join(sale("error").first.inner_text().split())[:300]
            raise BusinessError("portal_validation", f"{what}: {message}")

    def _shown_sale(self, quote_number: str) -> PortalPage | None:
        """The sale's form when it is what the page shows, saved, and nothing else is open
        (right after `save_quote`): no need to load it again."""
        fragment = urlsplit(self.page.url).fragment
        if not fragment.endswith(f"/model/sale.sale/{quote_number}"):
            return None
        app = PortalPage(self, "home", self.map.page("home"))
        sale = PortalPage(self, "sale", self.map.page("sale"))
        if app("tab_close").count() != 1 or app("dialog").count() or not sale("number").count():
            return None
        return sale

    def _click_and_wait_state(self, button: str, states: set[str], what: str) -> None:
        sale = PortalPage(self, "sale", self.map.page("sale"))
        sale.require(button)
        sale(button).click()
        deadline = time.monotonic() + self.timeout_ms / 1000
        while _state(sale("state")) not in states:
            self._raise_dialog(what)
            if time.monotonic() > deadline:
                raise PortalError("no_answer", f"{what}: Tryton did not answer")
            self.page.wait_for_timeout(100)
        self.settle()

    def submit_quote(self, quote_number: str) -> None:
        view = self._shown_sale(quote_number) or self.open("sale", quote_number=quote_number)
        if _state(view("state")) != "draft":
            return
        self._click_and_wait_state("quote", {"quotation"}, "quote")

    # -- booking --------------------------------------------------------------------

    def download_po(self, quote_number: str, folder: Path) -> Path:
        """Tryton keeps no PO document: the PO as the customer wrote it in the comment."""
        view = self.open("sale", quote_number=quote_number)
        found = _PO.search(view("comment").input_value())
        if found is None:
            raise BusinessError("no_po", f"sale {quote_number} has no customer PO")
        target = folder / f"{quote_number}-po.txt"
        target.write_text(found.group(0) + "\n", encoding="utf-8")
        return target

    def book(self, quote_number: str, po: CustomerPO, pdf: Path) -> str:
        view = self.open("sale", quote_number=quote_number)
        view.require("reference", "confirm", "save")
        if _state(view("state")) in ORDERED:
            return view("number").input_value().strip()
        view("reference").fill(po.po_number)
        view("reference").press("Tab")  # the record counts as changed when the field is left
        self.settle()
        view("save").click()
        self.settle()
        self._raise_dialog("save PO")
        self._click_and_wait_state("confirm", ORDERED, "confirm")
        return view("number").input_value().strip()
