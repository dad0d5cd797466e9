"""The acme portal in a real Chromium: login (with and without TOTP), idle expiry, the
opportunity list, quote entry with the typeahead and the confirmation modal, booking with
the PDF upload, and the CSV downloads, asserting on the portal's own database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect
from sandbox_helpers import TODAY, RunningPortal, login, running_portal, sign_in, term_start_of

from sandbox._proration import charge, year_share
from sandbox.generate import generate
from sandbox.portal import Quote


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    data_dir = tmp_path_factory.mktemp("acme")
    with running_portal(data_dir, "acme", opportunities=60, fake_clock=True) as portal:
        yield portal


def _submitted_with_po(portal: RunningPortal, skip: int = 0) -> Quote:
    """A submitted quote that the customer accepted, entered through the Portal directly."""
    with portal.open_db() as db:
        for opp_id in portal.regular_opportunities()[20 + skip :]:
            opp = db.get_opportunity(opp_id)
            start = term_start_of(opp)
            quote = db.save_quote(
                opp_id,
                external_ref=f"PO-TEST-{opp_id}",
                term_start=start,
                term_end=start + timedelta(days=364),
                lines=[(ln.sku, ln.quantity, Decimal("12.50")) for ln in opp.lines],
            )
            quote = db.submit_quote(quote.quote_number)
            if quote.customer_po is not None:
                return quote
    raise AssertionError("no opportunity got a customer PO")


def test_login_without_totp_and_markup_shows_as_text(page: Page, acme: RunningPortal) -> None:
    login(page, acme)
    expect(page.get_by_test_id("current-user")).to_have_text(acme.credentials.username)
    markup = acme.planted("markup_account_name")[0]["opportunity_id"]
    page.goto(acme.url(f"/opportunities/{markup}"))
    name = page.get_by_test_id("opp-account-name")
    expect(name).to_have_text("<b>Initech</b> & \"Sons\" <script>alert('x')</script>")
    expect(name.locator("b, script")).to_have_count(0)


def test_login_with_totp(page: Page, tmp_path: Path) -> None:
    with running_portal(tmp_path, "acme", opportunities=5, totp=True) as portal:
        page.goto(portal.url("/quotes"))
        sign_in(page, portal)
        expect(page).to_have_url(portal.url("/quotes"))
        expect(page.get_by_test_id("quote-search")).to_be_visible()


def test_wrong_password_is_refused(page: Page, acme: RunningPortal) -> None:
    page.goto(acme.url("/login"))
    page.get_by_test_id("login-username").fill(acme.credentials.username)
    page.get_by_test_id("login-password").fill("wrong")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Invalid username or password.")


def test_idle_session_expires_and_login_returns_to_the_page(
    page: Page, acme: RunningPortal
) -> None:
    login(page, acme)
    expect(page.get_by_test_id("opportunity-row").first).to_be_visible()
    assert acme.clock is not None
    acme.clock.advance(acme.config.session_ttl + 1)
    page.get_by_test_id("nav-quotes").click()  # the SPA's API call answers 401
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fquotes&expired=1$"))
    expect(page.get_by_test_id("login-expired")).to_be_visible()
    sign_in(page, acme)
    expect(page).to_have_url(acme.url("/quotes"))


def test_list_filters_by_contract_end_sorts_and_pages(page: Page, acme: RunningPortal) -> None:
    login(page, acme)
    start, end = TODAY + timedelta(days=60), TODAY + timedelta(days=300)
    page.get_by_test_id("filter-end-from").fill(start.isoformat())
    page.get_by_test_id("filter-end-to").fill(end.isoformat())
    page.get_by_test_id("sort-select").select_option("-contract_end")
    page.get_by_test_id("filter-apply").click()
    with acme.open_db() as db:
        expected = db.list_opportunities(end_from=start, end_to=end, sort="-contract_end")
    rows = page.get_by_test_id("opportunity-row")
    expect(rows).to_have_count(len(expected.items))
    expect(page.get_by_test_id("page-info")).to_have_text(
        f"Page 1 of {expected.pages} · {expected.total} opportunities"
    )
    ends = rows.get_by_test_id("opp-contract-end").all_inner_texts()
    assert ends == sorted(ends, reverse=True) and all(
        start.isoformat() <= e <= end.isoformat() for e in ends
    )
    page.get_by_test_id("page-next").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    with acme.open_db() as db:
        second = db.list_opportunities(end_from=start, end_to=end, sort="-contract_end", page=2)
    expect(rows.first).to_have_attribute("data-opportunity-id", second.items[0].opportunity_id)
    with page.expect_download() as download_info:
        page.get_by_test_id("download-opportunities-csv").click()
    download = download_info.value
    assert download.suggested_filename == "opportunities.csv"
    with acme.open_db() as db:
        assert Path(download.path()).read_text() == db.opportunities_csv(end_from=start, end_to=end)


def _fill_line(page: Page, row_index: int, sku: str, quantity: int, price: str) -> str:
    """Pick the SKU from the typeahead; returns the unit price the editor pre-filled."""
    row = page.get_by_test_id("quote-line-row").nth(row_index)
    row.get_by_test_id("line-sku").fill(sku[:6])  # one input event; the debounce fires once
    option = row.locator(f"[data-testid=sku-option][data-sku='{sku}']")
    option.click()
    prefilled = row.get_by_test_id("line-unit-price")
    expect(prefilled).not_to_have_value("")
    default = prefilled.input_value()
    row.get_by_test_id("line-quantity").fill(str(quantity))
    prefilled.fill(price)
    return default


def test_quote_entry_with_typeahead_modal_and_toasts(page: Page, acme: RunningPortal) -> None:
    stale = acme.planted("stale_default_price")
    regular = set(acme.regular_opportunities())
    target = next(a for a in stale if a["opportunity_id"] in regular)
    with acme.open_db() as db:
        opp = db.get_opportunity(target["opportunity_id"])
        stale_default = db.default_unit_price(target["sku"], opp.currency)
    login(page, acme, f"/opportunities/{opp.opportunity_id}")
    expect(page.get_by_test_id("install-base-line")).to_have_count(len(opp.lines))
    page.get_by_test_id("new-quote").click()
    start = term_start_of(opp)
    end = start + relativedelta(months=opp.renewal_term_months) - timedelta(days=1)
    page.get_by_test_id("term-start").fill(start.isoformat())
    page.get_by_test_id("term-end").fill(end.isoformat())
    page.get_by_test_id("external-ref").fill("WI-ACME-1")
    prices = {ln.sku: Decimal("1000") + ln.line_no for ln in opp.lines}
    for index, line in enumerate(opp.lines):
        if index:
            page.get_by_test_id("add-line").click()
        default = _fill_line(page, index, line.sku, line.quantity, str(prices[line.sku]))
        if line.sku == target["sku"]:
            assert Decimal(default) == stale_default  # the editor pre-fills the stale default
    places = Decimal(1) if opp.currency == "JPY" else Decimal("0.01")
    amounts = [
        (prices[ln.sku] * ln.quantity * opp.renewal_term_months / 12).quantize(
            places, ROUND_HALF_UP
        )
        for ln in opp.lines
    ]
    expect(page.get_by_test_id("line-amount")).to_have_text([str(a) for a in amounts])
    expect(page.get_by_test_id("quote-total")).to_have_text(str(sum(amounts)))
    # A line with its own dates is prorated in the browser by the portal's method, the
    # server's arithmetic (a month and ten days in, to the end of a February).
    first = page.get_by_test_id("quote-line-row").first
    own_start, own_end = start + relativedelta(months=1, days=10), date(2027, 2, 28)
    first.get_by_test_id("line-start").fill(own_start.isoformat())
    first.get_by_test_id("line-end").fill(own_end.isoformat())
    sku, quantity = opp.lines[0].sku, opp.lines[0].quantity
    digits = 0 if opp.currency == "JPY" else 2
    for method in ("month_day", "month", "day"):
        share = year_share(own_start, own_end, method)
        shown = page.evaluate(
            "([p, q, s, e, m, c]) => formatMinor(lineAmountMinor(p, q, "
            "yearShare(parseDay(s), parseDay(e), m), c), places(c))",
            [
                str(prices[sku]),
                str(quantity),
                own_start.isoformat(),
                own_end.isoformat(),
                method,
                opp.currency,
            ],
        )
        assert shown == str(charge(prices[sku], quantity, share, digits)), method
    prorated = charge(prices[sku], quantity, year_share(own_start, own_end, "month_day"), digits)
    expect(first.get_by_test_id("line-amount")).to_have_text(str(prorated))
    first.get_by_test_id("line-start").fill("")
    first.get_by_test_id("line-end").fill("")
    expect(page.get_by_test_id("quote-total")).to_have_text(str(sum(amounts)))

    first_price = page.get_by_test_id("line-unit-price").first
    first_price.fill("-5")
    page.get_by_test_id("save-quote").click()
    expect(page.get_by_test_id("toast").filter(has_text="price must be")).to_be_visible()
    expect(page.locator("[data-field='lines.0.unit_price']")).to_have_text("price must be ≥ 0")
    first_price.fill(str(prices[opp.lines[0].sku]))
    page.get_by_test_id("save-quote").click()
    expect(page.get_by_test_id("toast").filter(has_text="saved")).to_be_visible()
    number = page.get_by_test_id("saved-quote-number")
    expect(number).to_have_text(re.compile(r"^Q-\d{6}$"))
    quote_number = number.inner_text()

    page.get_by_test_id("submit-quote").click()
    expect(page.get_by_test_id("confirm-modal")).to_be_visible()
    page.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("confirm-modal")).to_be_hidden()
    page.get_by_test_id("submit-quote").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.get_by_test_id("toast").filter(has_text="submitted")).to_be_visible()
    expect(page).to_have_url(acme.url(f"/quotes/{quote_number}"))
    expect(page.get_by_test_id("quote-status")).to_have_text("submitted")
    expect(page.get_by_test_id("ql-line-amount")).to_have_text([str(a) for a in amounts])

    with acme.open_db() as db:
        saved = db.get_quote(quote_number)
    assert saved.status == "submitted" and saved.external_ref == "WI-ACME-1"
    assert saved.term_start == start and saved.term_end == end
    assert {ln.sku: ln.unit_price for ln in saved.lines} == prices
    assert saved.total == sum(amounts)

    page.get_by_test_id("nav-quotes").click()
    page.get_by_test_id("search-external-ref").fill("WI-ACME-1")
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("quote-result-row")).to_have_count(1)
    expect(page.get_by_test_id("result-quote-number")).to_have_text(quote_number)
    page.get_by_test_id("search-external-ref").fill("")
    page.get_by_test_id("search-opportunity-id").fill(opp.opportunity_id)
    page.get_by_test_id("search-submit").click()
    expect(page.get_by_test_id("result-quote-number")).to_have_text([quote_number])


def test_booking_with_pdf_upload_and_csv_download(
    page: Page, acme: RunningPortal, tmp_path: Path
) -> None:
    quote = _submitted_with_po(acme)
    po = quote.customer_po
    assert po is not None
    login(page, acme, f"/quotes/{quote.quote_number}")
    expect(page.get_by_test_id("po-number")).to_have_text(po.po_number)
    with page.expect_download() as pdf_download:
        page.get_by_test_id("po-pdf").click()
    pdf_path = tmp_path / po.pdf_name
    pdf_download.value.save_as(pdf_path)
    page.get_by_test_id("book-quote").click()
    page.get_by_test_id("booking-po-number").fill(po.po_number)
    page.get_by_test_id("booking-po-date").fill(po.po_date.isoformat())
    page.get_by_test_id("booking-po-amount").fill(str(po.amount))
    page.get_by_test_id("booking-pdf").set_input_files(pdf_path)
    page.get_by_test_id("book-submit").click()
    page.get_by_test_id("confirm-ok").click()
    order = page.get_by_test_id("booking-order-number")
    expect(order).to_have_text(re.compile(r"^SO-\d{6}$"))
    with acme.open_db() as db:
        booked = db.get_quote(quote.quote_number)
        row = (
            db.db.read()
            .execute(
                "SELECT pdf, pdf_name FROM bookings WHERE quote_number = ?", (quote.quote_number,)
            )
            .fetchone()
        )
    assert booked.status == "booked" and booked.order_number == order.inner_text()
    assert booked.booking is not None and booked.booking.po_amount == po.amount
    assert bytes(row["pdf"]) == pdf_path.read_bytes() and row["pdf_name"] == po.pdf_name
    with page.expect_download() as csv_download:
        page.get_by_test_id("nav-export-quotes").click()
    assert quote.quote_number in Path(csv_download.value.path()).read_text()
    page.get_by_test_id("nav-quotes").click()
    with page.expect_download() as bookings_download:
        page.get_by_test_id("download-bookings-csv").click()
    assert (
        f"{quote.quote_number},{po.po_number}," in Path(bookings_download.value.path()).read_text()
    )


def test_booking_errors_show_next_to_the_field(page: Page, acme: RunningPortal) -> None:
    quote = _submitted_with_po(acme, skip=5)
    login(page, acme, f"/quotes/{quote.quote_number}/book")
    page.get_by_test_id("booking-po-number").fill("PO-WRONG")
    page.get_by_test_id("booking-po-date").fill(TODAY.isoformat())
    page.get_by_test_id("booking-po-amount").fill("1")
    page.get_by_test_id("book-submit").click()
    page.get_by_test_id("confirm-ok").click()
    expect(page.locator("[data-field=po_number]")).to_have_text(
        "PO number does not match the customer PO"
    )
    expect(page.get_by_test_id("toast").filter(has_text="does not match")).to_be_visible()
    with acme.open_db() as db:
        assert db.get_quote(quote.quote_number).status == "submitted"


def test_generator_is_reused_by_the_fixture(tmp_path: Path) -> None:
    """The fixture's data is the generator's: same seed, same rules file."""
    paths = generate(tmp_path, 7, 60, TODAY, client="acme")
    assert paths.rules.read_text().startswith("client: acme\n")
