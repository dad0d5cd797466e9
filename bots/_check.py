"""`check_selectors`: a read-only visit of an engagement's portal that lists selector drift."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from bots._attempt import Kit
from bots._errors import SelectorDrift
from bots._worker import BrowserWorker
from schemas.engagement import Engagement
from schemas.settings import Settings


@dataclass(frozen=True)
class SelectorReport:
    """What a read-only visit found: keys that match nothing, pages it could not open."""

    drifts: list[SelectorDrift]
    unchecked: list[str]
    """Pages with no record to open them with (no opportunity, no quote yet)."""
    selectors: int
    """How many keys the map has in all, row cells included."""


def check_selectors(engagement: Engagement, settings: Settings, today: date) -> SelectorReport:
    """Log in, visit every page of the map that can be reached without typing, and report.

    Raises `SelectorMapError` for a bad map, `EngagementRefused` for missing credentials or
    a refused login.
    """
    kit = Kit.load(engagement, settings)
    selector_map = kit.map

    def visit() -> tuple[list[SelectorDrift], list[str]]:
        with BrowserWorker("check", kit) as worker:
            return worker.bot.check_selectors(today)

    # A thread of its own, as the runner's workers have: Playwright's sync API refuses a
    # thread where an event loop already runs (a caller's, or another sync Playwright's).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="check") as pool:
        drifts, unchecked = pool.submit(visit).result()
    total = sum(len(p.keys()) for p in selector_map.pages.values())
    return SelectorReport(drifts, unchecked, total)
