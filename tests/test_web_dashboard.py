"""Managers and operations in a real Chromium: the dashboard and the report agree with the
database, runs with outcomes and evidence, retry, and the schedule's pause / run now."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from web_helpers import BotOutput, running_web, sign_in

import scheduler
from quotebot import cli
from schemas.settings import Settings
from schemas.work import FailureKind, ItemState, outcome_label

# In parallel runs these share a worker: one bot run (`web_output`) serves every web test.
pytestmark = pytest.mark.xdist_group("web")

SCREENS = Path(os.environ.get("QUOTEBOT_SCREENSHOTS", "/tmp/quotebot-screens"))
BUCKETS = [
    (-(10**6), -1, "overdue"),
    (0, 30, "0-30"),
    (31, 60, "31-60"),
    (61, 90, "61-90"),
    (91, 120, "91-120"),
    (121, 10**6, ">120"),
]


@pytest.fixture(scope="module")
def output(web_output: BotOutput) -> BotOutput:
    return web_output


@pytest.fixture(scope="module")
def web_url(output: BotOutput) -> Iterator[str]:
    with running_web(output) as url:
        yield url


def _expected(db_path: Path, today: date) -> dict[str, object]:
    """The figures computed straight from the database with SQL, independently of the app."""
    db = sqlite3.connect(db_path)
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    distinct = "SELECT COUNT(DISTINCT item_id) FROM item_events WHERE to_state = '{}'"
    first_checks = db.execute(
        "SELECT to_state FROM (SELECT item_id, to_state, ROW_NUMBER() OVER (PARTITION BY item_id "
        "ORDER BY at, id) AS n FROM item_events WHERE from_state = 'entered' AND to_state IN "
        "('verified', 'flagged')) WHERE n = 1"
    ).fetchall()
    leads = db.execute(
        "SELECT julianday(contract_end) - julianday(json_extract(snapshot, '$.quote_date')) "
        "FROM work_items WHERE contract_end IS NOT NULL AND id IN "
        "(SELECT item_id FROM item_events WHERE to_state = 'entered')"
    ).fetchall()
    waiting = db.execute(
        "SELECT julianday(contract_end) - julianday(?) FROM work_items WHERE state IN "
        "('new', 'priced', 'failed') AND id NOT IN "
        "(SELECT item_id FROM item_events WHERE to_state = 'entered')",
        (today.isoformat(),),
    ).fetchall()
    read_to_entered = [
        (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600
        for a, b in db.execute(
            "SELECT MIN(CASE WHEN from_state IS NULL THEN at END), "
            "MIN(CASE WHEN to_state = 'entered' THEN at END) FROM item_events GROUP BY item_id "
            "HAVING MIN(CASE WHEN to_state = 'entered' THEN at END) IS NOT NULL"
        )
    ]
    backlog = {label: 0 for _, _, label in BUCKETS} | {"no date": 0}
    for (days,) in waiting:
        label = "no date" if days is None else next(x for a, b, x in BUCKETS if a <= days <= b)
        backlog[label] += 1
    findings = dict(db.execute("SELECT rule, COUNT(*) FROM findings GROUP BY rule").fetchall())
    figures = {
        "entered": one(distinct.format("entered")),
        "verified": one(distinct.format("verified")),
        "booked": one(distinct.format("booked")),
        "first_pass": _pct(sum(s == "verified" for (s,) in first_checks), len(first_checks)),
        "early": _pct(sum(d >= 120 for (d,) in leads), len(leads)),
        "findings": findings,
        "backlog": backlog,
        "p50_read_to_entered": float(np.percentile(read_to_entered, 50)),
        "p90_read_to_entered": float(np.percentile(read_to_entered, 90)),
        "window": one("SELECT MIN(date(at)) || ' ' || MAX(date(at)) FROM item_events").split(),
    }
    db.close()
    return figures


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %"


def _shown(page: Page) -> dict[str, object]:
    """The same figures as the page (dashboard or report) shows them."""
    tile = lambda name: page.locator(f"[data-metric={name}]").inner_text()  # noqa: E731
    cycle = page.locator(
        "[data-testid=cycle-times] tr[data-engagement=all][data-span=read_to_entered] "
        "td[data-hours]"
    )
    backlog = page.locator("[data-testid=backlog] tr[data-engagement=all] td[data-bucket]")
    rules = page.locator("[data-testid=findings-by-rule] tr[data-rule]")
    findings: dict[str, int] = {}
    for row in rules.all():
        rule = row.get_attribute("data-rule") or ""
        findings[rule] = findings.get(rule, 0) + int(row.locator("td").nth(2).inner_text())
    return {
        "entered": int(tile("entered")),
        "verified": int(tile("verified")),
        "booked": int(tile("booked")),
        "first_pass": tile("first_pass_rate"),
        "early": tile("early_share"),
        "findings": findings,
        "backlog": {c.get_attribute("data-bucket"): int(c.inner_text()) for c in backlog.all()},
        "p50_read_to_entered": float(cycle.nth(0).get_attribute("data-hours") or "nan"),
        "p90_read_to_entered": float(cycle.nth(1).get_attribute("data-hours") or "nan"),
    }


def _agree(shown: dict[str, object], expected: dict[str, object]) -> None:
    for key in ("entered", "verified", "booked", "first_pass", "early", "findings", "backlog"):
        assert shown[key] == expected[key], key
    for key in ("p50_read_to_entered", "p90_read_to_entered"):
        assert shown[key] == pytest.approx(expected[key], abs=1e-3), key


def test_the_dashboard_and_the_report_show_the_numbers_in_the_database(
    page: Page, web_url: str, output: BotOutput, tmp_path: Path
) -> None:
    today = output.portal.config.today
    expected = _expected(output.db_path, today)
    assert expected["booked"], "the booking run booked some quotes"
    since, until = expected["window"]  # type: ignore[misc]
    sign_in(page, web_url, "mia", f"/dashboard?since={since}&until={until}")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    _agree(_shown(page), expected)
    expect(page.locator("svg.chart")).to_have_count(3)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / "dashboard.png", full_page=True)
    page.goto(f"{web_url}/dashboard?since=&until=&engagement=")  # cleared fields: defaults
    expect(page.locator("[data-metric=entered]")).to_be_visible()

    env = {"QUOTEBOT_DATABASE_URL": f"sqlite:///{output.db_path}"}
    outs = {}
    for fmt in ("html", "csv", "xlsx"):
        outs[fmt] = tmp_path / f"report.{fmt}"
        result = CliRunner().invoke(
            cli,
            [
                "report",
                "--since",
                since,
                "--until",
                until,
                "--format",
                fmt,
                "--out",
                str(outs[fmt]),
                "--today",
                today.isoformat(),
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
    html = outs["html"].read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|(src|href)=\"https?:", html), "self-contained"
    page.goto(outs["html"].as_uri())
    _agree(_shown(page), expected)
    expect(page.locator("svg.chart")).to_have_count(3)

    rows = pd.read_csv(outs["csv"])
    total = rows[(rows["Table"] == "Per engagement") & (rows["Engagement"] == "all")]
    figures = dict(zip(total["Figure"], total["Value"], strict=True))
    assert [int(figures[k]) for k in ("Entered", "Verified", "Booked")] == [
        expected["entered"],
        expected["verified"],
        expected["booked"],
    ]
    sheet = load_workbook(outs["xlsx"], read_only=True)["Per engagement"]
    header, *body = list(sheet.values)
    all_row = dict(zip(header, next(r for r in body if r[0] == "all"), strict=True))
    assert all_row["Booked"] == expected["booked"]


def test_the_review_item_page_shows_both_quotes_findings_and_screenshot(
    page: Page, web_url: str, output: BotOutput
) -> None:
    # One with a line difference: the review tests may already have decided the first ones.
    item = next(
        i
        for i in output.store.items(state=ItemState.FLAGGED)
        if output.store.evidence(i.id) and any(f.sku for f in output.store.findings(i.id))
    )
    sign_in(page, web_url, "alice", f"/review/{item.id}")
    expect(page.get_by_test_id("compare-lines").locator("td.diffcell").first).to_be_visible()
    expect(page.get_by_test_id("findings").locator("tbody tr")).to_have_count(
        len(output.store.findings(item.id))
    )
    shot = page.get_by_test_id("screenshot").first
    expect(shot).to_be_visible()
    assert shot.evaluate("img => img.naturalWidth") > 0
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / "review_item.png", full_page=True)


def test_operations_see_runs_download_evidence_and_retry_a_failed_item(
    page: Page, web_url: str, output: BotOutput
) -> None:
    failed = output.store.items(state=ItemState.FAILED)[0]
    first = output.store.runs()[0]
    sign_in(page, web_url, "olga")
    expect(page).to_have_url(f"{web_url}/runs")
    page.get_by_role("link", name=f"#{first.id}").click()
    outcomes = page.get_by_test_id("outcomes")
    expect(page.get_by_test_id("progress")).to_contain_text("items worked")
    row = outcomes.locator("tr", has_text=failed.opportunity_id)
    # In the one vocabulary of outcomes: bad data reads as such, a system failure as failed.
    expect(row).to_contain_text(outcome_label(failed.state, failed.failure_kind))
    row.get_by_role("link", name=failed.opportunity_id).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the page's HTML").first.click()
    assert download.value.suggested_filename.endswith("-page.html")
    expect(page.get_by_test_id("screenshot").first).to_be_visible()
    if failed.failure_kind is FailureKind.BUSINESS:  # bad data goes back with a note only
        page.get_by_label("What was fixed").fill("price list corrected")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_test_id("done")).to_contain_text("back to new")
    assert output.store.item(failed.id).state is ItemState.NEW
    line = output.store.trail(failed.id)[0]
    assert (line.actor, line.action, line.after) == ("olga", "retry", {"state": "new"})


def test_operations_pause_resume_and_run_a_schedule_now(
    page: Page, web_url: str, output: BotOutput
) -> None:
    sign_in(page, web_url, "olga", "/schedule")
    quote = page.get_by_test_id("schedule").locator("tr[data-kind=quote]")
    expect(quote).to_contain_text("not added (quotebot schedule add)")
    # What `quotebot schedule add --all` does: the scheduler's job store has the schedules.
    settings = Settings(database_url=f"sqlite:///{output.db_path}")
    with scheduler.job_editor(settings) as editor:
        for engagement in scheduler.load_engagements(output.engagements):
            scheduler.schedule_engagement(editor, engagement, output.engagements, output.store)
    page.reload()
    expect(quote).to_contain_text("scheduled")
    expect(quote).to_contain_text("active")
    expect(quote).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d 06:00"))
    quote.get_by_role("button", name="Pause").click()
    expect(quote).to_contain_text("paused")
    controls = {c.kind: c for c in output.store.schedule_controls()}
    assert controls["quote"].paused and controls["quote"].changed_by == "olga"
    quote.get_by_role("button", name="Resume").click()
    expect(quote).to_contain_text("active")
    quote.get_by_role("button", name="Run now").click()
    expect(quote.locator("td").nth(6)).not_to_be_empty()
    control = next(c for c in output.store.schedule_controls() if c.kind == "quote")
    assert not control.paused and control.run_requested_at is not None
    actions = [t.action for t in output.store.trail() if t.actor == "olga"]
    assert {"schedule_paused", "schedule_resumed", "schedule_run_now"} <= set(actions)


def test_an_auditor_cannot_pause_a_schedule(page: Page, web_url: str, output: BotOutput) -> None:
    sign_in(page, web_url, "bob", "/schedule")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post(
        f"{web_url}/schedule/acme/booking/pause", form={"csrf_token": token}
    )
    assert response.status == 403
    assert all(c.kind != "booking" for c in output.store.schedule_controls())


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--until", "9999-12-31"], "--until"), (["--since", "1999-12-31"], "--since")],
)
def test_report_refuses_a_day_outside_the_figures_range_by_option_name(
    tmp_path: Path, args: list[str], named: str
) -> None:
    out = tmp_path / "report.csv"
    env = {"QUOTEBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite'}"}
    result = CliRunner().invoke(cli, ["report", *args, "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert f"{named} must be between 2000-01-01 and 2100-12-31" in result.output
    assert not out.exists()
