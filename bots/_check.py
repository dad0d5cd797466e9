"""`check_selectors`: a read-only visit of an engagement's portal that lists selector drift."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from bots._attempt import Kit
from bots._errors import SelectorDrift
from bots._repair import DriftEvidence, open_ticket
from bots._repair._tickets import proposal, proposed_map
from bots._worker import BrowserWorker
from schemas.engagement import Engagement
from schemas.fingerprint import KeyCheck
from schemas.selector_map import SelectorMap
from schemas.settings import Settings
from store import Store


@dataclass(frozen=True)
class SelectorReport:
    """What a read-only visit found: keys that match nothing, pages it could not open."""

    drifts: list[SelectorDrift]
    unchecked: list[str]
    """Pages with no record to open them with (no opportunity, no quote yet)."""
    selectors: int
    """How many keys the map has in all, row cells included."""
    checks: list[KeyCheck]
    """Every key of the map: what its selector finds and, for a drifted key, where its
    element may have gone (`check-selectors --json`)."""
    proposed_map: str | None = None
    """The map's text with every drifted key that has a candidate patched (`--suggest`)."""


def check_selectors(
    engagement: Engagement, settings: Settings, today: date, *, tickets: Store | None = None
) -> SelectorReport:
    """Log in, visit every page of the map that can be reached without typing, and report.

    With `tickets` (the store), each drift opens (or refreshes) its repair ticket, as a run
    stopped by it does. Raises `SelectorMapError` for a bad map, `EngagementRefused` for
    missing credentials or a refused login.
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
    if tickets is not None:  # the morning check's repairs wait for a person too
        for drift in drifts:
            open_ticket(tickets, None, engagement, drift)
    checks = key_checks(selector_map, drifts)
    text = engagement.selectors.read_text(encoding="utf-8")
    patched = text
    for check in checks:
        patched = proposed_map(patched, f"{check.page}.{check.key}", proposal(check)) or patched
    return SelectorReport(drifts, unchecked, total, checks, patched if patched != text else None)


def key_checks(selector_map: SelectorMap, drifts: list[SelectorDrift]) -> list[KeyCheck]:
    """One `KeyCheck` a key of the map (row cells included), in the map's order: a drift's
    own (with its candidates), else 'finds its element'."""
    found = {d.key: d for d in drifts}
    checks = []
    for name, spec in selector_map.pages.items():
        keys = [(k, s) for k, s in spec.selectors.items()]
        keys += [(f"{r}.{c}", s) for r, cells in spec.cells.items() for c, s in cells.items()]
        for key, selector in keys:
            drift = found.get(f"{name}.{key}")
            if drift is None:
                checks.append(KeyCheck(page=name, key=key, selector=selector, status="matches"))
            elif isinstance(drift, DriftEvidence) and drift.check is not None:
                checks.append(drift.check.model_copy(update={"page": name, "key": key}))
            else:
                checks.append(KeyCheck(page=name, key=key, selector=selector, status="missing"))
    return checks
