"""Benchmark: one renewal quote through Tryton's web client against the same sale over JSON-RPC.

    .venv/bin/python benchmarks/tryton_bench.py [--quotes 4]

Sets up the demo Tryton (cached in ~/.cache/quotebot/tryton), then for each of the first N renewals:
the `tryton` bot reads the opportunity, enters the sale and clicks Quote in a real Chromium
(seconds per quote); and the same sale is created and quoted over JSON-RPC (the floor).
Prints both and their ratio.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import click
from playwright.sync_api import sync_playwright
from pydantic import SecretStr

from audit.pricing import price
from bots import Credentials, launch_options, login
from bots.portals.tryton import TrytonBot
from sandbox.tryton import RunningTryton, TrytonRPC, running_tryton
from schemas import ExpectedQuote, load_rules
from schemas.selector_map import load_selector_map
from schemas.settings import Settings

SELECTORS = Path(__file__).resolve().parents[1] / "selectors" / "tryton.yaml"


def _rpc_sale(rpc: TrytonRPC, expected: ExpectedQuote, party: str, reference: str) -> int:
    """The floor: the same sale created and quoted by JSON-RPC calls."""
    (who,) = rpc.search_read("party.party", [["name", "=", party]], ["addresses"])
    products = {
        p["code"]: p for p in rpc.search_read("product.product", [], ["code", "default_uom"])
    }
    lines: list[dict[str, Any]] = [
        {
            "product": products[line.sku]["id"],
            "unit": products[line.sku]["default_uom"],
            "quantity": float(line.quantity),
            "unit_price": line.unit_price,
        }
        for line in expected.lines
    ]
    (sale_id,) = rpc.call(
        "sale.sale",
        "create",
        [
            {
                "party": who["id"],
                "invoice_address": who["addresses"][0],
                "shipment_address": who["addresses"][0],
                "reference": reference,
                "description": f"Renewal of {expected.opportunity_id} ({reference}), term "
                f"{expected.term_start}..{expected.term_end}",
                "lines": [["create", lines]],
            }
        ],
    )
    rpc.call("sale.sale", "quote", [sale_id])
    return int(sale_id)


def _bench(tryton: RunningTryton, quotes: int) -> tuple[list[float], list[float]]:
    rules = load_rules(tryton.data.world.rules)
    selector_map = load_selector_map(SELECTORS)
    rpc = tryton.rpc()
    web: list[float] = []
    floor: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(Settings()))
        context = browser.new_context(base_url=tryton.base_url)
        credentials = Credentials(tryton.login, SecretStr(tryton.password))

        def relogin() -> None:
            login(browser, context, tryton.base_url, selector_map, credentials)

        relogin()
        bot = TrytonBot(context.new_page(), tryton.base_url, selector_map, relogin)
        due = bot.due_opportunities(date.today(), date.today().replace(year=date.today().year + 3))
        for one in due[:quotes]:
            started = time.perf_counter()
            opportunity = bot.read_opportunity(one.opportunity_id)
            expected = price(opportunity, rules, date.today())
            number = bot.save_quote(expected, f"QB-bench-{one.opportunity_id}")
            bot.submit_quote(number)
            web.append(time.perf_counter() - started)
            started = time.perf_counter()
            _rpc_sale(rpc, expected, one.account_name, f"QB-floor-{one.opportunity_id}")
            floor.append(time.perf_counter() - started)
        browser.close()
    return web, floor


@click.command()
@click.option("--quotes", type=click.IntRange(1, 50), default=4, show_default=True)
def main(quotes: int) -> None:
    """Seconds per quote through the web client and over JSON-RPC, and their ratio."""
    with tempfile.TemporaryDirectory(prefix="tryton-bench-") as folder:
        with running_tryton(Path(folder) / "tryton", opportunities=max(quotes, 5)) as tryton:
            web, floor = _bench(tryton, quotes)
    w, f = statistics.median(web), statistics.median(floor)
    click.echo(f"quotes: {len(web)}")
    click.echo(f"web client (read opportunity + enter sale + Quote): median {w:.2f} s/quote")
    click.echo(f"JSON-RPC (create sale + quote):                     median {f:.3f} s/quote")
    click.echo(f"ratio web / JSON-RPC: {w / f:.0f}x")


if __name__ == "__main__":
    main()
