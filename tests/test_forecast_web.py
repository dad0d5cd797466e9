"""The forecast panel and the sampled accuracy in a real Chromium: a manager sees the
renewals that will miss the line by name, the money at risk, the change that saves them;
an auditor decides samples in the queue and the accuracy figure moves. Screenshots go to
$QUOTEBOT_SHOTS (default /work/shots/forecast) for a person to look at."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bot_helpers import write_engagements
from playwright.sync_api import Locator, Page, expect
from test_forecast import TODAY, missed, seeded_calendar, simulate_schedule, weekday_mornings
from test_forecast_cli import Clock, record_history, scheduled
from test_web_words import assert_in_words, read
from web_helpers import PASSWORD, PEOPLE, SECRET, sign_in
from web_helpers import decide as _decide

from sandbox.generate import generate
from schemas.forecast import Renewal
from schemas.money import show_money
from schemas.work import ItemState
from store import Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

SHOTS = Path(os.environ.get("QUOTEBOT_SHOTS", "/work/shots/forecast"))


@dataclass
class Site:
    url: str
    store: Store
    expected: set[str]
    calendar: list[Renewal]


def with_yen(calendar: list[Renewal]) -> list[Renewal]:
    """The seeded calendar with every sixth renewal in JPY (a currency without decimals)."""
    return [
        r.model_copy(update={"currency": "JPY", "annual_value": _yen(r.annual_value)})
        if k % 6 == 0
        else r
        for k, r in enumerate(calendar)
    ]


def _yen(value: Decimal | None) -> Decimal:
    return (Decimal(150) * (value or Decimal(0))).quantize(Decimal(1))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("forecast_web")
    paths = generate(folder / "portal", 7, 5, TODAY, client="acme")
    engagement = scheduled("acme", paths.rules)
    engagements = write_engagements(folder / "engagements.yaml", [engagement])
    clock = Clock(datetime(2026, 2, 1, tzinfo=UTC))
    store = open_store(f"sqlite:///{folder / 'quotebot.sqlite'}", clock=clock)
    store.ensure_engagement("acme", "acme", "http://127.0.0.1:1/")
    record_history(store, clock)
    calendar = with_yen(seeded_calendar())
    store.keep_renewals("acme", calendar)
    for item in store.items("acme", state=ItemState.ENTERED)[:6]:
        store.transition(item.id, "verified")
    for item in store.items("acme", state=ItemState.VERIFIED)[:3]:
        store.add_sample(item.id, "share")
    for name, role in PEOPLE.items():
        store.add_user(name, role, hash_password(PASSWORD), all_engagements=True)
    clock.now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    done = simulate_schedule(
        calendar, weekday_mornings(TODAY, 26), workers=1, hours=1.0, rate=2.0, days_to=150
    )
    app = create_app(
        store, WebSettings(secret_key=SECRET), engagements=engagements, today=TODAY, home=folder
    )
    with WebServer(app) as url:
        yield Site(url, store, missed(calendar, done), calendar)
    store.close()


def shot(where: Page | Locator, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if isinstance(where, Page):
        where.screenshot(path=str(SHOTS / name), full_page=True)
    else:
        where.screenshot(path=str(SHOTS / name))


def test_a_manager_sees_who_will_miss_the_line_the_money_and_the_change(
    page: Page, site: Site
) -> None:
    sign_in(page, site.url, "mia", "/dashboard")
    panel = page.get_by_test_id("forecast")
    expect(panel).to_be_visible()
    rows = panel.get_by_test_id("at-risk").locator("tbody tr")
    expect(rows).to_have_count(len(site.expected))
    named = {rows.nth(i).get_attribute("data-opportunity") for i in range(rows.count())}
    assert named == site.expected
    by_id = {r.opportunity_id: r for r in site.calendar}
    money = panel.get_by_test_id("money-at-risk")
    for currency in ("EUR", "JPY"):
        total = sum(
            (
                by_id[i].annual_value or Decimal(0)
                for i in site.expected
                if by_id[i].currency == currency
            ),
            Decimal(0),
        )
        assert total, f"the seeded calendar puts renewals in {currency} at risk"
        expect(money).to_contain_text(show_money(total, currency))
    expect(panel.get_by_test_id("missing")).to_have_text(str(len(site.expected)))
    expect(panel.get_by_test_id("change")).to_contain_text("it saves them")
    first = sorted(site.expected, key=lambda i: (by_id[i].contract_end, i))[0]
    expect(rows.first).to_contain_text(by_id[first].account_name)
    accuracy = page.get_by_test_id("sampled-accuracy")
    expect(accuracy.get_by_test_id("p-hat")).to_have_text("no sample decided yet")
    shot(panel, "1-dashboard-forecast-panel.png")


def test_the_forecast_panel_speaks_the_managers_words(page: Page, site: Site) -> None:
    """Money as every other page shows it (JPY without decimals), no percentile or
    statistics jargon, and the figures still there in words."""
    sign_in(page, site.url, "mia", "/dashboard")
    panel = page.get_by_test_id("forecast")
    expect(panel.get_by_test_id("at-risk")).to_be_visible()
    text = read(page)
    assert_in_words(text, "the dashboard with its forecast panel")
    jargon = [j for j in ("P50", "P80", "p̂", "p50", "p80", "n = ") if j in text]
    assert not jargon, f"the dashboard shows {jargon}"
    assert not re.search(r"JPY [0-9,]+\.[0-9]", text), "JPY shown with decimals"
    # Every amount of the panel carries its currency, the bands' bounds included.
    bare = re.findall(r"(?<![A-Z]{3} )(?<![0-9,.])[0-9]{1,3}(?:,[0-9]{3})+", read_panel(page))
    assert not bare, f"amounts without their currency: {bare[:5]}"
    expect(panel).to_contain_text("likely")
    expect(panel).to_contain_text(re.compile(r"8 in 10 forecasts between [0-9]+ and [0-9]+"))
    expect(panel).to_contain_text(re.compile(r"8 in 10 forecasts between EUR [0-9,.]+ and EUR "))
    accuracy = page.get_by_test_id("sampled-accuracy")
    expect(accuracy).to_contain_text("measured share", ignore_case=True)
    shot(page, "4-dashboard-in-words.png")


def read_panel(page: Page) -> str:
    text: str = page.get_by_test_id("forecast").inner_text()
    return text


def test_an_auditor_decides_samples_and_the_accuracy_moves(page: Page, site: Site) -> None:
    sign_in(page, site.url, "alice", "/review")
    badges = page.get_by_test_id("queue").get_by_test_id("sample")
    expect(badges).to_have_count(3)
    shot(page, "2-queue-with-samples.png")

    waiting = sorted(i.id for i in site.store.review_queue())
    decide(page, site.url, waiting[0], "accept", "each line checked", reason="sample_right")
    page.goto(site.url + "/dashboard")
    p_hat = page.get_by_test_id("sampled-accuracy").get_by_test_id("p-hat")
    expect(p_hat).to_have_text("0 % of 1 decided: at most 100.0 %, 95 % sure (rule of three)")

    decide(page, site.url, waiting[1], "correct", "the discount is last year's")
    page.goto(site.url + "/dashboard")
    expect(p_hat).to_have_text("50.0 % of 2 decided: between 9.5 and 90.5 %, 95 % sure (Wilson)")
    assert site.store.item(waiting[1]).state is ItemState.PRICED
    shot(page.get_by_test_id("sampled-accuracy"), "3-dashboard-sampled-accuracy.png")


def decide(page: Page, url: str, item_id: int, action: str, note: str, reason: str = "") -> None:
    page.goto(f"{url}/review/{item_id}")
    _decide(page, action, note, reason or None)
    expect(page.get_by_role("status")).to_be_visible()
