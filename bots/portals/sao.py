"""A driver for Tryton's web client (sao): what any portal built on it needs, whatever its
records mean. `TrytonBot` maps quotebot's renewals onto Tryton's own records with it; a second
sao-based portal would subclass `SaoBot` with its own mapping and map file.

Traps of the web client handled here: a page is opened by closing the app's tabs and
following the URL fragment, as sao's address bar does (a fresh load of the app only when
something unexpected shows, which is also where drift is reported); numeric fields swap
to a second input on focus, a moment later (typed once it has the focus); a new record's
defaults, and the unit price after a quantity, arrive from the server a moment later and
sao redraws the form, wiping what was typed: each step waits for the widget's value it
needs (typing again what was wiped), a quiet moment only where nothing shown can tell.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from loguru import logger
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Request, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots._errors import BusinessError, InputNotTaken, PortalError, SelectorDrift, portal_answer
from bots.portals.base import PortalBot, PortalPage, parse_money

_ACTIVE_REQUESTS = "() => (window.jQuery ? window.jQuery.active : 0)"
_IDLE = """(token) => {
    if (window.__qbToken !== token) { window.__qbToken = token; window.__qbQuiet = 0; }
    window.__qbQuiet = window.jQuery && window.jQuery.active ? 0 : window.__qbQuiet + 1;
    return window.__qbQuiet >= 3;
}"""
_VALUES = """(selectors) => Object.fromEntries(Object.entries(selectors).map(([k, s]) => {
    try {
        const el = document.querySelector(s);
        return [k, el ? el.value : null];
    } catch (e) { return [k, "\u0000not-css"]; }
}))"""
_NOT_CSS = "\u0000not-css"
_SHOWS_RECORD = """([id, names]) => {
    const tab = window.Sao && window.Sao.Tab ? window.Sao.Tab.tabs.get_current() : null;
    const record = tab && tab.screen ? tab.screen.current_record : null;
    return Boolean(record) && String(record.id) === id && names.every(n => record.is_loaded(n));
}"""
_POLL_MS = 20  # how often a wait looks again at the page (a round trip costs a few ms)


def domain_date(value: date) -> dict[str, object]:
    """A date as sao's domains write it (the address bar's `domain=` JSON)."""
    return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}


def shown_date(text: str, what: str, date_format: str) -> date:
    """A date as a field shows it in the bot user's language."""
    try:
        return datetime.strptime(text.strip(), date_format).date()
    except ValueError:
        raise PortalError("unreadable_date", f"{what}: '{text[:40]}' is not a date") from None


def amount(text: str, what: str) -> Decimal:
    """A number field's text (symbols and spaces dropped)."""
    return parse_money(re.sub(r"[^\d.,-]", "", text), what)


def selection(select: Locator) -> str:
    """A selection's value (sao keeps it JSON-encoded in the option: '"draft"')."""
    return selected(select.input_value())


def selected(value: str) -> str:
    """A selection's value as read from its element ('"draft"' -> 'draft')."""
    return value.strip().strip('"')


class NotOffered(InputNotTaken):
    """Raised when a many-to-one offers no completion for the text typed (yet)."""


def unknown_if_never_offered(exc: Exception) -> Exception:
    """Every try spent and the server never offered the value: it does not know it."""
    if isinstance(exc, NotOffered):
        return BusinessError("unknown_value", exc.message.removesuffix(" yet"))
    return exc


class SaoBot(PortalBot):
    """Pages of a sao web client: opened by their URL fragment, lists and forms, many-to-one
    completions, number fields, workflow buttons, and waits for the server's answers."""

    default_timeout_ms = 30_000  # a full load of the app takes seconds
    visit_pages = False  # list and form share one URL: the readers check the keys

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight: set[Request] = set()
        self._idle_calls = 0
        self.on_step: Callable[[str], None] | None = None
        """Told each step's name as it ends (the benchmark's clock: where a quote's time goes)."""
        self.page.on("request", self._sent)
        self.page.on("requestfinished", self._answered)
        self.page.on("requestfailed", self._answered)

    def _step(self, name: str) -> None:
        if self.on_step is not None:
            self.on_step(name)

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
        # A loop: a quiet spell counts the browser's requests too, which the page cannot see.
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
                raise portal_answer("no_answer", "Tryton kept a request open too long")
            self.page.wait_for_timeout(25)

    def idle(self) -> None:
        """Until sao has had no request in flight for three looks 10 ms apart, in the page:
        where what follows needs no answer shown, only none pending (a click after a save)."""
        self._idle_calls += 1
        self.page.wait_for_function(_IDLE, arg=self._idle_calls, polling=10)

    def values(self, view: PortalPage, *keys: str) -> dict[str, str]:
        """What each key's first input or selection holds, read in one round trip; drift for
        a key that matches nothing. Selectors plain CSS cannot express are read one by one."""
        selectors = {key: view.spec.selectors[key] for key in keys}
        found: dict[str, str | None] = self.page.evaluate(_VALUES, selectors)
        result: dict[str, str] = {}
        for key in keys:
            value = found[key]
            if value == _NOT_CSS:
                value = view(key).first.input_value() if view(key).count() else None
            if value is None:
                raise SelectorDrift(self.flavour, f"{view.name}.{key}", self.page.url)
            result[key] = value
        return result

    def _app_requests(self) -> int:
        try:
            active: int = self.page.evaluate(_ACTIVE_REQUESTS)
        except PlaywrightError:
            return 1  # the page is between documents: not settled
        return active

    def open(self, name: str, **params: object) -> PortalPage:
        """The page as a single tab of the app, nothing left over from the last page, once
        the app has no request in flight (its record is shown)."""
        view = self._open(name, **params)
        self.settle()
        return view

    def open_record(
        self, name: str, record_id: str, fields: tuple[str, ...], **params: object
    ) -> PortalPage:
        """A record's form by its address, once sao holds the record with `fields` loaded
        (a form shows its inputs, empty, before the record's values arrive, and loads some
        fields, a text's, in a second request), and has drawn them."""
        view = self._open(name, **params)
        self.page.wait_for_function(_SHOWS_RECORD, arg=[record_id, list(fields)], polling=_POLL_MS)
        self.idle()
        return view

    def _open(self, name: str, **params: object) -> PortalPage:
        """The page as a single tab of the app, as soon as its anchor shows (a list's caller
        waits for its rows, which says more than a quiet moment).

        Where the app is already loaded, its tabs are closed by their close buttons and the
        page is opened by its URL fragment, as sao follows the address bar: no reload of
        the app. Anything unexpected on that path (a tab that will not close quietly, a
        dialog, a page that does not show) falls back to a fresh load of the app, the
        only path that can report selector drift.
        """
        if self._close_tabs():
            try:
                return super().open(name, **params)
            except (PortalError, SelectorDrift) as exc:
                logger.debug("tryton: {} by its fragment failed, loading the app: {}", name, exc)
        self.page.goto("about:blank")
        return super().open(name, **params)

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
                try:  # the last close button goes with its tab; a dialog keeps it there
                    app("tab_close").nth(left - 1).wait_for(state="detached", timeout=5_000)
                except PlaywrightTimeout:
                    return False
                if app("dialog").count():
                    return False
            # with the last tab gone, sao points the address at the bare database
            return urlsplit(self.page.url).fragment == urlsplit(self.url("home")).fragment
        except PlaywrightError:
            return False

    def _list(self, name: str, domain: list[object]) -> PortalPage:
        """A list filtered by `domain`, once its counter ("_/6") and its rows agree. A new
        tab counts "_/0" until its search answers: an empty list is believed only once the
        app is quiet (a quote looked up before it is entered must not be missed)."""
        view = self._open(name, domain=json.dumps(domain))
        # A loop: the counter's number against the rows, and a settle for an empty list.
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            counter = re.search(r"/\s*(\d+)\s*$", view("counter").first.inner_text())
            if counter and view("rows").count() >= int(counter.group(1)):
                if int(counter.group(1)) > 0:
                    return view
                self.settle()
                if re.search(r"/\s*0\s*$", view("counter").first.inner_text()):
                    return view
            if time.monotonic() > deadline:
                raise PortalError("list_not_loaded", f"{name}: the list did not load")
            self.page.wait_for_timeout(_POLL_MS)

    def _to_form(self, view: PortalPage, form: str, number: str | None = None) -> PortalPage:
        """Select the first row and switch to the form view (page `form` of the map), shown
        once its `number` reads `number` (known: no quiet moment to wait for) or, not known,
        once the app is quiet."""
        view("row_select").first.check()
        view("switch").click()
        record = PortalPage(self, form, self.map.page(form))
        if number is None:
            record("number").wait_for()
            self.settle()
        else:
            self._wait_value(record("number"), number, f"{form} {number}")
        return record

    def _wait_value(self, box: Locator, value: str, what: str) -> None:
        """Until the input shows `value` (the record it belongs to is displayed)."""
        shows = re.compile(rf"^\s*{re.escape(value)}\s*$")
        try:
            expect(box.first).to_have_value(shows, timeout=self.timeout_ms)
        except AssertionError:
            raise PortalError("not_shown", f"{what}: the form did not show it") from None

    def _wait_lines(self, view: PortalPage) -> list[dict[str, str]]:
        """The rows of the lines list (its map cells), once every line the counter announces
        ("_ / 3") is a row and every cell of theirs has its text."""
        # A loop: it clicks "more" as it waits, and compares the counter with the rows.
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            counter = re.search(r"(\d+)\s*$", view("lines_count").first.inner_text())
            expected = int(counter.group(1)) if counter else -1
            if expected >= 0 and view("lines").count() >= expected:
                rows = view.rows("lines")
                if all(all(row.values()) for row in rows):
                    return rows
            if view("lines_more").count() and view("lines_more").first.is_visible():
                view("lines_more").first.click()
            if time.monotonic() > deadline:
                raise PortalError("lines_not_loaded", "the lines did not load")
            self.page.wait_for_timeout(_POLL_MS)

    def _record_id(self) -> str:
        found = re.search(r"/model/[\w.]+/(\d+)", self.page.url)
        if not found:
            raise PortalError("no_record", f"no record id in {self.page.url}")
        return found.group(1)

    def _type_number(self, form: PortalPage, key: str, value: Decimal) -> None:
        """A number field: its text input (`key`) swaps to a number input on focus, a moment
        later (`focused_number`); typed there once it has the focus, and left with Tab,
        which sends the change to the server (its answer blocks the page). A late redraw
        that wipes it is `InputNotTaken`: typed again under the one retry policy (inside a
        retried step, such as a sale's line, that step's try owns the budget)."""
        box = form(key).first

        def once() -> None:
            box.click()
            focused = form("focused_number").first
            focused.wait_for()
            focused.fill(str(value))
            self.page.keyboard.press("Tab")
            if not self._shows(box, value):
                raise InputNotTaken("number_not_taken", f"{key} did not keep {value}")

        self.in_place(f"tryton number {key}", once)

    def _shows(self, box: Locator, value: Decimal, wait_s: float = 1.0) -> bool:
        """Whether a number field shows `value` (blank for a moment while it redraws)."""
        # A loop: the number is compared as a number, whatever the portal's format of it.
        deadline = time.monotonic() + wait_s
        while True:
            try:
                if amount(box.input_value(), "number") == value:
                    return True
            except PortalError:
                pass  # blank: being redrawn
            if time.monotonic() > deadline:
                return False
            self.page.wait_for_timeout(_POLL_MS)

    def _choose(self, sale: PortalPage, box: Locator, text: str) -> None:
        """A many-to-one: type, then pick the completion Tryton offers for it.

        sao asks the server for completions 300 ms after the last keystroke; a late answer
        for the record (a new record's defaults) redraws the form and wipes the text, which
        is then typed again at once. Offered nothing, it counts as unknown to Tryton.
        """
        choice = sale("completion").filter(has_text=text).first

        def once() -> None:
            # A loop: the text is typed again whenever a redraw wipes it while it waits.
            deadline = time.monotonic() + min(self.timeout_ms, 8_000) / 1000
            while not choice.is_visible():
                if box.input_value() != text:
                    box.fill(text)
                if time.monotonic() > deadline:
                    raise NotOffered("not_offered", f"Tryton offers nothing for '{text}' yet")
                self.page.wait_for_timeout(_POLL_MS)
            choice.click()
            try:
                expect(box).to_have_value(re.compile(re.escape(text)), timeout=2_000)
            except AssertionError:
                raise InputNotTaken("choice_not_taken", f"'{text}' did not stay chosen") from None

        self.in_place(f"tryton choice {text[:40]}", once, exhausted=unknown_if_never_offered)

    def _wait_saved(self, form: str, model: str) -> None:
        """Until the new record of `model` has an id in the address (it is saved), or its
        form (page `form` of the map) shows an error."""
        # A loop: either the address or an error dialog ends it; no one wait watches both.
        deadline = time.monotonic() + self.timeout_ms / 1000
        while not re.search(rf"/model/{re.escape(model)}/\d+", self.page.url):
            self._raise_dialog(form, "save")
            if time.monotonic() > deadline:
                raise portal_answer("no_answer", "save: Tryton did not answer")
            self.page.wait_for_timeout(_POLL_MS)
        self.idle()

    def _raise_dialog(self, form: str, what: str) -> None:
        """An error dialog over `form`: a validation message (bad data, to review)."""
        view = PortalPage(self, form, self.map.page(form))
        if view("error").count() and view("error").first.is_visible():
            message = " ".join(view("error").first.inner_text().split())[:300]
            raise BusinessError("portal_validation", f"{what}: {message}")

    def _click_and_wait_state(self, form: str, button: str, states: set[str], what: str) -> None:
        """Click a workflow button of `form` and wait until its `state` is one of `states`."""
        view = PortalPage(self, form, self.map.page(form))
        view.require(button)
        view(button).click()
        # A loop: either the state or an error dialog ends it; no one wait watches both.
        deadline = time.monotonic() + self.timeout_ms / 1000
        while selection(view("state")) not in states:
            self._raise_dialog(form, what)
            if time.monotonic() > deadline:
                raise portal_answer("no_answer", f"{what}: Tryton did not answer")
            self.page.wait_for_timeout(_POLL_MS)
