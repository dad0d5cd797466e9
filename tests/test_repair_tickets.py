"""A portal changes under a run: the run stops before typing, a drift ticket opens with the
evidence, an operations user approves the proposed repair on the web pages, the next run
passes, and the map's history goes back one version (issue 29, must-shows 3 and 4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bot_helpers import engagement_for
from playwright.sync_api import Page, expect
from repair_helpers import acme_ui_with, watched_acme
from sandbox_helpers import running_portal
from web_helpers import SECRET, sign_in

from alerts import find
from bots import RunOptions, run_engagement
from web import WebServer, WebSettings, create_app

SHOTS = os.environ.get("QUOTEBOT_TEST_SHOTS")
"""A folder to keep the pages' screenshots in, for a person to look at."""


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.slow
def test_a_drifted_write_key_waits_for_a_person_who_approves_the_repair(
    tmp_path: Path, page: Page
) -> None:
    # A check on the unchanged portal keeps every key's fingerprint.
    watched = watched_acme(tmp_path)
    home, settings, store = watched.home, watched.settings, watched.store
    selectors, original = watched.selectors, watched.original

    # The acme UI of a client whose editor renamed the external reference's test id.
    assets = acme_ui_with(
        tmp_path / "acme-ui", "editor.js", 'testid: "external-ref"', 'testid: "ext-reference"'
    )
    with running_portal(tmp_path / "bad", "acme", opportunities=6, acme_assets=assets) as portal:
        engagement = engagement_for(portal, selectors=selectors, workers=1)
        options = RunOptions(today=portal.config.today, progress=False)

        # The run stops on the write key: nothing typed, a ticket open with the evidence.
        stopped = run_engagement(engagement, "quote", store, settings=settings, options=options)
        assert stopped.drift is not None and stopped.drift.key == "editor.external_ref"
        with portal.open_db() as db:
            assert db.find_quotes() == [], "nothing was typed into the portal"
        [ticket] = store.drift_tickets(status="open")
        assert (ticket.engagement, ticket.key, ticket.run_id) == (
            "acme",
            "editor.external_ref",
            stopped.run.id,
        )
        assert ticket.write and ticket.healed is None
        assert ticket.selector == "[data-testid=external-ref]"
        assert ticket.proposed == "[data-testid=ext-reference]"
        assert ticket.check is not None and ticket.check.suggestion is not None
        assert ticket.check.suggestion.confident is not None
        assert ticket.screenshot is not None and Path(ticket.screenshot).is_file()
        assert selectors.read_text(encoding="utf-8") == original, "nothing healed on its own"
        [alert] = [
            c for c in find(store, settings, store.now()).causes if c.rule.value == "selector_drift"
        ]
        assert alert.link == f"/repairs/{ticket.id}", "the drift alert points at the ticket"

        app = create_app(
            store, WebSettings(secret_key=SECRET), today=portal.config.today, home=home
        )
        with WebServer(app) as base_url:
            sign_in(page, base_url, "olga", "/repairs")
            link = page.get_by_role(
                "link", name="The external ref field on the quote editor can no longer be found"
            )
            _shot(page, "repairs")
            link.click()
            expect(page.get_by_test_id("key")).to_have_text("editor.external_ref")
            shot = page.get_by_test_id("screenshot")
            expect(shot).to_be_visible()
            assert shot.evaluate("img => img.naturalWidth") > 600, "the screenshot loads"
            patch = page.get_by_test_id("patch")
            expect(patch).to_contain_text('-      external_ref: "[data-testid=external-ref]"')
            expect(patch).to_contain_text('+      external_ref: "[data-testid=ext-reference]"')
            expect(page.locator("[data-proposed=yes]")).to_contain_text("clear match")
            _shot(page, "ticket")
            page.get_by_role("button", name="Approve this change").click()
            expect(page.get_by_test_id("done")).to_contain_text("the next run uses it")
            expect(page.get_by_test_id("status")).to_contain_text("repair approved: olga")
            assert 'external_ref: "[data-testid=ext-reference]"' in selectors.read_text("utf-8")

            # The next run passes with the approved map.
            passed = run_engagement(engagement, "quote", store, settings=settings, options=options)
            assert passed.drift is None, passed.drift
            with portal.open_db() as db:
                assert len(db.find_quotes()) >= 1, "the quotes were entered"

            # The history shows both versions; going back one version works.
            page.get_by_role("link", name="History of acme's selector map").click()
            rows = page.get_by_test_id("versions").locator("tbody tr")
            expect(rows).to_have_count(2)
            expect(rows.first).to_contain_text("olga")
            expect(rows.first).to_contain_text("repair of editor.external_ref")
            _shot(page, "history")
            page.get_by_role("button", name="Go back to version 1").click()
            expect(page.get_by_test_id("done")).to_contain_text("it is now version 3")
            expect(rows).to_have_count(3)
            assert selectors.read_text(encoding="utf-8") == original
    store.close()
