"""The Tryton quoting flow as a bare Playwright script on sao, Tryton's web client: no
framework, no selector map, no drift checks, no retries. The yardstick `tryton_bench.py`
holds the `tryton` flavour against.

It does what a careful person would write by hand for one renewal that goes well: read the
opportunity's lines from its form, price them, enter the sale (party, reference,
description, each line's product, quantity and unit price in the line dialog), save,
click Quote and read the sale's lines back. It waits on sao's own state (jQuery's count of
requests in flight, the widget's value, the focused input), never on fixed sleeps.

`mark(step)` is called at the end of each step; the benchmark times the steps with it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from playwright.sync_api import Page

from audit.pricing import price
from schemas import ExpectedQuote, Opportunity, OpportunityLine, PricingRules

DB = "quotebot"
FORM = ".modal.in.window-form"
LINES = "#tabcontent .form-one2many:has(label:text-is('Lines'))"
COMPLETION = ".dropdown-completion li.completion:visible"
# sao's requests go through jQuery.ajax; a chained one starts a tick after the last ends
QUIET = """(token) => {
    if (window.__bareToken !== token) { window.__bareToken = token; window.__bareQuiet = 0; }
    window.__bareQuiet = window.jQuery.active ? 0 : window.__bareQuiet + 1;
    return window.__bareQuiet >= 3;
}"""
FOCUSED = """(name) => {
    const e = document.activeElement;
    return e !== null && e.name === name && e.type === "number";
}"""
ROWS = """(rows, cells) => rows.map(r => cells.map(c => {
    const cell = r.querySelector(`td[data-title='${c}: '] .widget`);
    return cell ? cell.textContent.trim() : "";
}))"""
_quiet_calls = 0


def idle(page: Page) -> None:
    """Until sao has had no request in flight for three polls (10 ms apart)."""
    global _quiet_calls
    _quiet_calls += 1
    page.wait_for_function(QUIET, arg=_quiet_calls, polling=10)


def login(page: Page, username: str, password: str) -> None:
    page.goto(f"/#{DB}")
    page.fill("input#login", username)
    page.click(".modal form button[type=submit]")
    page.fill(".modal input[type=password]", password)
    page.click(".modal .modal-footer .btn-primary")
    page.wait_for_selector("#user-preferences")
    idle(page)


def show(page: Page, fragment: str, anchor: str) -> None:
    """Close the app's tabs and follow a URL fragment, as sao's address bar does."""
    close = page.locator("#tablist > li button.close")
    while close.count():
        left = close.count()
        close.first.click()
        page.wait_for_function(
            "n => document.querySelectorAll('#tablist > li button.close').length < n", arg=left
        )
    page.goto(f"/#{DB}/{fragment}")
    page.wait_for_selector(anchor)
    idle(page)


def _list(page: Page, model: str, domain: list[object]) -> None:
    show(page, f"model/{model};domain={quote(json.dumps(domain), safe='')}", "#tabcontent table")
    page.locator("#tabcontent .treeview table > tbody > tr:has(td)").first.wait_for()


def _number(text: str) -> Decimal:
    return Decimal(re.sub(r"[^\d.-]", "", text))


def read_opportunity(page: Page, opportunity_id: str) -> Opportunity:
    _list(page, "sale.opportunity", [["number", "=", opportunity_id]])
    page.locator("#tabcontent .treeview td.selection-state input").first.check()
    page.click("#switch_:visible")
    page.wait_for_selector("#tabcontent input[name=number]")
    page.click("#tabcontent .nav-tabs a:text-is('Lines')")
    rows = page.locator(f"{LINES} tbody > tr:has(td[data-title])")
    rows.first.wait_for()
    idle(page)
    cells = rows.evaluate_all(ROWS, ["Product", "Quantity"])
    segment, months = re.findall(
        r"^(\w+) renewal, (\d+) months$", page.input_value("#tabcontent input[name=description]")
    )[0]
    ends = page.input_value("#tabcontent input[name=end_date]")
    month, day, year = (int(n) for n in ends.split("/"))
    return Opportunity(
        opportunity_id=opportunity_id,
        account_name=page.input_value("#tabcontent input[name=party]"),
        segment=segment,
        currency="USD",
        contract_end=date(year, month, day),
        renewal_term_months=int(months),
        lines=tuple(
            OpportunityLine(line_no=no, sku=product[1:].split("]")[0], quantity=int(_number(qty)))
            for no, (product, qty) in enumerate(cells, 1)
        ),
    )


def _choose(page: Page, box: str, text: str, shown: str) -> None:
    """A many-to-one: type, click Tryton's completion, until the box shows `shown`. A late
    answer for the record redraws the form and wipes the text: typed again at once."""
    entry = page.locator(box)
    choice = page.locator(COMPLETION).filter(has_text=text).first
    deadline = time.monotonic() + 30
    while not choice.is_visible():
        if entry.input_value() != text:
            entry.fill(text)
        if time.monotonic() > deadline:
            raise RuntimeError(f"Tryton offers nothing for {text}")
        page.wait_for_timeout(20)
    choice.click()
    page.wait_for_function(
        "([box, shown]) => document.querySelector(box).value.startsWith(shown)", arg=[box, shown]
    )


def _type_number(page: Page, name: str, value: str) -> None:
    """A number field: its text input swaps to a number input on focus; type into that,
    again if a redraw wiped it."""
    shown = Decimal(value)
    for _ in range(5):
        page.click(f"{FORM} input[name={name}]:visible")
        page.wait_for_function(FOCUSED, arg=name, polling=10)
        page.fill(f"{FORM} input[name={name}][type=number]", value)
        page.keyboard.press("Tab")  # the change runs the server's on_change (a blocking request)
        text = page.input_value(f"{FORM} input[name={name}]:visible")
        if text.strip() and _number(text) == shown:
            return
    raise RuntimeError(f"{name} did not keep {value}")


def enter_sale(
    page: Page, expected: ExpectedQuote, party: str, reference: str, mark: Callable[[str], None]
) -> str:
    show(page, "model/sale.sale;domain=" + quote('[["id", "=", -1]]', safe=""), "#new_:visible")
    page.click("#new_:visible")
    page.wait_for_selector("#tabcontent input[name=party]")
    page.wait_for_selector("#tabcontent span.symbol:not(:empty)")  # the defaults are shown
    mark("open new sale")
    _choose(page, "#tabcontent input[name=party]", party, party)
    page.fill("#tabcontent input[name=reference]", reference)
    page.fill(
        "#tabcontent input[name=description]",
        f"Renewal of {expected.opportunity_id} ({reference}), "
        f"term {expected.term_start.isoformat()}..{expected.term_end.isoformat()}",
    )
    mark("party")
    page.click(f"{LINES} button[aria-label=New]")
    for index, line in enumerate(expected.lines):
        page.wait_for_selector(f"{FORM} input[name=product]")
        _choose(page, f"{FORM} input[name=product]", line.sku, f"[{line.sku}]")
        mark("line: product")
        _type_number(page, "quantity", str(line.quantity))
        mark("line: quantity")
        _type_number(page, "unit_price", str(line.unit_price))
        mark("line: unit price")
        last = index == len(expected.lines) - 1
        page.click(f"{FORM} .modal-footer button#{'save' if last else 'new_'}")
        if last:
            page.wait_for_selector(FORM, state="detached")
        else:  # "Add and New": the same dialog, emptied for the next line
            page.wait_for_function(
                f"() => document.querySelector('{FORM} input[name=product]').value === ''"
            )
        mark("line: OK")
    page.click("#save:visible")
    page.wait_for_url(re.compile(r"/model/sale\.sale/\d+"))
    idle(page)
    mark("save")
    number = re.findall(r"/model/sale\.sale/(\d+)", page.url)[0]
    page.click("#tabcontent button[name=quote]")
    page.wait_for_function(
        "() => document.querySelector('#tabcontent select[name=state]').value === '\"quotation\"'"
    )
    idle(page)
    mark("Quote")
    return number


def read_back(page: Page) -> list[tuple[str, int, Decimal]]:
    """The sale's lines as the form shows them after Quote (product, quantity, unit price)."""
    rows = page.locator(f"{LINES} tbody > tr:has(td[data-title])")
    cells = rows.evaluate_all(ROWS, ["Product", "Quantity", "Unit Price"])
    return [(p[1:].split("]")[0], int(_number(q)), _number(u)) for p, q, u in cells]


def _no_mark(step: str) -> None:
    pass


def quote_one(
    page: Page,
    opportunity_id: str,
    rules: PricingRules,
    today: date,
    reference: str,
    mark: Callable[[str], None] = _no_mark,
) -> str:
    """Read, price, enter, Quote and read back one renewal; the sale's id. Raises when what
    Tryton holds is not what was priced (the bare script's only check)."""
    opportunity = read_opportunity(page, opportunity_id)
    mark("read opportunity")
    expected = price(opportunity, rules, today)
    number = enter_sale(page, expected, opportunity.account_name, reference, mark)
    shown = read_back(page)
    mark("read back")
    wanted = [(e.sku, e.quantity, e.unit_price) for e in expected.lines]
    if sorted(shown) != sorted(wanted):
        raise RuntimeError(f"{opportunity_id}: Tryton holds {shown}, priced {wanted}")
    return number
