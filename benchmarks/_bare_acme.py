"""The acme quoting flow as a bare Playwright script: no store, no intents, no lookups, no
traces, one browser, one page. The yardstick `bot_bench.py` holds the framework against.

It does what the framework does for a quote that goes well (list the due renewals, read
the opportunity, price it, type it into the editor, save, submit, open the quote page,
read it back, audit it with the same `audit.checks.check_quote`) and nothing else: no
search for an earlier quote of ours, nothing written down, no retries, no evidence.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from playwright.sync_api import Page, sync_playwright

from audit.checks import check_quote
from audit.pricing import UnpriceableError, price
from bots import launch_options
from schemas import Opportunity, OpportunityLine, PricingRules, QuoteLineSnapshot, QuoteSnapshot
from schemas.findings import passes
from schemas.settings import Settings

_NOT_EMPTY = re.compile(r"\S")
ROWS = """(rows, ids) => rows.map(r => Object.fromEntries(ids.map(id => {
    const cell = r.querySelector(`[data-testid="${id}"]`);
    return [id, cell ? cell.textContent.trim() : ""];
})))"""


@dataclass
class BareResult:
    verified: int = 0
    flagged: int = 0
    unpriceable: int = 0
    page_loads: int = 0
    seconds: float = 0.0
    quote_numbers: list[str] = field(default_factory=list)

    @property
    def quotes(self) -> int:
        return self.verified + self.flagged


def _t(page: Page, testid: str) -> str:
    return page.get_by_test_id(testid).inner_text().strip()


def _goto(page: Page, result: BareResult, path: str, anchor: str) -> None:
    page.goto(path)
    page.get_by_test_id(anchor).first.wait_for()
    result.page_loads += 1


def run_bare(
    url: str,
    username: str,
    password: str,
    rules: PricingRules,
    today: date,
    end: date,
    shard: tuple[int, int] = (0, 1),
) -> BareResult:
    """Quote every renewal due from `today` to `end` (with `shard` (i, n): every n-th from the
    i-th, for n scripts side by side); counts and wall time (browser start included)."""
    result = BareResult()
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options(Settings()))
        context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto("/login")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()
        page.get_by_test_id("logout").wait_for()

        due: list[str] = []
        page_no = 1
        while True:
            _goto(
                page,
                result,
                f"/opportunities?end_from={today}&end_to={end}&sort=contract_end&page={page_no}",
                "opportunity-table",
            )
            rows = page.get_by_test_id("opportunity-row").evaluate_all(ROWS, ["opp-id"])
            due += [r["opp-id"] for r in rows]
            if page.get_by_test_id("page-next").is_disabled():
                break
            page_no += 1

        for opportunity_id in due[shard[0] :: shard[1]]:
            opportunity = _read_opportunity(page, result, opportunity_id)
            try:
                expected = price(opportunity, rules, today)
            except UnpriceableError:
                result.unpriceable += 1
                continue
            _goto(page, result, f"/opportunities/{opportunity_id}/quote", "quote-editor")
            page.get_by_test_id("term-start").fill(expected.term_start.isoformat())
            page.get_by_test_id("term-end").fill(expected.term_end.isoformat())
            page.get_by_test_id("external-ref").fill(f"BARE-{opportunity_id}")
            for index, line in enumerate(expected.lines):
                if index:
                    page.get_by_test_id("add-line").click()
                row = page.get_by_test_id("quote-line-row").nth(index)
                row.get_by_test_id("line-sku").fill(line.sku)
                option = row.locator(f'[data-testid=sku-option][data-sku="{line.sku}"]')
                with page.expect_response(lambda r: "/api/prices" in r.url):
                    option.click()
                row.get_by_test_id("line-quantity").fill(str(line.quantity))
                row.get_by_test_id("line-unit-price").fill(str(line.unit_price))
            shown = _t(page, "quote-total")
            if shown != str(expected.quote_total):
                raise RuntimeError(f"{opportunity_id}: editor total {shown} != {expected}")
            page.get_by_test_id("save-quote").click()
            saved = page.get_by_test_id("saved-quote-number").filter(has_text=_NOT_EMPTY)
            saved.wait_for()
            number = saved.inner_text().strip()
            page.get_by_test_id("submit-quote").click()
            page.get_by_test_id("confirm-ok").click()
            page.get_by_test_id("quote-status").filter(has_text="submitted").wait_for()

            _goto(page, result, f"/quotes/{number}", "quote-number")
            snapshot = _read_quote(page)
            findings = check_quote(opportunity, snapshot, rules)
            if passes(findings):
                result.verified += 1
            else:
                result.flagged += 1
            result.quote_numbers.append(number)
        context.close()
        browser.close()
    result.seconds = time.perf_counter() - started
    return result


def _read_opportunity(page: Page, result: BareResult, opportunity_id: str) -> Opportunity:
    _goto(page, result, f"/opportunities/{opportunity_id}", "opp-title")
    ids = ["line-no", "line-sku", "line-quantity", "line-prior-price"]
    lines = [
        OpportunityLine(
            line_no=int(r["line-no"]),
            sku=r["line-sku"],
            quantity=int(r["line-quantity"]),
            prior_unit_price=Decimal(r["line-prior-price"].replace(",", ""))
            if r["line-prior-price"]
            else None,
        )
        for r in page.get_by_test_id("install-base-line").evaluate_all(ROWS, ids)
    ]
    ends = _t(page, "opp-contract-end")
    return Opportunity(
        opportunity_id=opportunity_id,
        account_id=_t(page, "opp-account-id"),
        account_name=_t(page, "opp-account-name"),
        segment=_t(page, "opp-segment"),
        currency=_t(page, "opp-currency"),
        contract_end=date.fromisoformat(ends) if ends else None,
        renewal_term_months=int(_t(page, "opp-renewal-term")),
        lines=tuple(lines),
    )


def _read_quote(page: Page) -> QuoteSnapshot:
    ids = ["ql-line-no", "ql-sku", "ql-quantity", "ql-unit-price", "ql-line-amount"]
    lines = tuple(
        QuoteLineSnapshot(
            line_no=int(r["ql-line-no"]),
            sku=r["ql-sku"],
            quantity=int(r["ql-quantity"]),
            unit_price=Decimal(r["ql-unit-price"].replace(",", "")),
            line_amount=Decimal(r["ql-line-amount"].replace(",", "")),
        )
        for r in page.get_by_test_id("quote-line").evaluate_all(ROWS, ids)
    )
    return QuoteSnapshot(
        quote_id=_t(page, "quote-number"),
        opportunity_id=_t(page, "quote-opportunity"),
        quote_date=date.fromisoformat(_t(page, "quote-date")),
        valid_until=date.fromisoformat(_t(page, "quote-valid-until")),
        currency=_t(page, "quote-currency"),
        term_start=date.fromisoformat(_t(page, "quote-term-start")),
        term_end=date.fromisoformat(_t(page, "quote-term-end")),
        lines=lines,
        quote_total=Decimal(_t(page, "quote-total").replace(",", "")),
    )
