"""One worker: its own Playwright, browser and logged-in context, recycled every N items.

Some portals end a session a fixed time after its log-in, however busy it is. An item
that the portal logs out half-way is retried from the start, and on a slow day it could be
logged out half-way every time. So the worker learns how long the portal's sessions last
(the age of a session when the page was sent to the login page) and, before an item,
logs in afresh when less than half of that is left.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from loguru import logger
from playwright.sync_api import Browser, BrowserContext, Frame, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from bots._browser import launch_options
from bots._errors import SessionLeftOpen, SessionsFull
from bots._repair import KeyWatch, watch_for
from bots._retry import InPlace
from bots._session import is_login_url, login, logout
from bots.portals import bot_class
from bots.portals.base import PortalBot
from store import Store

if TYPE_CHECKING:
    from bots._attempt import Kit


class BrowserWorker:
    """A browser that works one item at a time; Playwright objects never cross threads."""

    def __init__(self, name: str, kit: Kit) -> None:
        self.name = name
        self.kit = kit
        self.engagement = engagement = kit.engagement
        self.map = kit.map
        self.credentials = kit.credentials
        self.evidence = kit.evidence
        self.settings = settings = kit.settings
        self.items_in_context = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._bot: PortalBot | None = None
        self._watch: KeyWatch | None = None  # one per worker and run: each page fingerprinted once
        self.in_place = InPlace(settings.retry.overridden(engagement.retry))
        """The one retry budget of this worker's steps, shared with its bot: never nested."""
        self._logged_in_at: float | None = None
        self.unclosed = False
        """A session of this worker's may still be open in the portal (its sign-out could
        not be verified): it ends only by the portal's expiry."""
        self.session_lasts: float | None = None
        """The shortest session this worker has seen the portal grant, in seconds."""
        self.log = logger.bind(engagement=engagement.name, worker=name)

    def __enter__(self) -> BrowserWorker:
        self._playwright = sync_playwright().start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close_browser()
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None

    @property
    def bot(self) -> PortalBot:
        """The page object, logged in; a browser is started on first use."""
        if self._bot is None:
            self._open()
        assert self._bot is not None
        return self._bot

    @property
    def context(self) -> BrowserContext:
        assert self._context is not None
        return self._context

    @property
    def page(self) -> Page:
        assert self._page is not None
        return self._page

    def _open(self) -> None:
        assert self._playwright is not None, "use the worker as a context manager"
        if self._browser is None or not self._browser.is_connected():
            self._browser = self._playwright.chromium.launch(**launch_options(self.settings))
        self._context = self._browser.new_context(
            base_url=self.engagement.url,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        self.evidence.start(self._context)
        self._page = self._context.new_page()
        self._page.on("framenavigated", self._note_navigation)
        self._relogin()
        self._bot = bot_class(self.engagement.flavour)(
            self._page, self.engagement.url, self.map, self._relogin, in_place=self.in_place
        )
        if self._watch is None:  # a recycled context keeps what the run has seen
            self._watch = watch_for(self.engagement, self.settings, self.map)
        self._bot.watch = self._watch
        self.items_in_context = 0

    def _relogin(self) -> None:
        """Log in (again); a busy login page is tried again under the one retry policy, and
        a portal whose licensed sessions are all open is waited for (`SessionsFull`)."""
        waited = 0.0
        wait = 1.0
        while True:
            try:
                self.in_place("log-in", self._login_once)
                break
            except SessionsFull:
                if waited >= self.settings.session_place_wait_s:
                    raise
                self.log.info("{}: waiting {:.0f} s for a session place", self.name, wait)
                time.sleep(wait)
                waited += wait
                wait = min(wait * 2, 30.0)
        self._logged_in_at = time.monotonic()

    def _login_once(self) -> None:
        browser, context = self._browser, self._context
        assert browser is not None and context is not None
        try:
            login(browser, context, self.engagement.url, self.map, self.credentials)
        except SessionLeftOpen:
            self.unclosed = True  # its place waits for the portal's expiry
            raise

    def _note_navigation(self, frame: Frame) -> None:
        """The page was sent to the login page: the session ended at this age."""
        if frame.parent_frame is not None or self._logged_in_at is None:
            return
        if not is_login_url(frame.url, self.map):
            return
        age = time.monotonic() - self._logged_in_at
        self._logged_in_at = None
        if self.session_lasts is None or age < self.session_lasts:
            self.session_lasts = age
            self.log.info("the portal ended a session {:.0f} s after its log-in", age)

    def _session_too_old(self) -> bool:
        """True when the session has ended, or has less than half its life left.

        (Not "less than the longest item took": a fleet worker's items are hours apart at
        times, and the time between them says nothing about how long one takes.)"""
        if self.session_lasts is None:
            return False
        if self._logged_in_at is None:
            return True  # the portal ended it during the last item
        return time.monotonic() - self._logged_in_at > self.session_lasts / 2

    def begin_item(self, reference: str) -> None:
        """Recycle the context when it has served its share, log in afresh when the session
        may not last the item, then start the item's trace."""
        if self._bot is not None and self.items_in_context >= self.engagement.recycle_after:
            self.log.debug("recycling the browser context")
            self.close_context()
        if self._bot is not None and self._session_too_old():
            self.log.debug("the session may end before the item does: logging in again")
            # Its seat first: a portal may cap the sessions open at once. A session not seen
            # to end keeps its place; the next log-in takes a context (and place) of its own.
            if self._logged_in_at is not None and not self.sign_out():
                self.close_context()
            else:
                self._relogin()
        self.bot  # noqa: B018 - opens the browser and logs in when needed
        self.items_in_context += 1
        self.evidence.begin_item(self.context, reference)

    def sign_out(self) -> bool:
        """End the portal session (where the map says how), so that its seat is free now;
        True when it is known ended (or none was open), else `unclosed` is set."""
        if self._bot is None:
            return not self.unclosed
        self._logged_in_at = None  # what follows is our sign-out, not the portal's doing
        if self._page is not None and self.healthy():
            if logout(self._page, self.engagement.url, self.map):
                return not self.unclosed
        self.unclosed = True
        return False

    def close_context(self) -> None:
        if self._context is not None:
            try:
                self._context.close()
            except PlaywrightError:
                pass  # already gone with a crashed browser
        self._context = self._page = self._bot = None

    def close_browser(self) -> None:
        self.close_context()
        if self._browser is not None:
            try:
                self._browser.close()
            except PlaywrightError:
                pass
            self._browser = None

    def healthy(self) -> bool:
        return self._browser is not None and self._browser.is_connected()

    def keep_evidence(self, store: Store, item_id: int, run_id: int) -> None:
        """The item's screenshot and trace chunk, kept on disk and listed with the item (the
        page operations open for a failed item shows them)."""
        if not self.healthy() or self._context is None or self._page is None:
            return
        for kind, path in self.evidence.keep_item(self._context, self._page, item_id):
            # Relative to the home: the web pages resolve it from QUOTEBOT_HOME, wherever
            # they are started.
            stored = path.relative_to(self.settings.home)
            store.add_evidence(item_id, kind, stored, run_id=run_id)

    def discard_evidence(self) -> None:
        """The item's trace chunk is not needed (it went well, or will be tried again)."""
        if self.healthy() and self._context is not None:
            self.evidence.discard_item(self._context)
