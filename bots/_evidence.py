"""Screenshots, page HTML and Playwright traces kept with a failed work item.

Tracing every item with DOM snapshots, only to drop the trace when the item went well,
was most of the framework's CPU beyond a bare script's (issue 28). So an item's first
attempt is not traced: when it fails, its screenshot and the page's HTML are kept (what an
operator needs to see what the bot met), and the item's next attempt, which may fail the
same way, is traced in full. A failed item therefore always has its screenshot and page,
and one that failed after being tried again has the trace of that last attempt too.

Logins never happen in a traced context (see `_session`), so neither the password nor a
TOTP code can be in a trace; pages are screenshotted with every password field masked all
the same, and left out of the page's HTML.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from schemas.errors import first_line

# The page as the bot met it, every password field's value left out (as the screenshot
# masks them); what was typed into a field is never in the DOM's HTML anyway.
_PAGE_HTML = """() => {
    const page = document.documentElement.cloneNode(true);
    for (const field of page.querySelectorAll("input[type=password]")) {
        field.removeAttribute("value");
    }
    return "<!DOCTYPE html>\\n" + page.outerHTML;
}"""


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


@dataclass
class _InHand:
    reference: str
    traced: bool


class Evidence:
    """Per-item evidence below `root/<engagement>/<item>/`; shared by a run's workers, each
    with a browser context of its own.

    Which items failed before is noted on disk (`root/<engagement>/retrying/<reference>`),
    so that the in-process pool's workers and the fleet's processes on one machine trace an
    item's next attempt whichever of them takes it."""

    def __init__(self, root: Path, engagement: str) -> None:
        self.root = root / _slug(engagement)
        self._retrying = self.root / "retrying"
        self._in_hand: dict[BrowserContext, _InHand] = {}

    def start(self, context: BrowserContext) -> None:
        """A new working context: nothing is traced until an item that failed before."""
        self._in_hand.pop(context, None)

    def begin_item(
        self, context: BrowserContext, reference: str, *, attempt: int | None = None
    ) -> None:
        """Trace the attempt when the item has failed before: its `attempt` number (1 for
        the first) where the engine gives it, else the note a failed attempt left."""
        self._finish(context, keep=None)  # an attempt the engine never ended
        retried = (attempt is not None and attempt > 1) or self._note(reference).exists()
        traced = False
        if retried:
            try:
                # DOM snapshots replay every step; the failure screenshot is taken on its own,
                # so the trace does without a screencast (a quarter of a worker's CPU).
                context.tracing.start(
                    title=reference, screenshots=False, snapshots=True, sources=False
                )
                traced = True
            except PlaywrightError as exc:
                logger.bind(item=reference).warning("no trace: {}", first_line(exc))
        self._in_hand[context] = _InHand(reference, traced)

    def discard_item(self, context: BrowserContext) -> None:
        """The attempt's evidence is not needed: it went well, or it failed and is tried
        again (then its next attempt is traced)."""
        self._finish(context, keep=None)

    def keep_item(
        self, context: BrowserContext, page: Page, item_id: int
    ) -> list[tuple[str, Path]]:
        """Save the item's screenshot, page HTML and (on a retried attempt) trace; returns
        the (kind, path) pairs that exist."""
        folder = self.root / str(item_id)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        kept: list[tuple[str, Path]] = []
        log = logger.bind(item=item_id)
        shot = folder / f"{stamp}-screenshot.png"
        try:
            page.screenshot(
                path=shot,
                full_page=True,
                mask=[page.locator("input[type=password]")],
                timeout=5_000,
            )
            kept.append(("screenshot", shot))
        except PlaywrightError as exc:
            log.warning("no screenshot: {}", first_line(exc))
        html = folder / f"{stamp}-page.html"
        try:
            html.write_text(page.evaluate(_PAGE_HTML), encoding="utf-8")
            kept.append(("html", html))
        except PlaywrightError as exc:
            log.warning("no page HTML: {}", first_line(exc))
        trace = self._finish(context, keep=folder / f"{stamp}-trace.zip")
        if trace is not None:
            kept.append(("trace", trace))
        return kept

    def _finish(self, context: BrowserContext, keep: Path | None) -> Path | None:
        """End the context's attempt: stop its trace (saved to `keep`, else dropped) and note
        whether its item failed. Returns the saved trace, if any.

        The engines end a failed attempt from within their exception handler, a finished
        one outside it: that is how the two are told apart until each engine passes the
        attempt number to `begin_item`."""
        in_hand = self._in_hand.pop(context, None)
        if in_hand is None:
            return None
        failed = sys.exc_info()[1] is not None
        note = self._note(in_hand.reference)
        if failed:
            note.parent.mkdir(parents=True, exist_ok=True)
            note.touch()
        else:
            note.unlink(missing_ok=True)
        if not in_hand.traced:
            return None
        try:
            context.tracing.stop(path=keep)
        except PlaywrightError as exc:
            if keep is not None:  # a crashed browser has nothing to drop
                logger.bind(item=in_hand.reference).warning("no trace: {}", first_line(exc))
            return None
        return keep

    def _note(self, reference: str) -> Path:
        return self._retrying / _slug(reference)
