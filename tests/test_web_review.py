"""The quote audit team in a real Chromium: sign-in, the review queue, each decision, the
audit trail, roles, CSRF, two auditors at once, and a corrected quote re-entered once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bot_helpers import engagement_for
from playwright.sync_api import Browser, Page, expect
from web_helpers import PASSWORD, BotOutput, running_web, sign_in
from web_helpers import decide as _decide

from bots import RunOptions, run_engagement
from sandbox import MARKUP_NAME
from schemas.engagement import Engagement
from schemas.work import ItemState, ReviewAction, WorkItem

# In parallel runs these share a worker: one bot run (`web_output`) serves every web test.
pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def output(web_output: BotOutput) -> BotOutput:
    return web_output


@pytest.fixture(scope="module")
def web_url(output: BotOutput) -> Iterator[str]:
    with running_web(output) as url:
        yield url


def _flagged(output: BotOutput) -> list[WorkItem]:
    return output.store.items(state=ItemState.FLAGGED)


def test_a_person_without_a_session_is_sent_to_the_login(page: Page, web_url: str) -> None:
    for path in ("/", "/review", "/review/1", "/trail", "/runs", "/schedule", "/dashboard"):
        page.goto(web_url + path)
        expect(page).to_have_url(re.compile(r"/login\?next="))
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "qb_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"


def test_an_auditor_works_flagged_items_to_each_outcome_and_the_trail_records_it(
    page: Page, web_url: str, output: BotOutput
) -> None:
    store = output.store
    accept, escalate, correct = _flagged(output)[:3]
    sign_in(page, web_url, "alice")
    expect(page).to_have_url(f"{web_url}/review")
    queue = page.get_by_test_id("queue")
    expect(queue.locator(f"tr[data-item='{accept.id}']")).to_be_visible()
    page.get_by_label("Severity").select_option("business")
    page.get_by_role("button", name="Filter").click()
    failed = [i for i in store.review_queue() if i.state is ItemState.FAILED]
    expect(queue.locator("tbody tr")).to_have_count(len(failed))
    expect(queue.locator(f"tr[data-item='{accept.id}']")).to_have_count(0)
    page.get_by_label("Severity").select_option("")
    page.get_by_label("Rule").select_option("unit_price_mismatch")
    page.get_by_role("button", name="Filter").click()
    priced_wrong = [
        i
        for i in _flagged(output)
        if "unit_price_mismatch" in {f.rule for f in store.findings(i.id)}
    ]
    expect(queue.locator("tbody tr")).to_have_count(len(priced_wrong))
    page.goto(f"{web_url}/review")

    queue.get_by_role("link", name=accept.opportunity_id).click()
    expect(page.get_by_test_id("compare").locator("tr.diff").first).to_be_visible()
    expect(page.get_by_test_id("screenshot").first).to_be_visible()
    _decide(page, "accept", "Portal price agreed with the customer", "approved_exception")
    expect(page.get_by_test_id("done")).to_have_text("Saved: accepted.")
    expect(page.get_by_test_id("state")).to_have_text("verified")

    page.goto(f"{web_url}/review/{escalate.id}")
    _decide(page, "escalate", "Needs the account manager")
    expect(page.get_by_test_id("state")).to_have_text("flagged")

    page.goto(f"{web_url}/review/{correct.id}")
    _decide(page, "correct", "Re-enter at the list price")
    expect(page.get_by_test_id("state")).to_have_text("priced")
    expect(page.get_by_test_id("reference")).to_have_text(f"{correct.reference}-R1")

    assert store.item(accept.id).state is ItemState.VERIFIED
    assert store.item(escalate.id).state is ItemState.FLAGGED
    assert store.item(correct.id).state is ItemState.PRICED
    lines = {t.item_id: t for t in store.trail() if t.action.startswith("review_")}
    assert lines[accept.id].actor == "alice"
    assert lines[accept.id].before == {
        "state": "flagged",
        "revision": 0,
        "reference": accept.reference,
    }
    assert lines[accept.id].after == {
        "state": "verified",
        "revision": 0,
        "reference": accept.reference,
        "reason": "Approved exception",
    }
    assert lines[escalate.id].action == "review_escalate"
    assert lines[escalate.id].note == "Needs the account manager"
    assert lines[correct.id].after is not None
    assert lines[correct.id].after["reference"] == f"{correct.reference}-R1"
    assert [r.action for r in store.reviews(correct.id)] == [ReviewAction.CORRECT]

    page.goto(f"{web_url}/trail")
    trail = page.get_by_test_id("trail")
    expect(trail.get_by_text("Re-enter at the list price")).to_be_visible()
    expect(trail.locator("tr", has_text="accepted")).to_contain_text("alice")

    _the_bot_re_enters_the_corrected_quote_exactly_once(output, correct)


def _the_bot_re_enters_the_corrected_quote_exactly_once(
    output: BotOutput, corrected: WorkItem
) -> None:
    engagement = _engagement(output)
    options = RunOptions(today=output.portal.config.today, progress=False)
    for _ in range(2):  # a second run finds nothing more to do
        run_engagement(engagement, "quote", output.store, settings=output.settings, options=options)
        with output.portal.open_db() as db:
            refs = [q.external_ref for q in db.find_quotes(opportunity_id=corrected.opportunity_id)]
        assert sorted(refs) == [corrected.reference, f"{corrected.reference}-R1"]
    after = output.store.item(corrected.id)
    assert after.reference == f"{corrected.reference}-R1"
    assert after.state in {ItemState.VERIFIED, ItemState.FLAGGED}
    assert "duplicate_quote" not in {f.rule for f in output.store.findings(corrected.id)}


def _engagement(output: BotOutput) -> Engagement:
    return engagement_for(output.portal)


def test_a_manager_reads_review_items_but_cannot_act_on_them(
    page: Page, web_url: str, output: BotOutput
) -> None:
    item = _flagged(output)[-1]
    sign_in(page, web_url, "mia", f"/review/{item.id}")
    expect(page.get_by_test_id("findings")).to_be_visible()
    expect(page.get_by_test_id("decide")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post(
        f"{web_url}/review/{item.id}",
        form={
            "csrf_token": token,
            "action": "accept",
            "reason": "false_positive",
            "note": "manager tries",
            "version": "x",
        },
    )
    assert response.status == 403
    assert output.store.reviews(item.id) == []
    assert output.store.item(item.id).state is ItemState.FLAGGED


def test_a_form_post_without_the_csrf_token_is_refused(
    page: Page, web_url: str, output: BotOutput
) -> None:
    item = _flagged(output)[-1]
    sign_in(page, web_url, "bob", f"/review/{item.id}")
    version = page.locator("input[name=version]").input_value()
    for token in ({}, {"csrf_token": "forged"}):
        response = page.request.post(
            f"{web_url}/review/{item.id}",
            form={**token, "action": "escalate", "note": "forged", "version": version},
        )
        assert response.status == 403
        assert "security token" in response.text()
    assert output.store.reviews(item.id) == []


def test_two_auditors_on_one_item_the_second_is_told_and_nothing_is_lost(
    browser: Browser, web_url: str, output: BotOutput
) -> None:
    item = _flagged(output)[-1]
    first, second = browser.new_page(), browser.new_page()
    try:
        sign_in(first, web_url, "alice", f"/review/{item.id}")
        sign_in(second, web_url, "bob", f"/review/{item.id}")
        _decide(first, "accept", "False positive: promo price", "false_positive")
        expect(first.get_by_test_id("done")).to_be_visible()
        _decide(second, "correct", "bob's note, typed at the same time")
        expect(second.get_by_test_id("problem")).to_contain_text("Someone else acted")
        expect(second.get_by_test_id("state")).to_have_text("verified")
        expect(second.locator("textarea[name=note]")).to_have_count(0)
    finally:
        first.close()
        second.close()
    reviews = output.store.reviews(item.id)
    assert [(r.reviewer, r.action) for r in reviews] == [("alice", ReviewAction.ACCEPT)]
    assert output.store.item(item.id).state is ItemState.VERIFIED


def test_an_account_name_with_markup_shows_as_text_on_every_page(
    page: Page, web_url: str, output: BotOutput
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    marked = [i for i in output.store.items() if i.account_name == MARKUP_NAME]
    assert marked, "the sandbox plants an account name with markup in the window"
    sign_in(page, web_url, "mia")
    first_run = output.store.runs()[0]  # the run that quoted them
    for path in [f"/review/{i.id}" for i in marked] + [f"/runs/{first_run.id}"]:
        page.goto(web_url + path)
        expect(page.locator(".account", has_text=MARKUP_NAME).first).to_be_visible()
        expect(page.locator(".account b")).to_have_count(0)
    for path in ("/review", "/runs", "/trail", "/dashboard", "/schedule"):
        page.goto(web_url + path)
        expect(page.locator("main b", has_text="Initech")).to_have_count(0)
        expect(page.locator("main script")).to_have_count(0)
    assert dialogs == []


def test_repeated_failed_logins_are_slowed_down(
    page: Page, web_url: str, output: BotOutput
) -> None:
    from web import hash_password

    output.store.add_user("eve", "ops", hash_password(PASSWORD))
    page.goto(f"{web_url}/login")
    for _ in range(3):
        page.get_by_label("Name").fill("eve")
        page.get_by_label("Password").fill("wrong guess")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    page.get_by_label("Name").fill("eve")
    page.get_by_label("Password").fill(PASSWORD)  # even the right one must wait now
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    assert output.store.user("eve").failed_logins == 3  # type: ignore[union-attr]
