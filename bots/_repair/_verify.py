"""Is a map key still on its element? The live page's answer, against the key's fingerprint.

A selector that finds nothing is drift, and is reported today. A selector that finds
*another* element is the harder case: a test id moved onto a new wrapper (acme's
`opportunities.next` then waits on a <span> that is never disabled) or a grid whose
columns moved (globex's `td:nth-child(4)` then reads a description as a quantity). The
fingerprint tells the two apart from the same element showing another record.
"""

from __future__ import annotations

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FrameLocator, Locator, Page

from bots._repair._candidates import capture, suggest
from bots._repair._score import compare, same_kind, similar
from schemas.fingerprint import Candidate, ElementFingerprint, KeyCheck

SAME = 0.7
"""The least likeness of the element a selector finds to its fingerprint for it to be the
same element. Another record changes the values and the texts around them, not the tag,
the label, the column or the place: on the sandbox's opportunity pages every key scores
0.75 or more from one renewal to another (a grid's quantity cell the least), while the
corpus's wrapper and moved column score 0.68 and 0.62. Narrow, so `is_same` also asks for
the same kind of element and, for a cell, the same column header."""


def check_key(
    page: Page,
    name: str,
    key: str,
    selector: str,
    locator: Locator,
    old: ElementFingerprint | None,
    *,
    read: bool = False,
    within: Locator | None = None,
) -> KeyCheck:
    """What `locator` (key `key` of page `name`, `selector` in the map) finds now, against
    `old`; for a key that finds nothing or another element, where its element went
    (`within`: the row a row cell is looked for in). With no fingerprint kept yet, a key
    that finds an element matches."""
    now = capture(locator, read=read)
    if now is None:
        found = suggest(page, old, within=within) if old is not None else None
        return KeyCheck(page=name, key=key, selector=selector, status="missing", suggestion=found)
    if old is None:
        return KeyCheck(page=name, key=key, selector=selector, status="matches")
    likeness, _ = compare(old, now)
    if is_same(old, now, likeness):
        return KeyCheck(page=name, key=key, selector=selector, status="matches", likeness=likeness)
    found = suggest(page, old, within=within)
    best = found.candidates[0] if found.candidates else None
    if best is not None and _finds(page, best, locator, within):
        # nothing on the page is more like it than what the key finds: the element itself,
        # showing an unusual record, not a drift with a patch that changes nothing
        return KeyCheck(page=name, key=key, selector=selector, status="matches", likeness=likeness)
    return KeyCheck(
        page=name,
        key=key,
        selector=selector,
        status="changed",
        likeness=likeness,
        suggestion=found,
    )


def _root(
    page: Page, candidate: Candidate, within: Locator | None
) -> Page | Locator | FrameLocator:
    return within or (page.frame_locator(candidate.frame) if candidate.frame else page)


def _finds(page: Page, candidate: Candidate, locator: Locator, within: Locator | None) -> bool:
    """The candidate is the element `locator` finds (first)."""
    if candidate.selector is None:
        return False
    try:
        handle = (
            _root(page, candidate, within).locator(candidate.selector).element_handle(timeout=1000)
        )
        return bool(locator.first.evaluate("(a, b) => a === b", handle))
    except PlaywrightError:  # in another frame: not the same element
        return False


def is_same(old: ElementFingerprint, now: ElementFingerprint, likeness: float) -> bool:
    """The element found is the fingerprinted one (perhaps showing another record)."""
    if likeness < SAME or not same_kind(old, now):
        return False
    return not (old.header and now.header and similar(old.header, now.header) < 0.5)


def confirmed_by_value(
    page: Page, candidate: Candidate, expected: str, *, within: Locator | None = None
) -> bool:
    """A read key's candidate shows, on the record on screen, the value the store knows for
    that record (as the portal writes it): evidence no likeness gives. `within`: the row a
    row cell's candidate is relative to."""
    if candidate.selector is None:
        return False
    shown = _root(page, candidate, within).locator(candidate.selector).all_inner_texts()
    return len(shown) == 1 and " ".join(shown[0].split()) == " ".join(expected.split())
