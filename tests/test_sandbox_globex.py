"""Globex, the legacy portal: log in (with and without TOTP), lose the session, page through
the opportunity grid, and export it; in a real Chromium against the real sandbox server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect
from sandbox_helpers import TODAY, RunningPortal, running_portal

from sandbox.globex_opportunities import _pages
from sandbox.portal import Portal

GRID = "#ctl00_main_gvOpportunities"
FIRST_CELLS = f"{GRID} tr.row td:nth-child(1), {GRID} tr.altrow td:nth-child(1)"


def log_in(page: Page, portal: RunningPortal) -> None:
    """Fill globex's login form, found by its legacy ids (the page must be showing it)."""
    page.locator("#ctl00_main_txtUserName").fill(portal.credentials.username)
    page.locator("#ctl00_main_txtPassword").fill(portal.credentials.password)
    page.locator("#ctl00_main_btnLogin").click()


def test_login_lands_on_the_page_asked_for(page: Page, tmp_path: Path) -> None:
    with running_portal(tmp_path, "globex") as server:
        page.goto(f"{server.base_url}/opportunities?page=2")
        expect(page).to_have_url(f"{server.base_url}/login?next=/opportunities%3Fpage%3D2")
        page.locator("#ctl00_main_txtUserName").fill("bot")
        page.locator("#ctl00_main_txtPassword").fill("wrong")
        page.locator("#ctl00_main_btnLogin").click()
        expect(page.locator("#ctl00_main_valSummary")).to_have_text("Invalid username or password.")
        log_in(page, server)
        expect(page).to_have_url(f"{server.base_url}/opportunities?page=2")
        expect(page.locator(".pager .current")).to_have_text("2")
        assert page.locator("[data-testid]").count() == 0  # a legacy portal: no test ids


def test_login_with_totp_code(page: Page, tmp_path: Path) -> None:
    with running_portal(tmp_path, "globex", totp=True) as server:
        page.goto(server.base_url)
        log_in(page, server)
        expect(page.locator("#ctl00_main_txtCode")).to_be_visible()
        totp = pyotp.TOTP(server.credentials.totp_secret)
        page.locator("#ctl00_main_txtCode").fill(f"{(int(totp.now()) + 1) % 10**6:06d}")
        page.locator("#ctl00_main_btnVerify").click()
        expect(page.locator("#ctl00_main_valSummary")).to_contain_text("not valid")
        page.locator("#ctl00_main_txtCode").fill(totp.now())
        page.locator("#ctl00_main_btnVerify").click()
        expect(page).to_have_url(f"{server.base_url}/opportunities")
        expect(page.locator(GRID)).to_be_visible()


def test_expired_session_goes_back_to_login_then_to_the_page(page: Page, tmp_path: Path) -> None:
    with running_portal(tmp_path, "globex", session_ttl=60, fake_clock=True) as server:
        page.goto(server.base_url)
        log_in(page, server)
        expect(page.locator(GRID)).to_be_visible()
        assert server.clock is not None
        server.clock.advance(61)  # a minute idle, without the wait
        page.goto(f"{server.base_url}/opportunities?sort=account_name")
        expect(page.locator("#ctl00_main_lblExpired")).to_contain_text("timed out")
        assert "expired=1" in page.url
        log_in(page, server)
        expect(page).to_have_url(f"{server.base_url}/opportunities?sort=account_name")


START, END = TODAY + timedelta(days=60), TODAY + timedelta(days=300)


def test_grid_filters_sorts_and_pages(page: Page, tmp_path: Path) -> None:
    start, end = START, END
    with running_portal(tmp_path, "globex") as server, server.open_db() as portal:
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        page.goto(server.base_url)
        log_in(page, server)
        expect(page.locator("#ctl00_main_lblCount")).to_have_text("60 opportunities found")
        first_page = [o.opportunity_id for o in portal.list_opportunities().items]
        expect(page.locator(FIRST_CELLS)).to_have_text(first_page)

        page.get_by_role("link", name="Next »").click()
        expect(page.locator(".pager .current")).to_have_text("2")
        page.get_by_role("link", name="3", exact=True).click()
        last_page = [o.opportunity_id for o in portal.list_opportunities(page=3).items]
        expect(page.locator(FIRST_CELLS)).to_have_text(last_page)
        expect(page.locator(".pager .disabled")).to_have_text("Next »")

        page.get_by_role("link", name="Account").click()
        by_name = portal.list_opportunities(sort="account_name").items
        expect(page.locator(FIRST_CELLS)).to_have_text([o.opportunity_id for o in by_name])
        page.get_by_role("link", name="Account").click()  # again: descending
        by_name_desc = portal.list_opportunities(sort="-account_name").items
        expect(page.locator(FIRST_CELLS)).to_have_text([o.opportunity_id for o in by_name_desc])

        page.locator("#ctl00_main_txtEndFrom").fill(start.isoformat())
        page.locator("#ctl00_main_txtEndTo").fill(end.isoformat())
        page.locator("#ctl00_main_btnFilter").click()
        window = portal.list_opportunities(end_from=start, end_to=end, sort="-account_name")
        expect(page.locator("#ctl00_main_lblCount")).to_have_text(
            f"{window.total} opportunities found"
        )
        page.get_by_role("link", name="2", exact=True).click()  # the pager keeps filter and sort
        page2 = portal.list_opportunities(end_from=start, end_to=end, sort="-account_name", page=2)
        expect(page.locator(FIRST_CELLS)).to_have_text([o.opportunity_id for o in page2.items])

        page.locator("#ctl00_main_txtEndTo").fill("31/12/2026")
        page.locator("#ctl00_main_btnFilter").click()
        expect(page.locator("#ctl00_main_valSummary")).to_contain_text("Contract end to")
        expect(page.locator("#ctl00_main_txtEndTo")).to_have_value("31/12/2026")
        _markup_shows_as_text(page, server, portal)
        assert dialogs == []  # the planted <script> never ran


def _markup_shows_as_text(page: Page, site: RunningPortal, portal: Portal) -> None:
    rows = portal.list_opportunities(per_page=200).items
    planted = next(o for o in rows if "<script>" in o.account_name)
    page.goto(site.url(f"/opportunities/{planted.opportunity_id}"))
    expect(page.locator("#ctl00_main_lblAccount")).to_have_text(planted.account_name)
    assert page.locator("#ctl00_content b, #ctl00_content script").count() == 0


def test_csv_export_downloads_the_filtered_window(page: Page, tmp_path: Path) -> None:
    start, end = START, END
    with running_portal(tmp_path, "globex") as server, server.open_db() as portal:
        page.goto(f"{server.base_url}/opportunities?end_from={start}&end_to={end}")
        log_in(page, server)
        with page.expect_download() as info:
            page.locator("#ctl00_main_lnkExport").click()
        download = info.value
        assert download.suggested_filename == "opportunities.csv"
        body = Path(download.path()).read_text(encoding="utf-8")
        assert body == portal.opportunities_csv(end_from=start, end_to=end)
        assert body.startswith("opportunity_id,account_id,account_name,")


def test_forged_posts_are_refused_and_unknown_pages_say_so(page: Page, tmp_path: Path) -> None:
    with running_portal(tmp_path, "globex") as server, server.open_db() as portal:
        opportunity_id = portal.list_opportunities().items[0].opportunity_id
        page.goto(f"{server.base_url}/opportunities/{opportunity_id}")
        log_in(page, server)
        token = page.locator("input[name=csrf_token]").first.input_value()
        editor = f"{server.base_url}/editor/{opportunity_id}"
        save = {"ctl00$main$btnSave": "Save", "ctl00$main$txtExtRef": "forged"}
        assert page.request.post(editor, form=save).status == 403
        answer = page.request.post(editor, form={**save, "csrf_token": token})
        assert answer.status == 200 and "editing session expired" in answer.text()
        assert portal.find_quotes(external_ref="forged") == []
        missing = page.goto(server.url("/opportunities/OPP-NOPE"))
        assert missing is not None and missing.status == 404
        expect(page.locator("#ctl00_main_valSummary")).to_have_text(
            "Opportunity OPP-NOPE was not found."
        )


def test_pager_shows_first_last_and_a_window_around_the_current_page() -> None:
    numbers = [number for number, _ in _pages(6, 12, {"sort": "contract_end"})]
    assert numbers == [1, None, 3, 4, 5, 6, 7, 8, 9, None, 12]
    links = dict(_pages(6, 12, {"sort": "contract_end"}))
    assert links[6] is None  # the current page is not a link
    assert links[7] == "/opportunities?sort=contract_end&page=7"
    assert [number for number, _ in _pages(1, 3, {})] == [1, 2, 3]
