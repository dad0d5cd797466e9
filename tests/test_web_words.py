"""Each role reads its pages in words: no rule, state, step or decision code where a word
exists, every amount with its currency, the item page's "why" above the fold, a failed
run's story with a "run again" that reaches the scheduler, and nothing an auditor typed is
lost (a 10,000-character note, a note too long, two auditors on one item).

Real bots on a sandbox portal fill the store (quoted, flagged, bad data, booked); then the
portal resets the bot user's password and a real quoting run fails on it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from bot_helpers import engagement_for
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sandbox_helpers import change_password
from web_helpers import BotOutput, bot_output, running_web, sign_in

import scheduler
from bots import RunOptions, run_engagement
from schemas.words import (
    FIELD_WORDS,
    RULE_WORDS,
    RUN_STATUS_WORDS,
    STEP_WORDS,
    TRAIL_WORDS,
    unlabelled_rules,
)
from schemas.work import OUTCOMES, ItemState, RunStatus

# One bot run (`output`) serves every test here: in parallel runs they share a worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("words")]

CODES = sorted(
    {
        code
        for words in (RULE_WORDS, STEP_WORDS, TRAIL_WORDS, FIELD_WORDS, OUTCOMES, RUN_STATUS_WORDS)
        for code in words
        if "_" in code
    }
)
"""Codes that are unmistakably codes (snake_case): none may be read where a word exists."""
AMOUNT = re.compile(r"(?<![\w.,/:-])[+-]?[0-9]{1,3}(?:,[0-9]{3})*(?:[0-9]*)\.[0-9]{2,}(?![0-9])")
FOLD: ViewportSize = {"width": 1366, "height": 900}


@dataclass
class Site:
    output: BotOutput
    base_url: str
    failed_run: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with bot_output(tmp_path_factory.mktemp("words"), opportunities=16) as output:
        engagement = engagement_for(output.portal)
        settings = output.settings.model_copy(
            update={"database_url": f"sqlite:///{output.db_path}"}
        )
        # The schedules on the scheduler, as `quotebot schedule add` puts them there.
        scheduled = scheduler.load_engagements(output.engagements)[0]
        with scheduler.job_editor(settings) as editor:
            scheduler.schedule_engagement(
                editor, scheduled, output.engagements, scheduler.process_store(settings)
            )
        change_password(output.portal)
        options = RunOptions(today=output.portal.config.today, progress=False)
        failed = run_engagement(
            engagement, "quote", output.store, settings=output.settings, options=options
        )
        assert failed.run.status is RunStatus.FAILED and failed.run.error
        with running_web(output) as base_url:
            yield Site(output, base_url, failed.run.id)


def read(page: Page) -> str:
    """What a person reads on the page: its rendered text, the small expert codes aside."""
    text: str = page.evaluate(
        "() => { document.querySelectorAll('.code').forEach(e => e.hidden = true);"
        " return document.body.innerText; }"
    )
    return text


def assert_in_words(text: str, where: str) -> None:
    found = [code for code in CODES if re.search(rf"\b{re.escape(code)}\b", text)]
    assert not found, f"{where} shows codes {found}"
    without = [
        m.group(0)
        for m in AMOUNT.finditer(text)
        if not re.search(r"[A-Z]{3} $", text[max(0, m.start() - 4) : m.start()])
    ]
    assert not without, f"{where} shows amounts without their currency: {without[:5]}"


def test_every_rule_has_words() -> None:
    assert unlabelled_rules() == []


def test_the_auditor_reads_the_queue_and_an_item_in_words(page: Page, site: Site) -> None:
    page.set_viewport_size(FOLD)
    sign_in(page, site.base_url, "alice", "/review")
    queue = page.get_by_test_id("queue")
    expect(queue.locator("tbody tr").first).to_be_visible()
    assert_in_words(read(page), "the review queue")
    stakes = [t.strip() for t in page.get_by_test_id("at-stake").all_inner_texts()]
    assert stakes and all(re.fullmatch(r"[A-Z]{3} [0-9,]+(\.[0-9]+)?|–", s) for s in stakes)

    store = site.output.store
    flagged = next(i for i in store.items() if i.state is ItemState.FLAGGED)
    page.goto(f"{site.base_url}/review/{flagged.id}")
    findings = page.get_by_test_id("findings")
    expect(findings).to_be_visible()
    assert_in_words(read(page), f"item {flagged.id}'s page")
    # Why it was flagged, and the decision, without scrolling a 1366x900 screen.
    for part in (findings, page.get_by_test_id("decide")):
        box = part.bounding_box()
        assert box is not None and box["y"] + box["height"] <= FOLD["height"], box
    first = store.findings(flagged.id)[0]
    expect(findings).to_contain_text(RULE_WORDS[first.rule])

    bad = next(i for i in store.items() if i.state is ItemState.FAILED)
    page.goto(f"{site.base_url}/review/{bad.id}")
    why = page.get_by_test_id("why-here")
    said = str(bad.failure_reason).removeprefix(f"{bad.failure_code}: ")
    expect(why).to_contain_text(f"{RULE_WORDS[str(bad.failure_code)]}: {said}")
    expect(why).not_to_contain_text("No finding")
    assert_in_words(read(page), f"bad-data item {bad.id}'s page")


def test_operations_read_a_failed_run_and_run_it_again(page: Page, site: Site) -> None:
    store = site.output.store
    run = store.run(site.failed_run)
    sign_in(page, site.base_url, "olga", "/runs")
    assert_in_words(read(page), "the runs list")
    for listed in store.recent_runs(None, limit=100):
        row = page.locator(f"tr[data-run='{listed.id}']")
        failures = any(listed.counts.get(k) for k in ("failed", "to_review", "failed_system"))
        if listed.status is RunStatus.SUCCEEDED and failures:
            expect(row).to_contain_text("finished, with failures")

    page.goto(f"{site.base_url}/runs/{run.id}")
    assert_in_words(read(page), "the failed run's page")
    expect(page.get_by_test_id("status")).to_have_text("failed")
    reason = str(run.error).split("\n")[0]
    expect(page.get_by_test_id("reason")).to_contain_text(reason[1:60])
    expect(page.get_by_test_id("started")).to_have_text(f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC")
    expect(page.get_by_test_id("duration")).to_contain_text(re.compile(r"\d+ min \d\d s"))
    expect(page.get_by_test_id("story")).not_to_contain_text("No item worked yet")

    page.get_by_test_id("run-again").click()
    expect(page.get_by_test_id("done")).to_contain_text("the scheduler starts a new quoting run")
    [control] = [c for c in store.schedule_controls() if c.kind == "quote"]
    assert control.changed_by == "olga" and control.run_requested_at is not None
    assert any(t.action == "schedule_run_now" and t.actor == "olga" for t in store.trail())
    # The scheduler takes the request: the quoting job is due now.
    settings = site.output.settings.model_copy(
        update={"database_url": f"sqlite:///{site.output.db_path}"}
    )
    with scheduler.job_editor(settings) as editor:
        scheduler.Controls(editor, store, grace_s=900).apply()
        due = editor.get_job(f"quote:{run.engagement}").next_run_time
        assert due is not None and due <= datetime.now(UTC)


def test_the_manager_reads_the_dashboard_in_words(page: Page, site: Site) -> None:
    sign_in(page, site.base_url, "mia", "/dashboard")
    expect(page.get_by_test_id("cycle-times")).to_be_visible()
    text = read(page)
    assert_in_words(text, "the dashboard")
    assert "p50" not in text and "p90" not in text
    assert text.count("Findings by rule") == 1
    page.goto(f"{site.base_url}/dashboard?engagement=nope")
    expect(page.get_by_role("alert")).to_contain_text("There is no engagement of that name")
    expect(page.get_by_test_id("who")).to_contain_text("mia")  # the menu stays


def _flagged(site: Site, skip: set[int]) -> int:
    queued = [
        i.id for i in site.output.store.items() if i.state is ItemState.FLAGGED and i.id not in skip
    ]
    assert queued, "the bots flagged no quote left to decide"
    return queued[0]


def test_a_note_of_ten_thousand_characters_is_saved_whole(page: Page, site: Site) -> None:
    item = _flagged(site, set())
    note = ("The portal's unit price follows last year's price book; " * 200)[:9_999] + "."
    sign_in(page, site.base_url, "alice", f"/review/{item}")
    page.get_by_role("radio", name="Escalate").check()
    page.get_by_label("Note").fill(note)
    expect(page.get_by_test_id("note-count")).to_have_text("10,000 of 20,000 characters")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("done")).to_have_text("Saved: escalated.")
    assert site.output.store.reviews(item)[-1].note == note

    # Past the limit: said before saving, refused by the server, and kept as typed.
    longer = "x" * 20_001
    page.goto(f"{site.base_url}/review/{item}")
    page.get_by_role("radio", name="Escalate").check()
    page.get_by_label("Note").fill(longer)
    expect(page.get_by_test_id("note-count")).to_contain_text("1 too many")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("problem")).to_contain_text("20,001 characters")
    assert page.get_by_label("Note").input_value() == longer
    assert len(site.output.store.reviews(item)) == 1


def test_the_second_auditor_keeps_the_note_and_is_told_who_decided(
    page: Page, browser: Browser, site: Site
) -> None:
    decided = {i.id for i in site.output.store.items() if site.output.store.reviews(i.id)}
    item = _flagged(site, decided)
    sign_in(page, site.base_url, "alice", f"/review/{item}")
    other = browser.new_context(viewport=FOLD)
    second = other.new_page()
    sign_in(second, site.base_url, "bob", f"/review/{item}")
    note = "Checked with the client: the discount was agreed in writing."
    second.get_by_role("radio", name="Send back for correction").check()
    second.get_by_label("Note").fill(note)

    page.get_by_role("radio", name="Accept").check()
    page.get_by_label("Reason for accepting").select_option("false_positive")
    page.get_by_label("Note").fill("Price agreed by the account manager.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("done")).to_have_text("Saved: accepted.")

    second.get_by_role("button", name="Save decision").click()
    problem = second.get_by_test_id("problem")
    expect(problem).to_contain_text("alice decided it at")
    expect(problem).to_contain_text("accepted")
    expect(second.get_by_test_id("kept-note").locator("textarea")).to_have_value(note)
    reviews = site.output.store.reviews(item)
    assert [r.reviewer for r in reviews] == ["alice"]
    other.close()


def test_page_text_helpers_catch_codes_and_bare_amounts() -> None:
    """The checks above can fail: a code or an amount without currency is caught."""
    with pytest.raises(AssertionError, match="late_quote"):
        assert_in_words("Rules: late_quote", "a page")
    with pytest.raises(AssertionError, match="325,920.00"):
        assert_in_words("At stake 325,920.00", "a page")
    assert_in_words("At stake JPY 325,920 and USD +11,368.40", "a page")


def test_the_exports_open_with_headers_in_words_and_numbers_as_numbers(
    page: Page, site: Site, tmp_path: Path
) -> None:
    sign_in(page, site.base_url, "mia", "/dashboard")
    headings = page.locator(
        "section.card h2, section.card caption, section.card summary"
    ).all_inner_texts()
    shown_rules = page.locator("[data-testid=findings-by-rule] tr[data-rule] td:first-child")
    rules_on_page = {t.strip() for t in shown_rules.all_inner_texts()}
    assert rules_on_page, "the bots' run has findings"

    with page.expect_download() as got:
        page.get_by_test_id("exports").get_by_role("link", name="CSV").click()
    with Path(got.value.path()).open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == [
            *("Table", "Day", "Engagement", "From → to", "Rule", "Severity"),
            *("Week of", "Renewal", "Currency", "Figure", "Value"),
        ]
        rows = list(reader)
    # The same words as the page: each table is named as the dashboard heads it.
    assert all(any(h.startswith(r["Table"]) for h in headings) for r in rows), headings
    assert not [r for r in rows for v in r.values() if re.search(r"\b[a-z]+_[a-z_]+\b", v)]
    by = {(r["Table"], r["Engagement"], r["Figure"]): r["Value"] for r in rows}
    rate = by[("Per engagement", "all", "First-pass accuracy (%)")]
    assert 0 <= float(rate) <= 100 and len(rate.split(".")[-1]) <= 4, rate
    assert by[("Per engagement", "all", "Entered")].isdigit()
    median = next(v for (t, _, f), v in by.items() if f == "Median (half took less) (hours)")
    assert float(median) >= 0
    assert {r["Rule"] for r in rows if r["Table"] == "Findings by rule"} == rules_on_page

    with page.expect_download() as got:
        page.get_by_test_id("exports").get_by_role("link", name="XLSX").click()
    got.value.save_as(tmp_path / "figures.xlsx")
    book = openpyxl.load_workbook(tmp_path / "figures.xlsx")
    assert "Per engagement" in book.sheetnames and "Cycle times" in book.sheetnames
    sheet = book["Per engagement"]
    header = [c.value for c in sheet[1]]
    assert "First-pass accuracy" in header and not [h for h in header if "_" in str(h)]
    rate_cell = sheet.cell(row=2, column=header.index("First-pass accuracy") + 1)
    assert isinstance(rate_cell.value, float) and rate_cell.number_format == "0.0%"
    cycles = book["Cycle times"]
    header = [c.value for c in cycles[1]]
    median_cell = cycles.cell(row=2, column=header.index("Median (half took less)") + 1)
    # A spreadsheet duration (a number of days; openpyxl reads it back as a timedelta).
    assert isinstance(median_cell.value, timedelta) and median_cell.number_format == "[h]:mm:ss"
    assert {row[0] for row in book["Findings by rule"].iter_rows(min_row=2, values_only=True)} == (
        rules_on_page
    )
