"""The review queue and the item page as the quote audit team reads them about time and
money: a renewal past its 120-day line and still not quoted is marked late (not hidden);
the queue sorted by amount at stake ranks amounts within a currency, never across.

The store holds what the bots leave: bad-data items never quoted, and flagged quotes with
their expected and read-back totals in three currencies; the pages are read in Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from web_helpers import PASSWORD, PEOPLE, SECRET, sign_in

from store import QueueFilter, Store, open_store
from web import WebServer, WebSettings, create_app, hash_password

TODAY = date(2026, 3, 2)
STAKES = [
    ("OPP-USD-S", "USD", "100.00"),
    ("OPP-JPY-L", "JPY", "325920"),
    ("OPP-USD-L", "USD", "20000.50"),
    ("OPP-EUR", "EUR", "700.00"),
    ("OPP-JPY-S", "JPY", "1000"),
]
"""Flagged quotes in three currencies (with OPP-QUOTED's USD 5,000), queued in this order:
by waiting time a JPY 325,920 sits between two USD amounts."""


@dataclass
class Site:
    url: str
    store: Store
    ids: dict[str, int]
    """Work item ids by opportunity id."""


def _bad_data(store: Store, opportunity: str, ends: date) -> int:
    item = store.ensure_item(
        "acme", opportunity, contract_end=ends, account_name="Bad Ltd", data={}
    )
    store.transition(item.id, "priced")
    store.fail(item.id, "business", "a line has a negative quantity", code="negative_quantity")
    return item.id


def _flagged(store: Store, opportunity: str, ends: date, currency: str, total: str) -> int:
    item = store.ensure_item(
        "acme", opportunity, contract_end=ends, account_name="Flag Ltd", data={}
    )
    store.transition(item.id, "priced")
    store.transition(item.id, "entered")
    quote = {"currency": currency, "quote_total": total}
    store.record_quote(item.id, f"Q-{opportunity}", quote, {**quote, "quote_total": "1"})
    store.transition(item.id, "flagged")
    return item.id


def _seed(store: Store) -> dict[str, int]:
    store.ensure_engagement("acme", "acme", "http://127.0.0.1:1/")
    ids = {
        # Contract end 100 days away: its 120-day line passed 20 days ago, never quoted.
        "OPP-LATE": _bad_data(store, "OPP-LATE", TODAY + timedelta(days=100)),
        "OPP-AHEAD": _bad_data(store, "OPP-AHEAD", TODAY + timedelta(days=200)),
        # Entered before its line: quoted, so not late whatever the audit found.
        "OPP-QUOTED": _flagged(store, "OPP-QUOTED", TODAY + timedelta(days=100), "USD", "5000"),
    }
    for opportunity, currency, total in STAKES:
        ends = TODAY + timedelta(days=140)
        ids[opportunity] = _flagged(store, opportunity, ends, currency, total)
    return ids


STAKE_ORDER = [
    *("OPP-EUR", "OPP-JPY-L", "OPP-JPY-S", "OPP-USD-L", "OPP-QUOTED", "OPP-USD-S"),
    *("OPP-LATE", "OPP-AHEAD"),
]


@pytest.mark.postgres
def test_the_stake_order_in_sql_on_postgresql_and_sqlite(pg_url: str, tmp_path: Path) -> None:
    for url in (pg_url, f"sqlite:///{tmp_path / 'quotebot.sqlite'}"):
        store = open_store(url)
        ids = _seed(store)
        by_id = {v: k for k, v in ids.items()}
        assert [by_id[i.id] for i in store.review_queue(order="stake")] == STAKE_ORDER, url
        usd = store.review_queue(where=QueueFilter(currency="USD"), order="stake")
        assert [by_id[i.id] for i in usd] == ["OPP-USD-L", "OPP-QUOTED", "OPP-USD-S"]
        assert store.review_currencies() == ["EUR", "JPY", "USD"]
        store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder: Path = tmp_path_factory.mktemp("queue_late")
    store = open_store(f"sqlite:///{folder / 'quotebot.sqlite'}")
    ids = _seed(store)
    for name, role in PEOPLE.items():
        store.add_user(name, role, hash_password(PASSWORD), all_engagements=True)
    app = create_app(store, WebSettings(secret_key=SECRET), today=TODAY, home=folder)
    with WebServer(app) as url:
        yield Site(url, store, ids)
    store.close()


def test_a_renewal_past_its_line_not_quoted_is_marked_late(page: Page, site: Site) -> None:
    sign_in(page, site.url, "alice", "/review")
    queue = page.get_by_test_id("queue")
    late_row = queue.locator(f"tr[data-item='{site.ids['OPP-LATE']}']")
    expect(late_row).to_be_visible()
    expect(late_row.get_by_test_id("late")).to_have_text("late")
    expect(late_row.get_by_test_id("late")).to_have_attribute(
        "title", "its 120-day line, 2026-02-10, has passed and it is not quoted"
    )
    for on_time in ("OPP-AHEAD", "OPP-QUOTED"):
        row = queue.locator(f"tr[data-item='{site.ids[on_time]}']")
        expect(row).to_be_visible()
        expect(row.get_by_test_id("late")).to_have_count(0)

    page.goto(f"{site.url}/review/{site.ids['OPP-LATE']}")
    expect(page.get_by_test_id("late")).to_contain_text("late")
    expect(page.get_by_test_id("late-why")).to_have_text(
        "Late: its 120-day line, 2026-02-10, has passed (contract end 2026-06-10) "
        "and it is not quoted yet."
    )
    page.goto(f"{site.url}/review/{site.ids['OPP-AHEAD']}")
    expect(page.get_by_test_id("state")).to_be_visible()
    expect(page.get_by_test_id("late")).to_have_count(0)


def test_the_queue_sorts_by_amount_at_stake_within_each_currency(page: Page, site: Site) -> None:
    sign_in(page, site.url, "alice", "/review")
    queue = page.get_by_test_id("queue")
    expect(queue.get_by_test_id("currency-group")).to_have_count(0)
    page.get_by_test_id("sort-stake").click()
    expect(page).to_have_url(re.compile(r"sort=stake"))
    groups = queue.get_by_test_id("currency-group")
    expect(groups).to_have_text(["EUR", "JPY", "USD", "No quote (bad data)"])
    stakes = [s.strip() for s in queue.get_by_test_id("at-stake").all_inner_texts()]
    assert stakes == [
        "EUR 700.00",
        *("JPY 325,920", "JPY 1,000"),
        *("USD 20,000.50", "USD 5,000.00", "USD 100.00"),
        *("–", "–"),
    ]
    # The same order from the store, page by page, whatever the page size.
    ordered = [i.id for i in site.store.review_queue(order="stake")]
    paged = [
        i.id for o in (0, 3, 6) for i in site.store.review_queue(order="stake", limit=3, offset=o)
    ]
    assert paged == ordered
    shown = [int(str(r.get_attribute("data-item"))) for r in queue.locator("tr[data-item]").all()]
    assert shown == ordered

    # One currency alone, still largest first; a currency that is no code is refused.
    page.locator("select[name=currency]").select_option("USD")
    page.get_by_role("button", name="Filter").click()
    stakes = [s.strip() for s in queue.get_by_test_id("at-stake").all_inner_texts()]
    assert stakes == ["USD 20,000.50", "USD 5,000.00", "USD 100.00"]
    page.goto(f"{site.url}/review?sort=stake&currency=dollars")
    expect(page.get_by_role("alert")).to_contain_text("Currency must be a code like USD")
    page.goto(f"{site.url}/review?sort=size")
    expect(page.get_by_role("alert")).to_contain_text("cannot be sorted by 'size'")
