"""Screenshots and Playwright traces kept with a failed work item.

The working context is traced in chunks, one per item: a chunk is kept only when the item
fails. Logins never happen in a traced context (see `_session`), so neither the password
nor a TOTP code can be in a trace; pages are screenshotted with every password field
masked all the same.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger
from playwright.sync_api import BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from schemas.errors import first_line


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


class Evidence:
    """Per-item traces and screenshots below `root/<engagement>/<item>/`."""

    def __init__(self, root: Path, engagement: str) -> None:
        self.root = root / _slug(engagement)

    def start(self, context: BrowserContext) -> None:
        # DOM snapshots replay every step; the failure screenshot is taken on its own, so
        # the trace does without a screencast (a quarter of a worker's CPU, measured).
        context.tracing.start(screenshots=False, snapshots=True, sources=False)

    def begin_item(self, context: BrowserContext, reference: str) -> None:
        context.tracing.start_chunk(title=reference)

    def discard_item(self, context: BrowserContext) -> None:
        try:
            context.tracing.stop_chunk()
        except PlaywrightError:
            pass  # a crashed browser has nothing to discard

    def keep_item(
        self, context: BrowserContext, page: Page, item_id: int
    ) -> list[tuple[str, Path]]:
        """Save the item's screenshot and trace; returns (kind, path) pairs that exist."""
        folder = self.root / str(item_id)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        kept: list[tuple[str, Path]] = []
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
            logger.bind(item=item_id).warning("no screenshot: {}", first_line(exc))
        trace = folder / f"{stamp}-trace.zip"
        try:
            context.tracing.stop_chunk(path=trace)
            kept.append(("trace", trace))
        except PlaywrightError as exc:
            logger.bind(item=item_id).warning("no trace: {}", first_line(exc))
        return kept
