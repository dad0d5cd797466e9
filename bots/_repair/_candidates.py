"""Where a drifted key's element went: the live page scored against the key's fingerprint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, FrameLocator, Locator, Page

from bots._repair._js import CAPTURE, CAPTURE_ALL, IS_SURVEYED, PROPOSE, SURVEY
from bots._repair._score import compare, decide, shape
from schemas.fingerprint import Candidate, ElementFingerprint, Suggestion

KEEP = 3
"""How many candidates a suggestion lists."""


def fingerprint_of(raw: dict[str, Any], *, read: bool = False) -> ElementFingerprint:
    """The record of a described element. A read key's value changes from record to record:
    its text is kept as a shape only (and so is its accessible name, when that is the text)."""
    found = ElementFingerprint.model_validate(raw)
    if not read:
        return found
    return found.model_copy(
        update={
            "text": None,
            "shape": shape(found.text),
            "name": None if found.name == found.text else found.name,
        }
    )


def capture(locator: Locator, *, read: bool = False) -> ElementFingerprint | None:
    """The fingerprint of the element `locator` finds (its first; None when it finds none),
    in one round trip and without waiting. `read`: the key is read, not typed into or
    clicked (its value is not kept)."""
    raw = locator.evaluate_all(CAPTURE)
    return None if raw is None else fingerprint_of(raw, read=read)


def capture_all(
    root: Page | FrameLocator, selectors: Mapping[str, str], *, read: AbstractSet[str] = frozenset()
) -> dict[str, ElementFingerprint | None]:
    """The fingerprints of several keys of one page (key -> selector) in one round trip:
    what a page object calls once its page is ready. None for a key that finds nothing; a
    key whose selector is not plain CSS (`:has-text`, `>>`) is captured on its own."""
    found: dict[str, Any] = root.locator(":root").evaluate_all(CAPTURE_ALL, dict(selectors))
    result: dict[str, ElementFingerprint | None] = {}
    for key, raw in found.items():
        if raw == "not css":
            result[key] = capture(root.locator(selectors[key]), read=key in read)
        else:
            result[key] = None if raw is None else fingerprint_of(raw, read=key in read)
    return result


@dataclass(frozen=True)
class _Surveyed:
    root: Locator
    """What the element's locators are relative to: its frame's document, or the scope."""
    relative: bool
    frame: str | None
    index: int
    element: ElementFingerprint


def suggest(
    page: Page, old: ElementFingerprint, *, within: Locator | None = None, keep: int = KEEP
) -> Suggestion:
    """The `keep` elements of `page` (every frame, open shadow roots included) most like
    `old`, best first, each with a locator that finds it alone, and the one to propose.
    `within`: look only inside that element (a row, for a row cell) and build locators
    relative to it, as the map's `cells` are."""
    scored = sorted(
        ((*compare(old, item.element), item) for item in _survey(page, within)),
        key=lambda s: -s[0],
    )
    ranked = [_candidate(s, m, item, _locator(item)) for s, m, item in scored[:keep]]
    rivals: list[Candidate] = []
    if scored:
        best = scored[0][2].element
        rivals = [
            _candidate(s, m, item, None)
            for s, m, item in scored[1:]
            if item.element.tag == best.tag
            and (best.tag != "input" or item.element.type == best.type)
        ]
    confident, margin, reason = decide(old, ranked, rivals)
    return Suggestion(candidates=tuple(ranked), confident=confident, margin=margin, reason=reason)


def _candidate(
    score: float, matched: dict[str, float], item: _Surveyed, selector: str | None
) -> Candidate:
    element = item.element
    return Candidate(
        selector=selector,
        frame=item.frame,
        score=score,
        matched=matched,
        tag=element.tag,
        text=(element.text or element.name or "")[:60],
        visible=element.visible,
    )


def _survey(page: Page, within: Locator | None) -> list[_Surveyed]:
    if within is not None:
        scope = within.first
        raw = json.loads(scope.evaluate(SURVEY, True))
        return [_Surveyed(scope, True, None, i, fingerprint_of(r)) for i, r in enumerate(raw)]
    found: list[_Surveyed] = []
    for frame in page.frames:
        root = frame.locator(":root")
        try:
            raw = json.loads(root.evaluate(SURVEY, False))
        except PlaywrightError:  # a frame that navigated or went away meanwhile
            continue
        name = None if frame == page.main_frame else _frame_selector(frame)
        found.extend(_Surveyed(root, False, name, i, fingerprint_of(r)) for i, r in enumerate(raw))
    return found


def _frame_selector(frame: Frame) -> str:
    """The iframe's selector in its parent, in the map's style (`iframe[name=editor]`)."""
    selector: str = frame.frame_element().evaluate(
        "(f) => f.name ? `iframe[name=${f.name}]` : f.id ? `#${f.id}` : 'iframe'"
    )
    return selector


def _locator(item: _Surveyed) -> str | None:
    """The first of the element's proposed locators that finds it and it alone."""
    try:
        proposals: list[str] = item.root.evaluate(PROPOSE, [item.index, item.relative])
    except PlaywrightError:
        return None
    for selector in proposals:
        found = item.root.locator(selector) if item.relative else _in_frame(item, selector)
        try:
            if found.count() == 1 and found.evaluate(IS_SURVEYED, item.index):
                return selector
        except PlaywrightError:  # a proposal Playwright cannot parse: try the next one
            continue
    return None


def _in_frame(item: _Surveyed, selector: str) -> Locator:
    page = item.root.page
    return (page.frame_locator(item.frame) if item.frame else page).locator(selector)
