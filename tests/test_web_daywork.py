"""A day's work in a real Chromium, as each role: auditors find escalations by their filter,
go on to the next item, keep what they typed through a form error and a lapsed session;
operations read a run's failures first; managers export what the dashboard shows and read a
90-day chart with its empty days. Screenshots go to QUOTEBOT_SCREENSHOTS."""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from web_site import PASSWORD, Site, two_clients_site

from schemas.work import STILL_TO_DO, FailureKind, ItemState

SCREENS = Path(os.environ.get("QUOTEBOT_SCREENSHOTS", "/tmp/quotebot-screens"))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with two_clients_site(tmp_path) as built:
        yield built


def _sign_in(page: Page, site: Site, name: str, path: str = "/") -> None:
    page.goto(site.base_url + path)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_contain_text(name)


def _shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / name, full_page=True)


def _decide(page: Page, action: str, note: str) -> None:
    form = page.get_by_test_id("decide")
    form.locator(f"input[name=action][value={action}]").check()
    form.locator("textarea[name=note]").fill(note)
    form.get_by_role("button", name="Save decision").click()


def test_an_escalation_keeps_its_place_is_found_by_its_filter_then_the_next_item(
    page: Page, site: Site
) -> None:
    first, later = site.items["acme"]["review"], site.items["acme"]["later"]
    site.clock.now += timedelta(days=3)  # both have waited three days
    _sign_in(page, site, "alice", "/review")
    rows = page.get_by_test_id("queue").locator("tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="ACME-OPP-0").click()
    _decide(page, "escalate", "Needs the account manager: unknown SKU on a renewal.")
    expect(page.get_by_test_id("escalated")).to_be_visible()
    expect(page.get_by_test_id("trail")).to_contain_text("escalated")
    page.get_by_test_id("next").get_by_role("link", name="Next item →").click()
    expect(page).to_have_url(f"{site.base_url}/review/{later}")
    page.goto(f"{site.base_url}/review")
    expect(rows.first).to_have_attribute("data-item", str(first))  # kept its place
    expect(rows.first).to_contain_text("3 d")  # and its age
    page.get_by_label("Status").select_option("escalated")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_test_id("escalated")).to_be_visible()
    _shot(page, "auditor_escalated_filter.png")
    assert [r.action.value for r in site.store.reviews(first)] == ["escalate"]


def test_a_form_error_keeps_the_note_and_says_what_is_wrong(page: Page, site: Site) -> None:
    item_id = site.items["acme"]["review"]
    _sign_in(page, site, "alice", f"/review/{item_id}")
    note = "Customer confirmed the SKU by phone; keep this text."
    page.get_by_test_id("decide").locator("input[name=action][value=correct]").check()
    page.locator("textarea[name=note]").fill("   ")
    page.evaluate("document.querySelector('textarea[name=note]').removeAttribute('required')")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("problem")).to_have_text("Write a note saying why.")
    page.locator("textarea[name=note]").fill(note)
    page.evaluate("document.querySelectorAll('input[name=action]').forEach(i => i.remove())")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("problem")).to_contain_text("Choose a decision")
    expect(page.locator("textarea[name=note]")).to_have_value(note)
    _shot(page, "auditor_form_error_kept_note.png")
    assert site.store.reviews(item_id) == []


def test_a_decision_sent_after_the_session_expired_is_kept_through_the_sign_in(
    page: Page, site: Site
) -> None:
    item_id = site.items["acme"]["review"]
    _sign_in(page, site, "alice", f"/review/{item_id}")
    note = "Sent back: the SKU was renamed by the client."
    page.get_by_test_id("decide").locator("input[name=action][value=correct]").check()
    page.locator("textarea[name=note]").fill(note)
    site.clock.now += timedelta(hours=9)  # the session ended while she wrote
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("alert")).to_contain_text("it is kept")
    page.get_by_label("Name").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("textarea[name=note]")).to_have_value(note)
    expect(page.locator("input[name=action][value=correct]")).to_be_checked()
    assert site.store.reviews(item_id) == []  # nothing saved unseen
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("done")).to_contain_text("correct")
    assert [r.note for r in site.store.reviews(item_id)] == [note]


def test_operations_read_a_run_failures_first_filter_it_and_retry_with_a_confirmation(
    page: Page, site: Site
) -> None:
    run_id = site.runs["acme"]
    _sign_in(page, site, "olga", f"/runs/{run_id}")
    rows = page.get_by_test_id("outcomes").locator("tbody tr")
    expect(rows).to_have_count(4)
    outcomes = [rows.nth(i).get_attribute("data-outcome") for i in range(4)]
    assert outcomes == ["failed", "failed", "failed", "verified"]
    page.get_by_label("Outcome").select_option("verified")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    page.get_by_label("Outcome").select_option("")
    page.get_by_role("button", name="Show").click()
    system = site.items["acme"]["system"]
    page.locator(f"form[action='/items/{system}/retry']").get_by_role("button").click()
    expect(page.get_by_test_id("done")).to_contain_text(f"item {system} is back to new")
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}\?done=retry"))
    _shot(page, "ops_run_failures_first.png")
    assert site.store.item(system).state is ItemState.NEW


def test_a_manager_exports_what_the_dashboard_shows_and_reads_a_90_day_chart(
    page: Page, site: Site, tmp_path: Path
) -> None:
    _sign_in(page, site, "mia", "/dashboard?since=2026-09-02&until=2026-11-30")
    chart = page.locator("svg.chart").first
    expect(chart.locator("rect title", has_text="entered:")).to_have_count(90)
    expect(chart.locator("text", has_text="02 Sep")).to_have_count(1)
    expect(page.get_by_test_id("empty-period")).to_have_count(0)
    _shot(page, "manager_dashboard_90_days.png")
    with page.expect_download() as csv_download:
        page.get_by_test_id("exports").get_by_role("link", name="CSV").click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8")
    lines = list(csv.DictReader(io.StringIO(text)))
    entered = [r for r in lines if r["Table"] == "Per engagement" and r["Figure"] == "Entered"]
    assert {r["Engagement"]: r["Value"] for r in entered}["acme"] == "1"  # an integer
    with page.expect_download() as xlsx_download:
        page.get_by_test_id("exports").get_by_role("link", name="XLSX").click()
    assert xlsx_download.value.suggested_filename == "quotebot-2026-09-02-2026-11-30.xlsx"
    xlsx_download.value.save_as(tmp_path / "export.xlsx")
    book = openpyxl.load_workbook(tmp_path / "export.xlsx")
    sheet = book["Per engagement"]
    header = [c.value for c in sheet[1]]
    rate = sheet.cell(row=2, column=header.index("First-pass accuracy") + 1)
    assert rate.number_format == "0.0%"
    page.goto(f"{site.base_url}/dashboard?since=2025-01-01&until=2025-01-31")
    expect(page.get_by_test_id("empty-period")).to_be_visible()
    page.goto(f"{site.base_url}/dashboard?since=2026-11-30&until=2026-11-01")
    expect(page.get_by_role("alert")).to_contain_text("ends (2026-11-01) before it starts")


def test_bad_data_goes_back_to_the_bot_only_with_a_note(page: Page, site: Site) -> None:
    run_id, item_id = site.runs["acme"], site.items["acme"]["review"]
    _sign_in(page, site, "olga", f"/runs/{run_id}")
    form = page.locator(f"form[action='/items/{item_id}/retry']")
    form.get_by_label("What was fixed").evaluate("input => input.removeAttribute('required')")
    form.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("alert")).to_contain_text("say in the note what was fixed")
    assert site.store.item(item_id).state is ItemState.FAILED
    page.goto(f"{site.base_url}/runs/{run_id}")
    form.get_by_label("What was fixed").fill("SKU renamed in the client's price list")
    form.get_by_role("button", name="Retry").click()
    expect(page.get_by_test_id("done")).to_contain_text("back to new")
    assert site.store.item(item_id).state is ItemState.NEW
    assert site.store.trail(item_id)[0].note == "SKU renamed in the client's price list"


def test_the_schedule_page_says_whether_a_scheduler_is_alive(page: Page, site: Site) -> None:
    _sign_in(page, site, "olga", "/schedule")
    expect(page.get_by_test_id("scheduler")).to_contain_text("No scheduler is running")
    expect(page.get_by_test_id("scheduler")).to_contain_text("run now waits")
    site.store.scheduler_beat("ops-box:4242")
    page.reload()
    expect(page.get_by_test_id("scheduler")).to_contain_text("A scheduler is running (ops-box")
    site.clock.now += timedelta(minutes=5)  # it stopped beating
    page.reload()
    expect(page.get_by_test_id("scheduler")).to_contain_text("No scheduler is running")


def test_still_to_do_is_one_count_with_its_definition_on_the_runs_page_and_the_dashboard(
    page: Page, site: Site
) -> None:
    # A renewal whose quote was entered and then failed (at read-back) is no longer to do;
    # a new one is. Each engagement already has three failed before entering, one verified.
    store = site.store
    late = store.ensure_item(
        "acme", "ACME-OPP-LATE", contract_end=None, account_name="Late", data={}
    )
    for state in (ItemState.PRICED, ItemState.ENTERED):
        store.transition(late.id, state)
    store.fail(late.id, FailureKind.SYSTEM, "read-back timed out", code="timeout")
    store.ensure_item("acme", "ACME-OPP-NEW", contract_end=None, account_name="New", data={})
    with sqlite3.connect(site.db_url.removeprefix("sqlite:///")) as db:
        (expected,) = db.execute(
            "SELECT COUNT(*) FROM work_items WHERE state IN ('new', 'priced', 'failed') AND id "
            "NOT IN (SELECT item_id FROM item_events WHERE to_state = 'entered')"
        ).fetchone()
    assert expected == 7  # acme: 3 failed before entering and 1 new; globex: 3

    _sign_in(page, site, "mia", "/runs")
    line = page.get_by_test_id("still-to-do")
    counts = {
        name: int(line.locator(f"span[data-engagement={name}]").inner_text())
        for name in ("acme", "globex")
    }
    assert counts == {"acme": 4, "globex": 3}
    expect(page.get_by_text(f"Still to do: {STILL_TO_DO}.")).to_be_visible()
    page.goto(f"{site.base_url}/dashboard")
    row = page.locator("[data-testid=backlog] tr[data-engagement=all] td[data-bucket]")
    assert sum(int(c.inner_text()) for c in row.all()) == expected
    expect(page.get_by_text(f"{STILL_TO_DO}.")).to_be_visible()


def test_the_runs_list_says_how_long_each_run_took_how_fast_and_why_it_ended(
    page: Page, site: Site
) -> None:
    store, clock = site.store, site.clock
    quick = store.start_run("acme", "booking")
    clock.now += timedelta(seconds=90)
    store.finish_run(quick.id, "succeeded", {"booked": 2, "to_review": 1, "retry": 4})
    stopped = store.start_run("acme", "quote")
    clock.now += timedelta(hours=1, minutes=5)
    store.finish_run(stopped.id, "failed", {}, error="login refused by the portal\ndetails")
    _sign_in(page, site, "olga", "/runs")
    row = page.locator(f"[data-testid=runs] tr[data-run='{quick.id}']")
    expect(row.get_by_test_id("duration")).to_have_text("1 min 30 s")
    expect(row.get_by_test_id("rate")).to_have_text("2.0")  # items a minute: 3 ended in 1.5 min
    # One item to review: the run finished with failures, it is not plainly "finished".
    expect(row.get_by_test_id("finish")).to_have_text("finished; some items failed (see the run)")
    expect(row).to_contain_text("finished, with failures")
    expect(row).to_contain_text("booked 2, bad data, to review 1, to retry later 4")
    row = page.locator(f"[data-testid=runs] tr[data-run='{stopped.id}']")
    expect(row.get_by_test_id("duration")).to_have_text("1 h 05 min")
    expect(row.get_by_test_id("rate")).to_have_text("–")
    expect(row.get_by_test_id("finish")).to_have_text("login refused by the portal")
    _shot(page, "ops_runs_duration_rate_finish.png")
