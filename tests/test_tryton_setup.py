"""A real Tryton 8.0 set up from nothing: installed, seeded, served with its web client."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from tryton_helpers import ground_truth, tryton_opportunities

from audit.pricing import price
from sandbox.tryton import DATABASE, RunningTryton, running_tryton
from schemas import load_rules

# In parallel runs these share a worker, and so the one Tryton of the module's fixture.
pytestmark = pytest.mark.xdist_group("tryton-setup")


@pytest.fixture(scope="module")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningTryton]:
    with running_tryton(tmp_path_factory.mktemp("tryton")) as running:
        yield running


def test_the_seeded_opportunities_are_in_tryton_as_the_ground_truth_says(
    tryton: RunningTryton,
) -> None:
    truth = ground_truth(tryton)
    assert len(truth) >= 5
    assert all(len(o.lines) >= 2 for o in truth)
    assert tryton_opportunities(tryton) == {
        o.opportunity_id: [(line.sku, line.quantity) for line in o.lines] for o in truth
    }


def test_the_rules_price_every_seeded_renewal(tryton: RunningTryton) -> None:
    rules = load_rules(tryton.data.world.rules)
    for opportunity in ground_truth(tryton):
        expected = price(opportunity, rules, date.today())
        assert expected.quote_total > 0
        assert [line.sku for line in expected.lines] == [line.sku for line in opportunity.lines]


def test_the_list_prices_in_tryton_are_the_price_book(tryton: RunningTryton) -> None:
    rules = load_rules(tryton.data.world.rules)
    rows = tryton.rpc().search_read("product.product", [], ["code", "template.list_price"])
    assert {r["code"]: r["template."]["list_price"] for r in rows} == {
        e.sku: e.list_price for e in rules.price_book
    }


def test_the_web_client_logs_the_bot_user_in(tryton: RunningTryton, page: Page) -> None:
    with urllib.request.urlopen(tryton.base_url + "node_modules/jquery/dist/jquery.js") as js:
        assert js.status == 200
    page.goto(f"{tryton.base_url}#{DATABASE}")
    page.locator("input#login").fill(tryton.login)
    page.locator("form button[type=submit]").click()
    page.locator("input[type=password]").fill(tryton.password)
    page.locator(".modal-footer .btn-primary").click()
    expect(page.locator("#user-preferences")).to_contain_text(tryton.login)
