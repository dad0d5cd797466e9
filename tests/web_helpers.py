"""Helpers for the web tests: bots' real output in a store, the web app on a free port,
people of each role, signing in through the login page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot_helpers import engagement_for, write_engagements
from playwright.sync_api import Page, expect
from sandbox_helpers import RunningPortal, running_portal

from bots import RunOptions, run_engagement
from schemas.engagement import Schedules
from schemas.settings import Settings
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

PASSWORD = "correct horse battery"
PEOPLE = {"alice": "auditor", "bob": "auditor", "olga": "ops", "mia": "manager"}
SECRET = "test-secret-key-" + "x" * 40


@dataclass
class BotOutput:
    """A store holding what the bots really did in a sandbox portal (quote and booking runs)."""

    portal: RunningPortal
    store: Store
    db_path: Path
    engagements: Path
    settings: Settings


@contextmanager
def bot_output(folder: Path, opportunities: int = 12) -> Iterator[BotOutput]:
    """Run the bots once over a sandbox portal: verified, flagged, failed and booked items."""
    with running_portal(folder / "portal", "acme", opportunities=opportunities) as portal:
        engagement = engagement_for(portal)
        db_path = folder / "quotebot.sqlite"
        store = open_store(f"sqlite:///{db_path}")
        settings = Settings(home=folder / "home")
        options = RunOptions(today=portal.config.today, progress=False)
        run_engagement(engagement, "quote", store, settings=settings, options=options)
        run_engagement(engagement, "booking", store, settings=settings, options=options)
        for name, role in PEOPLE.items():
            store.add_user(name, role, hash_password(PASSWORD), all_engagements=True)
        scheduled = engagement.model_copy(
            update={"schedules": Schedules(quote="0 6 * * 1-5", booking="30 14 * * 1-5")}
        )
        engagements = write_engagements(folder / "engagements.yaml", [scheduled])
        try:
            yield BotOutput(portal, store, db_path, engagements, settings)
        finally:
            store.close()


@contextmanager
def running_web(output: BotOutput) -> Iterator[str]:
    app = create_app(
        output.store,
        WebSettings(secret_key=SECRET),
        engagements=output.engagements,
        today=output.portal.config.today,
        home=output.settings.home,
    )
    with WebServer(app) as base_url:
        yield base_url


def sign_in(page: Page, base_url: str, name: str, path: str = "/") -> None:
    """Open `path`, get sent to the login page, sign in as `name`."""
    page.goto(base_url + path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_contain_text(name)


def decide(page: Page, action: str, note: str, reason: str | None = None) -> None:
    """On an item's page: choose a decision (and a reason), write the note, save."""
    form = page.get_by_test_id("decide")
    form.locator(f"input[name=action][value={action}]").check()
    if reason:
        form.locator("select[name=reason]").select_option(reason)
    form.locator("textarea[name=note]").fill(note)
    form.get_by_role("button", name="Save decision").click()
