"""A run's watch over its selector map: each key's fingerprint kept once per run, a key that
now finds another element named as drift before it is used, and the evidence (candidates
scored on the live page, a screenshot with the best outlined) attached to the drift."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FrameLocator, Locator, Page

from bots._errors import SelectorDrift
from bots._repair._candidates import capture_all, fingerprint_of
from bots._repair._score import compare
from bots._repair._verify import check_key, confirmed_by_value, is_same
from schemas.fingerprint import Candidate, ElementFingerprint, KeyCheck
from schemas.selector_map import PageSelectors, SelectorMap

CONTROLS = frozenset({"input", "select", "textarea", "button", "a"})
"""Elements a bot types into, clicks or submits: their keys are write keys (never healed
without a person's approval); every other key is read."""

_OUTLINE = """(el, on) => {
    if (on) {
        el.dataset.qbOutline = el.style.outline || "";
        el.style.outline = "4px solid #d0021b";
        el.style.outlineOffset = "3px";
        el.scrollIntoView({block: "center"});
    } else {
        el.style.outline = el.dataset.qbOutline || "";
        delete el.dataset.qbOutline;
    }
}"""


class DriftEvidence(SelectorDrift):
    """Raised where a page loaded and a key of its map finds nothing or another element:
    the drift with what was found on the live page (`check`: the candidates), the map's
    selector, whether the key is a write key, and a screenshot with the best outlined."""

    def __init__(
        self,
        drift: SelectorDrift,
        *,
        selector: str | None,
        check: KeyCheck | None,
        screenshot: Path | None,
        write: bool,
    ) -> None:
        super().__init__(drift.flavour, drift.key, drift.url)
        if check is not None and check.status == "changed":
            self.args = (
                f"selector drift in the {drift.flavour} portal: '{drift.key}' finds another "
                f"element on {drift.url}",
            )
        self.selector = selector
        self.check = check
        self.screenshot = screenshot
        self.write = write


def map_version(selector_map: SelectorMap) -> str:
    """A short hash of the map's content: fingerprints are kept per map version."""
    return hashlib.sha256(selector_map.model_dump_json().encode()).hexdigest()[:12]


def is_write(fingerprint: ElementFingerprint | None) -> bool:
    return fingerprint is not None and (
        fingerprint.tag in CONTROLS or fingerprint.role in {"button", "link", "textbox"}
    )


Keep = Callable[[dict[str, tuple[str, ElementFingerprint]]], None]
Known = Callable[[str, dict[str, str]], str | None]
"""The value the store knows for a read key (page.key) on the record a page shows (the
page's URL parameters: `opportunity_id`, ...); None: nothing known to confirm it by."""
Use = Callable[[DriftEvidence, Candidate], bool]
"""Record that a run reads a drifted key at its candidate (the ticket); False: no run to
record it for, so the key is not used."""


@dataclass
class KeyWatch:
    """What one bot knows of its map's elements (`known`: key -> selector, fingerprint, from
    the store) and what it saw this run (`seen`); `keep` stores the new ones."""

    known: dict[str, tuple[str, ElementFingerprint]]
    keep: Keep | None = None
    shots: Path | None = None
    """The folder the drift screenshots go to."""
    capture: bool = True
    """Off: no fingerprint taken (the benchmark's switch)."""
    known_value: Known | None = None
    """Set when the engagement opted in to confident reads (`repair.use_confident_reads`)."""
    use: Use | None = None
    used: dict[str, str] = field(default_factory=dict)
    """Read keys (page.key) read at their confident candidate for the rest of this run."""
    seen: dict[str, tuple[str, ElementFingerprint]] = field(default_factory=dict)
    pages: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_page(self, page: Page, flavour: str, name: str, spec: PageSelectors) -> None:
        """Once per page per run: fingerprint the keys it shows (one round trip), keep the
        new ones, and raise `DriftEvidence` for a key that now finds another element."""
        if not self.capture or name in self.pages:
            return
        self.pages.add(name)
        root: Page | FrameLocator = page.frame_locator(spec.frame) if spec.frame else page
        selectors = {k: s for k, s in spec.selectors.items()}
        for rows, cells in spec.cells.items():
            for cell, css in cells.items():
                selectors[f"{rows}.{cell}"] = f":is({spec.selectors[rows]}) {css}"
        try:
            found = capture_all(root, selectors)
        except PlaywrightError:  # the page went on meanwhile: nothing learnt, nothing lost
            return
        new: dict[str, tuple[str, ElementFingerprint]] = {}
        for key, now in found.items():
            if now is None:
                continue
            full = f"{name}.{key}"
            if "." in key or not is_write(now):
                now = fingerprint_of(now.model_dump(), read=True)
            old = self.known.get(full)
            if old is not None and not is_same(old[1], now, compare(old[1], now)[0]):
                self._confirm(page, flavour, name, spec, key, old[1])
            if full not in self.known:
                new[full] = (_selector(spec, key), now)
        with self._lock:
            self.seen.update(new)
            self.known.update(new)
        if new and self.keep is not None:
            self.keep(new)

    def _confirm(
        self,
        page: Page,
        flavour: str,
        name: str,
        spec: PageSelectors,
        key: str,
        old: ElementFingerprint,
    ) -> None:
        """The key finds an element unlike its fingerprint: drift, unless nothing on the
        page is more like it (the element itself, showing an unusual record)."""
        locator, within = locate(page, spec, key)
        check = check_key(
            page,
            name,
            key,
            _selector(spec, key),
            locator,
            old,
            read=not is_write(old),
            within=within,
        )
        if check.status == "matches":
            return
        drift = self.evidence(page, SelectorDrift(flavour, f"{name}.{key}", page.url), spec, check)
        if self.read_at_candidate(page, drift, spec) is None:
            raise drift

    def read_at_candidate(
        self, page: Page, drift: DriftEvidence, spec: PageSelectors
    ) -> str | None:
        """The selector a drifted read key is read at for the rest of this run, when the
        engagement opted in, its candidate is confident, in the map page's frame, and shows
        the value the store knows for the record on screen, and the ticket records the use;
        else None (the run stops). A key typed into, clicked or submitted: always None."""
        name, key = drift.key.split(".", 1)
        old = self.known.get(drift.key)
        if (
            self.known_value is None
            or self.use is None
            or drift.write
            or "." in key
            or old is None
            or is_write(old[1])
            or drift.check is None
            or drift.check.suggestion is None
        ):
            return None
        best = drift.check.suggestion.confident
        if best is None or best.selector is None or best.frame != spec.frame:
            return None
        if best.tag in CONTROLS:
            return None
        value = self.known_value(drift.key, url_params(spec.url, page.url))
        try:
            if value is None or not confirmed_by_value(page, best, value):
                return None
        except PlaywrightError:
            return None
        if not self.use(drift, best):
            return None
        with self._lock:
            self.used[drift.key] = best.selector
        return best.selector

    def evidence(
        self,
        page: Page,
        drift: SelectorDrift,
        spec: PageSelectors,
        check: KeyCheck | None = None,
    ) -> DriftEvidence:
        """The drift with its evidence, scored on the live page now: where the key's element
        went (when its fingerprint is known) and a screenshot with the best outlined."""
        if isinstance(drift, DriftEvidence):
            return drift
        name, key = drift.key.split(".", 1)
        selector = _selector(spec, key) if _has(spec, key) else None
        old = self.known.get(drift.key)
        if check is None and old is not None and selector is not None:
            try:
                locator, within = locate(page, spec, key)
                check = check_key(
                    page,
                    name,
                    key,
                    selector,
                    locator,
                    old[1],
                    read=not is_write(old[1]),
                    within=within,
                )
            except PlaywrightError:
                check = None
        shot = self._screenshot(page, spec, key, check)
        write = is_write(old[1]) if old is not None else False
        return DriftEvidence(drift, selector=selector, check=check, screenshot=shot, write=write)

    def _screenshot(
        self, page: Page, spec: PageSelectors, key: str, check: KeyCheck | None
    ) -> Path | None:
        if self.shots is None:
            return None
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{time.strftime('%Y%m%dT%H%M%S')}-{spec_key(key)}.png"
        best = None
        if check is not None and check.suggestion and check.suggestion.candidates:
            first = check.suggestion.candidates[0]
            if first.selector is not None:
                root = page.frame_locator(first.frame) if first.frame else page
                if "." in key:
                    root = locate(page, spec, key)[1] or root  # type: ignore[assignment]
                best = root.locator(first.selector).first
        try:
            if best is not None:
                best.evaluate(_OUTLINE, True)
            page.screenshot(path=str(path), full_page=True)
            if best is not None:
                best.evaluate(_OUTLINE, False)
        except PlaywrightError:
            return None
        return path


def url_params(template: str | None, url: str) -> dict[str, str]:
    """The parameters a page's URL template (`/opportunities/{opportunity_id}`) names, as the
    live URL fills them in; {} when it does not match."""
    if not template:
        return {}
    path = template.split("?", 1)[0]
    names: list[str] = []

    def slot(found: re.Match[str]) -> str:
        names.append(found.group(1))
        return f"(?P<{found.group(1)}>[^/?#]*)"

    pattern = re.sub(r"\\\{(\w+)\\\}", slot, re.escape(path))
    live = urlsplit(url).path
    found = re.search(pattern + "/?$", live)
    return {n: unquote(found.group(n)) for n in names} if found else {}


def spec_key(key: str) -> str:
    return key.replace(".", "-")


def _has(spec: PageSelectors, key: str) -> bool:
    if "." in key:
        rows, cell = key.split(".", 1)
        return cell in spec.cells.get(rows, {})
    return key in spec.selectors


def _selector(spec: PageSelectors, key: str) -> str:
    if "." in key:
        rows, cell = key.split(".", 1)
        return spec.cells[rows][cell]
    return spec.selectors[key]


def locate(page: Page, spec: PageSelectors, key: str) -> tuple[Locator, Locator | None]:
    """The key's locator as the page objects build it, and the (first) row of a row cell."""
    root = page.frame_locator(spec.frame) if spec.frame else page
    if "." in key:
        rows, cell = key.split(".", 1)
        row = root.locator(spec.selectors[rows]).first
        return row.locator(spec.cells[rows][cell]), row
    return root.locator(spec.selectors[key]), None
