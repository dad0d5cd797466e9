"""The review page explains an expected price step by step beside what the portal shows:
a co-termed line whose portal price ran the whole term shows the period step missed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect
from web_helpers import PASSWORD, SECRET

from audit import check_quote, price
from schemas.opportunity import Opportunity, OpportunityLine
from schemas.quote import QuoteLineSnapshot, QuoteSnapshot
from schemas.rules import PricingRules
from schemas.work import ItemState
from store import open_store
from web import WebServer, WebSettings, create_app, hash_password

RULES = PricingRules.model_validate(
    {
        "client": "acme",
        "price_book": [
            {"sku": "NET-SUP-100", "family": "support", "currency": "USD", "list_price": "1200.00"},
            {"sku": "NET-ADD-500", "family": "support", "currency": "USD", "list_price": "300.00"},
        ],
        "uplift": {"support": "0.05", "default": "0.03"},
        "max_discount": {"enterprise": "0.20"},
        "lead_days": 120,
        "validity_days": 30,
    }
)
OPPORTUNITY = Opportunity(
    opportunity_id="OPP-77",
    account_id="ACC-7",
    account_name="Initech",
    segment="enterprise",
    currency="USD",
    contract_end=date(2026, 6, 30),
    renewal_term_months=12,
    lines=(
        OpportunityLine(line_no=1, sku="NET-SUP-100", quantity=1, prior_unit_price=Decimal(1000)),
        # Added mid-term, ends 2026-09-30: co-termed, it renews for 9 months only.
        OpportunityLine(line_no=2, sku="NET-ADD-500", quantity=2, line_end=date(2026, 9, 30)),
    ),
)


def test_the_item_page_explains_a_mismatched_co_termed_line(page: Page, tmp_path: Path) -> None:
    expected = price(OPPORTUNITY, RULES, date(2026, 2, 1))
    add_on = expected.lines[1]
    assert (add_on.line_start, add_on.line_amount) == (date(2026, 10, 1), Decimal("450.00"))
    # The portal quoted the add-on from the term start, for the whole year.
    snapshot = QuoteSnapshot(
        quote_id="Q-77",
        opportunity_id="OPP-77",
        quote_date=date(2026, 2, 1),
        valid_until=date(2026, 3, 3),
        currency="USD",
        term_start=date(2026, 7, 1),
        term_end=date(2027, 6, 30),
        lines=(
            QuoteLineSnapshot(
                line_no=1,
                sku="NET-SUP-100",
                quantity=1,
                unit_price=Decimal("1050.00"),
                line_amount=Decimal("1050.00"),
                line_start=date(2026, 7, 1),
                line_end=date(2027, 6, 30),
            ),
            QuoteLineSnapshot(
                line_no=2,
                sku="NET-ADD-500",
                quantity=2,
                unit_price=Decimal("300.00"),
                line_amount=Decimal("600.00"),
                line_start=date(2026, 7, 1),
                line_end=date(2027, 6, 30),
            ),
        ),
        quote_total=Decimal("1650.00"),
    )
    findings = check_quote(OPPORTUNITY, snapshot, RULES)
    assert [(f.rule, f.field, f.expected, f.actual) for f in findings] == [
        ("line_term_mismatch", "line_start", "2026-10-01", "2026-07-01")
    ]
    store = open_store(f"sqlite:///{tmp_path / 'quotebot.sqlite'}")
    try:
        store.ensure_engagement("acme-renewals", "acme", "http://127.0.0.1:1")
        item = store.ensure_item(
            "acme-renewals",
            "OPP-77",
            contract_end=OPPORTUNITY.contract_end,
            account_name="Initech",
            data=OPPORTUNITY,
        )
        for state in (ItemState.PRICED, ItemState.ENTERED):
            store.transition(item.id, state)
        store.record_quote(item.id, "Q-77", expected, snapshot)
        store.record_findings(item.id, findings)
        store.transition(item.id, ItemState.FLAGGED, reason="line_term_mismatch")
        store.add_user("alice", "auditor", hash_password(PASSWORD), engagements=["acme-renewals"])
        app = create_app(store, WebSettings(secret_key=SECRET), today=date(2026, 2, 1))
        with WebServer(app) as base_url:
            page.goto(f"{base_url}/review/{item.id}")
            page.get_by_label("Name").fill("alice")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            table = page.get_by_test_id("explain-NET-ADD-500")
            expect(table).to_contain_text("2026-10-01 to 2027-06-30")
            period = table.locator("tr[data-step=period]")
            expect(period).to_have_class("diff")
            expect(period).to_contain_text("9/12 + 0/365 (proration month_day)")
            expect(period).to_contain_text("2026-07-01 to 2027-06-30")
            expect(table.locator("tr[data-step=line_amount]")).to_contain_text("450.00")
            expect(table.locator("tr[data-step=rounding]")).not_to_have_class("diff")
            expect(page.get_by_test_id("explain-NET-SUP-100").locator("tr.diff")).to_have_count(0)
            expect(page.get_by_test_id("findings")).to_contain_text("co-termed")
            page.get_by_test_id("explanation").screenshot(path=tmp_path / "explanation.png")
    finally:
        store.close()
