"""Fingerprints on the live sandbox portals: a key still on its element is never taken for
a drift when the page shows another record, and a page's keys are captured in one go."""

from __future__ import annotations

from pathlib import Path

import pytest
from drift_helpers import corpus_served, selector_map
from playwright.sync_api import Page
from sandbox_helpers import RunningPortal, login, running_portal

from bots._repair import SAME, capture, capture_all, check_key
from schemas.fingerprint import ElementFingerprint


def _two_opportunities(portal: RunningPortal) -> tuple[str, str]:
    with portal.open_db() as db:
        ids = [o.opportunity_id for o in db.list_opportunities(per_page=50).items]
    return ids[0], ids[1]


def _keys(page: Page, flavour: str, name: str) -> dict[str, tuple[str, object, object]]:
    """Every key of a map page with an element on screen: key -> (selector, locator, row)."""
    spec = selector_map(flavour).page(name)
    root = page.frame_locator(spec.frame) if spec.frame else page
    found: dict[str, tuple[str, object, object]] = {}
    for key, selector in spec.selectors.items():
        if key not in spec.optional:
            found[key] = (selector, root.locator(selector), None)
    for rows, cells in spec.cells.items():
        row = root.locator(spec.selectors[rows]).first
        for cell, selector in cells.items():
            found[f"{rows}.{cell}"] = (selector, row.locator(selector), row)
    return found


@pytest.mark.parametrize("flavour", ["acme", "globex"])
def test_a_key_showing_another_record_still_finds_its_element(
    page: Page, tmp_path: Path, flavour: str
) -> None:
    """Read keys show other values from one renewal to the next (and other texts around
    them): fingerprinted on one opportunity, every key of the opportunity page is still
    found on another, none taken for a drift."""
    with running_portal(tmp_path / "portal", flavour, opportunities=6) as portal:
        first, second = _two_opportunities(portal)
        login(page, portal, f"/opportunities/{first}")
        anchor = selector_map(flavour).page("opportunity").anchor
        page.locator(selector_map(flavour).page("opportunity").selectors[anchor]).wait_for()
        kept: dict[str, ElementFingerprint] = {}
        for key, (_, locator, _) in _keys(page, flavour, "opportunity").items():
            fingerprint = capture(locator, read=True)  # type: ignore[arg-type]
            assert fingerprint is not None, key
            kept[key] = fingerprint

        page.goto(portal.url(f"/opportunities/{second}"))
        page.locator(selector_map(flavour).page("opportunity").selectors[anchor]).wait_for()
        assert page.locator(f"text={second}").first.is_visible()
        for key, (selector, locator, row) in _keys(page, flavour, "opportunity").items():
            check = check_key(
                page,
                "opportunity",
                key,
                selector,
                locator,
                kept[key],
                read=True,
                within=row,  # type: ignore[arg-type]
            )
            assert check.status == "matches", check
            assert check.likeness is not None and check.likeness >= SAME, check


def test_a_pages_keys_captured_together_are_the_keys_captured_one_by_one(
    page: Page, tmp_path: Path
) -> None:
    """`capture_all` answers for a page's keys in one round trip what `capture` answers
    key by key; a key that finds nothing is None, a selector that is not plain CSS is
    captured on its own."""
    with running_portal(tmp_path / "portal", "globex", opportunities=4) as portal:
        login(page, portal, f"/opportunities/{_two_opportunities(portal)[0]}/quote")
        spec = selector_map("globex").page("editor")
        frame = page.frame_locator(spec.frame or "")
        frame.locator(spec.selectors[spec.anchor]).wait_for()
        selectors = {
            k: spec.selectors[k] for k in ("term_start", "quantity", "save", "remove_line")
        }
        selectors["gone"] = "#ctl00_main_txtNoSuchField"
        selectors["by_text"] = "input:has-text('Save'), #ctl00_main_btnSave >> nth=0"
        together = capture_all(frame, selectors)
        assert together["gone"] is None
        assert together["by_text"] is not None and together["by_text"].id == "ctl00_main_btnSave"
        for key in ("term_start", "quantity", "save"):
            assert together[key] == capture(frame.locator(selectors[key])), key
        assert together["quantity"] is not None and together["quantity"].label == "Qty"


def test_a_key_whose_element_is_still_the_most_like_it_is_not_a_drift(
    page: Page, tmp_path: Path
) -> None:
    """A key whose element looks less like its fingerprint than usual (a record unlike the
    one it was kept on) but is still the page's element most like it: no drift, no ticket
    with a patch that changes nothing."""
    with corpus_served(tmp_path, []) as base_url:
        page.goto(f"{base_url}/original/acme/opportunity.html")
        locator = page.locator("[data-testid=opp-currency]")
        kept = capture(locator, read=True)
        assert kept is not None
        unusual = kept.model_copy(
            update={
                "neighbours": ("Notice period", "90 days"),
                "box": (0.0, 900.0, 10.0, 10.0),
                "shape": "9",
                "form_index": 9,
            }
        )
        check = check_key(
            page,
            "opportunity",
            "currency",
            "[data-testid=opp-currency]",
            locator,
            unusual,
            read=True,
        )
        assert check.likeness is not None and check.likeness < SAME
        assert check.status == "matches", check
