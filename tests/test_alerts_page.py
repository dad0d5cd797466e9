"""The alerts page as operations use it, in Chromium against the real web server: open
alerts per engagement with their cause in a sentence, first and last seen, what was sent
where; acknowledging with a note and silencing an engagement, both in the audit trail; a
manager reads it without the forms. Screenshots go to QUOTEBOT_SCREENSHOTS."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from alert_helpers import SECRET, SMTP_PASSWORD, alert_settings, receiver, smtp_server
from playwright.sync_api import Page, expect
from web_helpers import sign_in
from web_site import two_clients_site

from alerts import Alerting
from schemas.work import RunKind, RunStatus

pytestmark = pytest.mark.xdist_group("web")
SCREENS = Path(os.environ.get("QUOTEBOT_SCREENSHOTS", "/tmp/quotebot-screens"))


def test_operations_see_acknowledge_and_silence_alerts(page: Page, tmp_path: Path) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    with (
        two_clients_site(tmp_path / "site") as site,
        smtp_server(tmp_path) as (box, smtp_port, cert),
        receiver() as endpoint,
    ):
        settings = alert_settings(site.home, smtp_port, cert, endpoint)
        for name in ("acme", "globex"):
            run = site.store.start_run(name, RunKind.QUOTE)
            site.store.finish_run(
                run.id, RunStatus.FAILED, {}, error="login refused: the portal refused the password"
            )
        alerting = Alerting(site.store, settings)
        alerting.evaluate()
        assert len(box.messages) == 2 and len(endpoint.calls) == 2

        sign_in(page, site.base_url, "olga", "/alerts")  # operations, acme only
        table = page.get_by_test_id("alerts")
        expect(table).to_have_count(1)  # globex is another client's: not shown
        row = table.locator("tbody tr")
        expect(row.locator("td").first).to_have_text("run stopped")
        expect(row).to_contain_text("The quoting run")
        expect(row).to_contain_text("of acme stopped on 30 Nov 2026 at 09:00 UTC")
        expect(row).to_contain_text("new: e-mail to ops@example.com, sent 30 Nov 2026, 09:00 UTC")
        port = endpoint.port
        expect(row).to_contain_text(f"new: webhook http://127.0.0.1:{port}/hooks/quotebot, sent")
        expect(page.locator("main")).not_to_contain_text("token=")
        page.screenshot(path=SCREENS / "alerts_open.png", full_page=True)

        row.get_by_label("Note").fill("Asked the client to reset the bot user's password")
        row.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_test_id("done")).to_have_text("Acknowledged: run stopped, acme.")
        expect(page.get_by_test_id("ack")).to_contain_text(
            "olga, 30 Nov 2026, 09:00 UTC: “Asked the client to reset the bot user's password”"
        )
        page.screenshot(path=SCREENS / "alerts_acknowledged.png", full_page=True)

        form = page.get_by_test_id("silence-form")
        form.get_by_label("For").select_option(label="4 hours")
        form.get_by_label("Why").fill("Portal maintenance announced by the client")
        form.get_by_role("button", name="Silence").click()
        expect(page.get_by_test_id("done")).to_have_text(
            "acme is silenced until 30 Nov 2026, 13:00 UTC."
        )
        expect(page.get_by_test_id("silences")).to_contain_text(
            "acme: no notices until 30 Nov 2026, 13:00 UTC — olga: “Portal maintenance"
        )
        page.screenshot(path=SCREENS / "alerts_silenced.png", full_page=True)

        trail = site.store.trail()
        actions = [(t.actor, t.action) for t in trail]
        assert ("olga", "acknowledge_alert") in actions and ("olga", "silence_alerts") in actions

        # While silenced, a new cause of acme's is on the page but sends nothing.
        run = site.store.start_run("acme", RunKind.QUOTE)
        site.store.finish_run(
            run.id,
            RunStatus.FAILED,
            {},
            error="selector drift in the acme portal: 'x' matches nothing",
        )
        alerting.evaluate()
        assert len(box.messages) == 3 and len(endpoint.calls) == 3, "only the resolved one"
        page.reload()
        drift = page.locator("tr", has_text="portal pages changed")
        expect(drift).to_contain_text("nothing sent: acme is silenced")

        # What a person can type never makes a 500: an alert that does not exist.
        token = page.locator("input[name=csrf_token]").first.get_attribute("value")
        answer = page.request.post(
            site.base_url + "/alerts/99999999/acknowledge",
            form={"csrf_token": token or "", "note": "x"},
        )
        assert answer.status == 404
        answer = page.request.post(
            site.base_url + "/alerts/silence",
            form={"csrf_token": token or "", "engagement": "globex", "hours": "4", "note": "x"},
        )
        assert answer.ok and "Choose one of your engagements" in answer.text()

        for text in (page.content(), *(m.as_string() for m in box.messages)):
            assert SMTP_PASSWORD not in text and SECRET not in text

        page.get_by_role("button", name="Sign out").click()
        sign_in(page, site.base_url, "mia", "/alerts")  # a manager: reads, does not act
        expect(page.get_by_test_id("alerts")).to_have_count(2)
        expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
        expect(page.get_by_test_id("silence-form")).to_have_count(0)
        expect(page.get_by_role("navigation").get_by_role("link", name="Alerts")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/alerts$"))
        page.screenshot(path=SCREENS / "alerts_manager.png", full_page=True)
