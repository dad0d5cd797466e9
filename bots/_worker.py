"""One worker: its own Playwright, browser and logged-in context, recycled every N items."""

from __future__ import annotations

from types import TracebackType

from loguru import logger
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from bots._browser import launch_options
from bots._evidence import Evidence
from bots._session import Credentials, login
from bots.portals import bot_class
from bots.portals.base import PortalBot
from schemas.engagement import Engagement
from schemas.selector_map import SelectorMap
from schemas.settings import Settings


class Worker:
    """A browser that works one item at a time; Playwright objects never cross threads."""

    def __init__(
        self,
        name: str,
        engagement: Engagement,
        selector_map: SelectorMap,
        credentials: Credentials,
        evidence: Evidence,
        settings: Settings,
    ) -> None:
        self.name = name
        self.engagement = engagement
        self.map = selector_map
        self.credentials = credentials
        self.evidence = evidence
        self.settings = settings
        self.items_in_context = 0
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._page: Page | None = None
        self._bot: PortalBot | None = None
        self.log = logger.bind(engagement=engagement.name, worker=name)

    def __enter__(self) -> Worker:
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
        self._relogin()
        self._bot = bot_class(self.engagement.flavour)(
            self._page, self.engagement.url, self.map, self._relogin
        )
        self.items_in_context = 0

    def _relogin(self) -> None:
        assert self._browser is not None and self._context is not None
        login(self._browser, self._context, self.engagement.url, self.map, self.credentials)

    def begin_item(self, reference: str) -> None:
        """Recycle the context when it has served its share, then start the item's trace."""
        if self._bot is not None and self.items_in_context >= self.engagement.recycle_after:
            self.log.debug("recycling the browser context")
            self.close_context()
        self.bot  # noqa: B018 - opens the browser and logs in when needed
        self.items_in_context += 1
        self.evidence.begin_item(self.context, reference)

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
