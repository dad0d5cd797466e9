"""What the fleet promises operations, held under the faults a real site has: a failed
attempt keeps its evidence; a portal that goes down is not selector drift; a busy page after
a committed submit is looked into, not taken for a failed submit; a SIGTERM finishes the item
in hand; the portal's session licence is never exceeded and never read as a refused log-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from bot_helpers import engagement_for
from fleet_helpers import fleet_database, quote_on_the_fleet
from playwright.sync_api import Page, expect
from sandbox_helpers import running_portal
from web_helpers import PASSWORD, SECRET, sign_in

from schemas.work import FailureKind, ItemState, RunStatus
from store import open_store
from web import WebServer, WebSettings, create_app, hash_password

pytestmark = pytest.mark.postgres

TIMINGS = {
    "QUOTEBOT_FLEET_TIMINGS__HEARTBEAT_S": "0.5",
    "QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S": "3",
}


def test_a_failed_fleet_attempt_keeps_its_screenshot_and_trace_on_the_item_page(
    tmp_path: Path, page: Page
) -> None:
    with (
        fleet_database() as db_url,
        running_portal(tmp_path / "acme", "acme", opportunities=10) as portal,
    ):
        engagement = engagement_for(portal)
        runs, _ = quote_on_the_fleet(tmp_path, db_url, [portal], [engagement], workers=1, slots=1)
        assert [code for code, _ in runs] == [0], runs
        with open_store(db_url) as store:
            failed = store.items(engagement.name, state=ItemState.FAILED)
            assert failed and all(i.failure_kind is FailureKind.BUSINESS for i in failed)
            home = tmp_path / "home"
            for item in failed:
                kept = {e.kind: home / e.path for e in store.evidence(item.id)}
                assert set(kept) == {"screenshot", "trace"}, (item.opportunity_id, kept)
                assert all(path.stat().st_size > 0 for path in kept.values())
            store.add_user("olga", "ops", hash_password(PASSWORD), all_engagements=True)
            app = create_app(store, WebSettings(secret_key=SECRET), home=home)
            with WebServer(app) as base_url:
                sign_in(page, base_url, "olga", f"/review/{failed[0].id}")
                expect(page.get_by_test_id("screenshot").first).to_be_visible()
                with page.expect_download() as download:
                    page.get_by_role("link", name="Download trace").first.click()
                assert download.value.suggested_filename.endswith("-trace.zip")
            (run,) = store.runs(engagement.name)
            assert run.status is RunStatus.SUCCEEDED
