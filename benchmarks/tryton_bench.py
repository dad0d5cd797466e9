"""Benchmark: one renewal quote through Tryton's web client, by the `tryton` flavour and by a
bare Playwright script, against the same sale over JSON-RPC.

    .venv/bin/python benchmarks/tryton_bench.py [--quotes 5]

Sets up the demo Tryton (cached in ~/.cache/quotebot/tryton), then for each of the first N renewals:
the `tryton` bot reads the opportunity, enters the sale, clicks Quote and reads the sale back
in a real Chromium; `_bare_tryton.py` does the same with no framework in a second browser
context; and the same sale is created and quoted over JSON-RPC (the floor). Prints, per step,
where the flavour and the bare script spend their time, and the medians per quote.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import _bare_tryton  # beside this script, which Python puts first on the path
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


STEPS = (
    "read opportunity",
    "open new sale",
    "party",
    "line: product",
    "line: quantity",
    "line: unit price",
    "line: check",
    "line: OK",
    "total check",
    "save",
    "Quote",
    "read back",
)
QUOTE_STEPS = STEPS[:-1]  # the figure: read + enter + Quote


class StepClock:
    """Seconds per step of each quote: `mark(step)` ends a step (a line's steps add up)."""

    def __init__(self) -> None:
        self.quotes: list[dict[str, float]] = []
        self._last = 0.0

    def start(self) -> None:
        self.quotes.append({})
        self._last = time.perf_counter()

    def mark(self, step: str) -> None:
        now = time.perf_counter()
        if step not in STEPS:
            raise ValueError(f"unknown step '{step}'")
        self.quotes[-1][step] = self.quotes[-1].get(step, 0.0) + now - self._last
        self._last = now

    def median(self, step: str) -> float:
        return statistics.median(q.get(step, 0.0) for q in self.quotes)

    def totals(self, steps: tuple[str, ...] = QUOTE_STEPS) -> list[float]:
        return [sum(q.get(s, 0.0) for s in steps) for q in self.quotes]


def _bench(tryton: RunningTryton, quotes: int) -> tuple[StepClock, StepClock, list[float]]:
    """Each renewal quoted by the flavour, then by the bare script, then over JSON-RPC,
    one after the other (a load on the machine falls on all three alike)."""
    rules = load_rules(tryton.data.world.rules)
    selector_map = load_selector_map(SELECTORS)
    rpc = tryton.rpc()
    web, bare, floor = StepClock(), StepClock(), []
    today = date.today()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(Settings()))
        context = browser.new_context(base_url=tryton.base_url)
        credentials = Credentials(tryton.login, SecretStr(tryton.password))

        def relogin() -> None:
            login(browser, context, tryton.base_url, selector_map, credentials)

        relogin()
        bot = TrytonBot(context.new_page(), tryton.base_url, selector_map, relogin)
        bot.on_step = web.mark
        bare_page = browser.new_context(base_url=tryton.base_url).new_page()
        _bare_tryton.login(bare_page, tryton.login, tryton.password)
        due = bot.due_opportunities(today, today.replace(year=today.year + 3))
        for one in due[:quotes]:
            web.start()
            opportunity = bot.read_opportunity(one.opportunity_id)
            web.mark("read opportunity")
            expected = price(opportunity, rules, today)
            number = bot.save_quote(expected, f"QB-bench-{one.opportunity_id}")
            bot.submit_quote(number)
            web.mark("Quote")
            bot.read_quote(number)
            web.mark("read back")

            bare.start()
            ref = f"QB-bare-{one.opportunity_id}"
            _bare_tryton.quote_one(bare_page, one.opportunity_id, rules, today, ref, bare.mark)

            started = time.perf_counter()
            _rpc_sale(rpc, expected, one.account_name, f"QB-floor-{one.opportunity_id}")
            floor.append(time.perf_counter() - started)
        browser.close()
    return web, bare, floor


def _table(web: StepClock, bare: StepClock) -> None:
    click.echo(f"{'step (median s per quote)':28} {'flavour':>8} {'bare':>8} {'ratio':>6}")
    for step in STEPS:
        w, b = web.median(step), bare.median(step)
        ratio = f"{w / b:5.2f}x" if b > 0 else "     -"
        click.echo(f"{step:28} {w:8.3f} {b:8.3f} {ratio}")


@click.command()
@click.option("--quotes", type=click.IntRange(1, 50), default=5, show_default=True)
def main(quotes: int) -> None:
    """Seconds per quote through the web client, flavour and bare script, and over JSON-RPC;
    where each spends its time, per step."""
    with tempfile.TemporaryDirectory(prefix="tryton-bench-") as folder:
        with running_tryton(Path(folder) / "tryton", opportunities=max(quotes, 5)) as tryton:
            web, bare, floor = _bench(tryton, quotes)
    _table(web, bare)
    w, b = statistics.median(web.totals()), statistics.median(bare.totals())
    wr, br = statistics.median(web.totals(STEPS)), statistics.median(bare.totals(STEPS))
    f = statistics.median(floor)
    click.echo(f"quotes: {len(floor)}")
    click.echo(f"flavour (read opportunity + enter sale + Quote): median {w:.2f} s/quote")
    click.echo(f"bare script, the same steps:                     median {b:.2f} s/quote")
    click.echo(f"ratio flavour / bare: {w / b:.2f}x")
    click.echo(f"with the read back: flavour {wr:.2f} s, bare {br:.2f} s ({wr / br:.2f}x)")
    click.echo(f"JSON-RPC (create sale + quote): median {f:.3f} s/quote ({w / f:.0f}x below)")
    click.echo("per quote, flavour: " + " ".join(f"{t:.2f}" for t in web.totals()))
    click.echo("per quote, bare:    " + " ".join(f"{t:.2f}" for t in bare.totals()))


if __name__ == "__main__":
    main()
