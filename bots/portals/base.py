"""What every portal page object offers the runner, and the navigation they share."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import ClassVar, TypeVar
from urllib.parse import quote, urljoin

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FrameLocator, Locator, Page, Request, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots._errors import BusinessError, PortalError, SelectorDrift, SessionLost, portal_answer
from bots._repair import DriftEvidence, KeyWatch
from bots._retry import InPlace
from bots._session import is_login_url
from schemas import (
    ExpectedLine,
    ExpectedQuote,
    Opportunity,
    OpportunityLine,
    QuoteLineSnapshot,
    QuoteSnapshot,
)
from schemas.errors import first_line
from schemas.selector_map import PageSelectors, SelectorMap
from schemas.settings import RetryPolicy


@dataclass(frozen=True)
class PortalQuote:
    """A quote as the portal's search lists it: enough to reconcile after a crash."""

    quote_number: str
    opportunity_id: str
    external_ref: str
    status: str


@dataclass(frozen=True)
class DueOpportunity:
    """A row of the portal's renewal list."""

    opportunity_id: str
    account_name: str
    contract_end: date | None


@dataclass(frozen=True)
class CustomerPO:
    """The customer's purchase order attached to an accepted quote."""

    po_number: str
    po_date: date
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class QuoteReadBack:
    """Everything the read-only quote page shows."""

    snapshot: QuoteSnapshot
    external_ref: str
    status: str
    customer_po: CustomerPO | None
    order_number: str | None


T = TypeVar("T")

PAGE_PARTS = frozenset({"document", "script", "xhr", "fetch"})
"""What a page is made of: a stylesheet or an image failing leaves the page readable."""


class PortalPage:
    """One open page of the portal; `page("key")` is the locator of a key of its map."""

    def __init__(self, bot: PortalBot, name: str, spec: PageSelectors) -> None:
        self.bot = bot
        self.name = name
        used = bot.watch.used if bot.watch is not None else {}
        prefix = f"{name}."
        if any(k.startswith(prefix) for k in used):  # read keys used at their candidate
            selectors = {k: used.get(prefix + k, s) for k, s in spec.selectors.items()}
            spec = spec.model_copy(update={"selectors": selectors})
        self.spec = spec
        self.root: Page | FrameLocator = (
            bot.page.frame_locator(spec.frame) if spec.frame else bot.page
        )

    def __call__(self, key: str) -> Locator:
        try:
            selector = self.spec.selectors[key]
        except KeyError:
            raise KeyError(f"{self.bot.flavour}: page '{self.name}' has no key '{key}'") from None
        return self.root.locator(selector)

    def rows(self, key: str) -> list[dict[str, str]]:
        """Each row that `key` matches, as the text of each cell the map lists for it (its
        `cells`), read in one round trip. Drift naming the cell (`page.rows.cell`) for a
        cell that a row lacks: a drifted cell never reads as an empty value."""
        try:
            cells = self.spec.cells[key]
        except KeyError:
            raise KeyError(
                f"{self.bot.flavour}: page '{self.name}' has no cells for '{key}'"
            ) from None
        found: list[dict[str, str | None]] = self(key).evaluate_all(_ROW_TEXTS, cells)
        result: list[dict[str, str]] = []
        for row in found:
            for cell, value in row.items():
                if value is None:
                    drift = SelectorDrift(
                        self.bot.flavour, f"{self.name}.{key}.{cell}", self.bot.page.url
                    )
                    raise self.bot.drift_evidence(drift)
            result.append({cell: value or "" for cell, value in row.items()})
        return result

    def unmatched_cells(self, key: str) -> list[str]:
        """The cells of `key` that its first row lacks (for `check-selectors`); none to
        report when the page shows no row."""
        cells = self.spec.cells.get(key, {})
        if not cells:
            return []
        # One round trip (a locator's `evaluate` takes three: find, evaluate, let go).
        found: dict[str, bool] = self(key).evaluate_all(
            "(rows, cells) => rows.length ? Object.fromEntries(Object.entries(cells)"
            ".map(([k, css]) => [k, rows[0].querySelector(css) !== null])) : {}",
            cells,
        )
        return [cell for cell, present in found.items() if not present]

    def require(self, *keys: str) -> None:
        """Selector drift for the first key that matches nothing: checked before any typing,
        with where its element may have gone (`DriftEvidence`)."""
        try:
            self.texts(*keys)
        except SelectorDrift as drift:
            raise self.bot.drift_evidence(drift) from None

    def text(self, key: str) -> str:
        return self(key).inner_text().strip()

    def texts(self, *keys: str) -> dict[str, str]:
        """The text of each key's first element, read in one round trip; drift for a key
        that matches nothing. Selectors plain CSS cannot express are read one by one."""
        selectors = {key: self.spec.selectors[key] for key in keys}
        found: dict[str, str | None]
        if self.spec.frame:  # waits for the frame's document to be there
            found = self.root.locator(":root").evaluate(_READ_TEXTS_IN_FRAME, selectors)
        else:  # one round trip (a locator's `evaluate` takes three: find, run, let go)
            found = self.bot.page.evaluate(_READ_TEXTS_IN_PAGE, selectors)
        result: dict[str, str] = {}
        for key in keys:
            value = found.get(key, _NOT_CSS)
            if value == _NOT_CSS:
                value = self(key).first.inner_text().strip() if self(key).count() else None
            if value is None:
                value = self._read_at_candidate(key)
            result[key] = value
        return result

    def _read_at_candidate(self, key: str) -> str:
        """A read key that finds nothing: drift, unless the engagement opted in and its
        confident candidate shows the value the store knows (`KeyWatch.read_at_candidate`):
        then it is read there, for the rest of the run."""
        drift = SelectorDrift(self.bot.flavour, f"{self.name}.{key}", self.bot.page.url)
        watch = self.bot.watch
        if watch is None or watch.known_value is None:
            raise drift  # as ever: the run stops (its runner files the ticket)
        evidence = self.bot.drift_evidence(drift)
        selector = watch.read_at_candidate(self.bot.page, evidence, self.spec)
        if selector is None:
            raise evidence
        self.spec = self.spec.model_copy(
            update={"selectors": {**self.spec.selectors, key: selector}}
        )
        return self(key).first.inner_text().strip()


_NOT_CSS = "\u0000not-css"
_READ_TEXTS = """(doc, selectors) => Object.fromEntries(Object.entries(selectors).map(([k, s]) => {
    try {
        const el = doc.querySelector(s);
        return [k, el ? el.innerText.trim() : null];
    } catch (e) { return [k, "\u0000not-css"]; }
}))"""
_READ_TEXTS_IN_PAGE = f"(selectors) => ({_READ_TEXTS})(document, selectors)"
_READ_TEXTS_IN_FRAME = f"(root, selectors) => ({_READ_TEXTS})(root.ownerDocument, selectors)"


_ROW_TEXTS = """(rows, cells) => rows.map(r => Object.fromEntries(
    Object.entries(cells).map(([key, css]) => {
        const cell = r.querySelector(css);
        return [key, cell ? cell.textContent.trim() : null];
    })))"""


def parse_money(text: str, what: str) -> Decimal:
    """An amount as portals show it ('1,234.50'); a `PortalError` (retried: the page may not
    have finished drawing) names what was unreadable."""
    cleaned = text.replace(",", "").replace("\u00a0", "").strip()
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise PortalError("unreadable_amount", f"{what}: '{text[:40]}' is not an amount") from None


def parse_int(text: str, what: str) -> int:
    """A whole number as portals show it; a `PortalError` names what was unreadable."""
    cleaned = text.replace(",", "").strip()
    try:
        return int(cleaned)
    except ValueError:
        raise PortalError("unreadable_number", f"{what}: '{text[:40]}' is not a number") from None


def requires(*bases: Mapping[str, frozenset[str]], **pages: str) -> dict[str, frozenset[str]]:
    """The keys a page object needs, page by page (`"rows rows.cell ..."`), merged with the
    keys of `bases`: what loading a flavour's map checks (`load_map`)."""
    merged: dict[str, set[str]] = {}
    for base in bases:
        for page, keys in base.items():
            merged.setdefault(page, set()).update(keys)
    for page, text in pages.items():
        merged.setdefault(page, set()).update(text.split())
    return {page: frozenset(keys) for page, keys in merged.items()}


def parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PortalError("unreadable_date", f"{what}: '{text[:40]}' is not a date") from None


def optional_date(text: str, what: str) -> date | None:
    """A date cell that may be blank."""
    return parse_date(text, what) if text.strip() else None


def renews(text: str, what: str) -> bool:
    """A renew cell: `yes`, or `no` (with any explanation after it) for a do-not-renew line."""
    word = text.strip().lower()
    if word.startswith("yes"):
        return True
    if word.startswith("no"):
        return False
    raise PortalError("unreadable_flag", f"{what}: '{text[:40]}' is neither yes nor no")


def install_base(view: PortalPage) -> list[OpportunityLine]:
    """The opportunity page's `lines` (cells line_no, sku, quantity, prior_unit_price,
    line_end, renew)."""
    return [
        OpportunityLine(
            line_no=parse_int(row["line_no"], "install-base line number"),
            sku=row["sku"],
            quantity=parse_int(row["quantity"], f"{row['sku']} quantity"),
            prior_unit_price=(
                parse_money(row["prior_unit_price"], f"{row['sku']} prior price")
                if row["prior_unit_price"]
                else None
            ),
            line_end=optional_date(row["line_end"], f"{row['sku']} line end"),
            renew=renews(row["renew"], f"{row['sku']} renew"),
        )
        for row in view.rows("lines")
    ]


def quote_lines(view: PortalPage) -> tuple[QuoteLineSnapshot, ...]:
    """The quote page's `lines` (cells line_no, sku, quantity, unit_price, line_amount,
    line_start, line_end)."""
    return tuple(
        QuoteLineSnapshot(
            line_no=parse_int(r["line_no"], "quote line number"),
            sku=r["sku"],
            quantity=parse_int(r["quantity"], f"{r['sku']} quantity"),
            unit_price=parse_money(r["unit_price"], f"{r['sku']} unit price"),
            line_amount=parse_money(r["line_amount"], f"{r['sku']} line amount"),
            line_start=optional_date(r["line_start"], f"{r['sku']} line start"),
            line_end=optional_date(r["line_end"], f"{r['sku']} line end"),
        )
        for r in view.rows("lines")
    )


def own_period(line: ExpectedLine, quote: ExpectedQuote) -> tuple[str, str]:
    """What to type as a line's own dates: blank where it runs the whole term."""
    whole = (line.line_start, line.line_end) == (quote.term_start, quote.term_end)
    if whole or line.line_start is None or line.line_end is None:
        return "", ""
    return line.line_start.isoformat(), line.line_end.isoformat()


def quote_search(view: PortalPage, external_ref: str | None) -> list[PortalQuote]:
    """The quote search's `rows` (cells quote_number, opportunity_id, external_ref, status):
    only an exact reference is ours (portals match parts of one)."""
    found = [
        PortalQuote(r["quote_number"], r["opportunity_id"], r["external_ref"], r["status"].lower())
        for r in view.rows("rows")
    ]
    return [q for q in found if external_ref is None or q.external_ref == external_ref]


def read_back(view: PortalPage, lines: tuple[QuoteLineSnapshot, ...]) -> QuoteReadBack:
    """A quote page as data, from the keys every flavour's `quote` page has in its map."""
    t = view.texts(
        "quote_number",
        "opportunity_id",
        "quote_date",
        "valid_until",
        "currency",
        "term_start",
        "term_end",
        "total",
        "status",
        "external_ref",
        "order_number",
    )
    snapshot = QuoteSnapshot(
        quote_id=t["quote_number"],
        opportunity_id=t["opportunity_id"],
        quote_date=parse_date(t["quote_date"], "quote date"),
        valid_until=parse_date(t["valid_until"], "valid until"),
        currency=t["currency"],
        term_start=parse_date(t["term_start"], "term start"),
        term_end=parse_date(t["term_end"], "term end"),
        lines=lines,
        quote_total=parse_money(t["total"], "quote total"),
    )
    po = None
    if view("po_number").count():
        p = view.texts("po_number", "po_date", "po_amount", "po_currency")
        po = CustomerPO(
            po_number=p["po_number"],
            po_date=parse_date(p["po_date"], "PO date"),
            amount=parse_money(p["po_amount"], "PO amount"),
            currency=p["po_currency"],
        )
    return QuoteReadBack(
        snapshot=snapshot,
        external_ref=t["external_ref"],
        status=t["status"].lower(),
        customer_po=po,
        order_number=t["order_number"] or None,
    )


def read_opportunity_page(
    view: PortalPage, opportunity_id: str, lines: list[OpportunityLine]
) -> Opportunity:
    """An opportunity page as data, from the keys every flavour's map gives the page."""
    o = view.texts(
        "account_name", "account_id", "segment", "currency", "contract_end", "renewal_term"
    )
    ends = o["contract_end"]
    return Opportunity(
        opportunity_id=opportunity_id,
        account_id=o["account_id"],
        account_name=o["account_name"],
        segment=o["segment"],
        currency=o["currency"],
        contract_end=parse_date(ends, "contract end") if ends else None,
        renewal_term_months=int(o["renewal_term"]),
        lines=tuple(lines),
    )


class PortalBot(ABC):
    """The intents a portal supports; one subclass per flavour, locators from its map."""

    flavour: ClassVar[str]
    visit_pages: ClassVar[bool] = True
    """Whether `check_selectors` also opens every page of the map by its URL and counts each
    key (a portal with one URL per page); otherwise the readers alone check the keys."""
    default_timeout_ms: ClassVar[float] = 15_000
    """How long a step waits for the page (a slow single-page app sets more)."""
    required: ClassVar[dict[str, frozenset[str]]]
    """The keys of the flavour's map that its page objects use, cells included: a map
    lacking one is refused when it is loaded, naming the file and the key."""
    carries_line_dates: ClassVar[bool] = True
    """Whether a quote line in this portal has dates of its own: where it has none, a
    renewal with a co-termed line cannot be quoted there (a business error)."""

    def __init__(
        self,
        page: Page,
        base_url: str,
        selector_map: SelectorMap,
        relogin: Callable[[], None],
        *,
        timeout_ms: float | None = None,
        retry: RetryPolicy | None = None,
        in_place: InPlace | None = None,
    ) -> None:
        if selector_map.flavour != self.flavour:
            raise ValueError(
                f"a {selector_map.flavour} selector map given to the {self.flavour} bot"
            )
        self.page = page
        self.base_url = base_url
        self.map = selector_map
        self._relogin = relogin
        self.timeout_ms = timeout_ms or self.default_timeout_ms
        self.in_place = in_place or InPlace(retry or RetryPolicy())
        """Every retry in place of this bot: one policy, never nested. The worker shares
        its own, so that a log-in retried inside a page load does not multiply the tries."""
        self.watch: KeyWatch | None = None
        """Fingerprints of the map's elements, kept and compared as pages open (issue 29)."""
        self.troubles = 0
        """Requests of the page (documents, scripts, API calls) the portal failed: answered
        5xx, or their connection refused, reset or dropped. A page that fails to show its
        anchor after one of these is a portal in trouble, not selector drift."""
        self.last_trouble = "http_503"
        """The code of the last of them (`http_502`, `connection_failed`, ...)."""
        self._in_flight: set[Request] = set()
        """Requests of the page still waiting for the portal's answer."""
        page.on("request", self._note_request)
        page.on("requestfinished", self._note_answered)
        page.on("response", self._count_server_error)
        page.on("requestfailed", self._count_failed_request)
        page.set_default_timeout(self.timeout_ms)

    # -- navigation shared by every flavour ------------------------------------------

    def url(self, name: str, **params: object) -> str:
        spec = self.map.page(name)
        if spec.url is None:
            raise ValueError(f"{self.flavour}: page '{name}' has no url")
        quoted = {k: quote(str(v), safe="") for k, v in params.items()}
        return urljoin(self.base_url, spec.url.format(**quoted).lstrip("/"))

    def open(self, name: str, **params: object) -> PortalPage:
        """Go to a page of the map and wait until it is ready.

        Reading a page is safe to repeat, so a busy portal is asked again as the retry
        policy says, and an expired session is logged in again once per try.
        """
        url = self.url(name, **params)
        return self.in_place(f"{self.flavour} {name} page", lambda: self._open_logged_in(name, url))

    def _open_logged_in(self, name: str, url: str) -> PortalPage:
        try:
            return self._open_once(name, url)
        except SessionLost:
            self._relogin()
            return self._open_once(name, url)

    def _open_once(self, name: str, url: str) -> PortalPage:
        errors_before = self.troubles
        try:
            response = self.page.goto(url)
        except PlaywrightError as exc:
            raise portal_answer("navigation_failed", first_line(exc)) from None
        status = response.status if response is not None else 200
        if status == 404:
            raise portal_answer("not_found", f"{name}: the portal has no {url}")
        if status >= 500:
            raise portal_answer(f"http_{status}", f"{name} page answered {status}")
        try:
            view = self.ready(name, errors_before=errors_before)
        except SelectorDrift as drift:  # the page loaded, its anchor missing
            raise self.drift_evidence(drift) from None
        if self.watch is not None:
            self.watch.on_page(self.page, self.flavour, name, view.spec)
            if any(k.startswith(f"{name}.") for k in self.watch.used):
                view = PortalPage(self, name, view.spec)  # a read key used at its candidate
        return view

    def drift_evidence(self, drift: SelectorDrift) -> DriftEvidence:
        """The drift with what the live page shows now: candidates scored against the key's
        fingerprint, a screenshot with the best outlined (`bots._repair.open_ticket` files it)."""
        watch = self.watch or KeyWatch({})
        spec = self.map.page(drift.key.split(".", 1)[0])
        return watch.evidence(self.page, drift, spec)

    def _count_server_error(self, response: Response) -> None:
        if response.status >= 500 and response.request.resource_type in PAGE_PARTS:
            self.troubles += 1
            self.last_trouble = f"http_{response.status}"

    def _note_request(self, request: Request) -> None:
        if request.resource_type in PAGE_PARTS:
            self._in_flight.add(request)

    def _note_answered(self, request: Request) -> None:
        self._in_flight.discard(request)

    def _count_failed_request(self, request: Request) -> None:
        self._in_flight.discard(request)
        # An abort is the browser's own doing (a navigation away), not the portal's.
        failure = request.failure or ""
        if request.resource_type in PAGE_PARTS and "ERR_ABORTED" not in failure:
            self.troubles += 1
            self.last_trouble = "connection_failed"

    def ready(self, name: str, *, errors_before: int | None = None) -> PortalPage:
        """Wait for the page's anchor, its error box, or the login page (session expired).

        Drift only on a page that loaded: one whose requests were all answered, none with a
        5xx or a dropped connection, and that shows none of them in time. A portal that
        failed a request of the page, or is still working on one at the time-out, is in
        trouble (`PortalBusy`), not described wrongly by the map.
        """
        view = PortalPage(self, name, self.map.page(name))
        anchor = view(view.spec.anchor).first
        error = view("error").first if "error" in view.spec.selectors else None
        login_box = self.page.locator(self.map.page("login").selectors["username"]).first
        waiting = anchor.or_(login_box) if error is None else anchor.or_(error).or_(login_box)
        before = self.troubles if errors_before is None else errors_before
        # A loop, not one wait: Playwright cannot watch the portal's failed requests, and a
        # failing portal is told at once rather than after the whole time-out.
        deadline = time.monotonic() + self.timeout_ms / 1000
        while True:
            try:
                waiting.first.wait_for(timeout=500)
                break
            except PlaywrightTimeout:
                if self.troubles > before:
                    raise portal_answer(
                        self.last_trouble, f"{name}: the portal failed to load it"
                    ) from None
                if time.monotonic() > deadline:
                    if self._in_flight:
                        raise portal_answer(
                            "timeout", f"{name}: the portal did not answer in time"
                        ) from None
                    raise SelectorDrift(
                        self.flavour, f"{name}.{view.spec.anchor}", self.page.url
                    ) from None
        if is_login_url(self.page.url, self.map) or (
            login_box.is_visible() and not anchor.is_visible()
        ):
            raise portal_answer("session_lost", f"{name}: the portal asks to log in again")
        if error is not None and error.is_visible() and not anchor.is_visible():
            text = error.inner_text().strip()[:200]
            if self.troubles > before:
                raise portal_answer(self.last_trouble, f"{name}: {text}")
            raise portal_answer("portal_error", f"{name}: {text}")
        return view

    def check_selectors(self, today: date) -> tuple[list[SelectorDrift], list[str]]:
        """Visit the pages read-only; the keys that resolve nowhere, and the pages not visited."""
        if self.watch is not None:  # a check names drifts: it never reads at a candidate
            self.watch.known_value = None
        params: dict[str, object] = {
            "end_from": today.isoformat(),
            "end_to": (today + timedelta(days=730)).isoformat(),
            "page": 1,
            "external_ref": "",
            "opportunity_id": "",
        }
        drifts: list[SelectorDrift] = []
        unchecked: list[str] = []
        due = self._safely(drifts, lambda: self.due_opportunities(today, today + timedelta(730)))
        ids = [d.opportunity_id for d in due]
        if not ids:  # the list's own drift (its Next button): its first page still names some
            ids = self._safely(drifts, lambda: self._first_listed(params))
        if ids:
            params["opportunity_id"] = ids[0]
            for opportunity_id in ids[:20]:
                quotes = self._safely(
                    drifts, partial(self.find_quotes, opportunity_id=opportunity_id)
                )
                if quotes:
                    params["quote_number"] = quotes[0].quote_number
                    break
            # the readers themselves, as a run reads: every cell of an opportunity and a quote
            self._safely(drifts, lambda: [self.read_opportunity(ids[0])])
            if "quote_number" in params:
                number = str(params["quote_number"])
                self._safely(drifts, lambda: [self.read_quote(number)])
        if not self.visit_pages:
            return _first_each(drifts), []
        for name, spec in self.map.pages.items():
            if name in {"login", "totp"} or spec.url is None:
                continue
            try:
                portal_page = self.open(name, **params)
            except KeyError:
                unchecked.append(name)  # no sample record for its placeholders
                continue
            except SelectorDrift as drift:
                drifts.append(drift)
                continue
            except PortalError:
                unchecked.append(name)  # e.g. a booking page for a quote that cannot be booked
                continue
            missing = [
                f"{name}.{key}"
                for key in spec.selectors
                if key not in spec.optional and portal_page(key).count() == 0
            ]
            for key in spec.cells:
                missing += [f"{name}.{key}.{cell}" for cell in portal_page.unmatched_cells(key)]
            drifts += [
                self.drift_evidence(SelectorDrift(self.flavour, key, self.page.url))
                for key in missing
                if key not in {d.key for d in drifts}
            ]
        return _first_each(drifts), unchecked

    def _first_listed(self, params: dict[str, object]) -> list[str]:
        view = self.open("opportunities", **params)
        return (
            [row["opportunity_id"] for row in view.rows("rows")]
            if "rows" in view.spec.cells
            else []
        )

    @staticmethod
    def _safely(drifts: list[SelectorDrift], read: Callable[[], list[T]]) -> list[T]:
        """What `read` returns; its drift noted. A record with bad data (a business error)
        is skipped: the check is about the portal's pages, not the client's data."""
        try:
            return read()
        except SelectorDrift as drift:
            drifts.append(drift)
            return []
        except BusinessError:
            return []

    # -- the intents each flavour implements ------------------------------------------

    @abstractmethod
    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        """The renewals whose contract ends between start and end, soonest first."""

    @abstractmethod
    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        """The opportunity page: account, segment, currency, contract end, term, lines."""

    @abstractmethod
    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[PortalQuote]:
        """The portal's quote search by external reference and/or opportunity."""

    @abstractmethod
    def save_quote(self, expected: ExpectedQuote, reference: str) -> str:
        """Type the expected quote into a new draft stamped with `reference`; its number."""

    @abstractmethod
    def submit_quote(self, quote_number: str) -> None:
        """Submit a saved draft to the customer."""

    @abstractmethod
    def read_quote(self, quote_number: str) -> QuoteReadBack:
        """The read-only quote page, as data."""

    def download_po(self, quote_number: str, folder: Path) -> Path:
        """Save the customer's PO document linked from the quote page; its path."""
        view = self.open("quote", quote_number=quote_number)
        view.require("po_pdf")
        with self.page.expect_download() as download:
            view("po_pdf").click()
        target = folder / f"{quote_number}-po.pdf"
        download.value.save_as(target)
        return target

    def fill_booking(self, quote_number: str, po: CustomerPO, pdf: Path) -> PortalPage:
        """Open the booking form of a quote and type the PO into it (not yet sent)."""
        view = self.open("booking", quote_number=quote_number)
        view.require("po_number", "po_date", "po_amount", "po_file", "book")
        view("po_number").fill(po.po_number)
        view("po_date").fill(po.po_date.isoformat())
        view("po_amount").fill(str(po.amount))
        view("po_file").set_input_files(pdf)
        return view

    @abstractmethod
    def book(self, quote_number: str, po: CustomerPO, pdf: Path) -> str:
        """Enter the customer's PO as an order; the portal's order number."""


def _first_each(drifts: list[SelectorDrift]) -> list[SelectorDrift]:
    """Each key's drift once: the first found, with its evidence."""
    unique: dict[str, SelectorDrift] = {}
    for drift in drifts:
        unique.setdefault(drift.key, drift)
    return list(unique.values())
