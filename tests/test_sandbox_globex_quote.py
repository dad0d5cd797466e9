"""Globex's quote editor (inside an iframe), submission and booking with a PO upload, in a
real Chromium against the real sandbox server; checked against the portal's own database."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from playwright.sync_api import FrameLocator, Page, expect
from sandbox_helpers import TODAY, RunningPortal, login, running_portal

from sandbox.portal import Opportunity, Portal

EDITOR = "iframe[name=editor]"
LINE_ROWS = "#ctl00_main_gvLines tr.row, #ctl00_main_gvLines tr.altrow"


def _bookable(site: RunningPortal, scratch: Path) -> Opportunity:
    """A plain opportunity whose customer sends a PO at once (tried out on a copy)."""
    with closing(sqlite3.connect(site.config.db_path)) as source:
        with closing(sqlite3.connect(scratch)) as copy:
            source.backup(copy)
    with Portal(scratch, today=TODAY) as portal:
        for opportunity_id in site.regular_opportunities():
            opp = portal.get_opportunity(opportunity_id)
            lines = [(ln.sku, ln.quantity, Decimal(1)) for ln in opp.lines]
            quote = portal.save_quote(
                opp.opportunity_id,
                external_ref="probe",
                term_start=TODAY,
                term_end=TODAY,
                lines=lines,
            )
            if portal.submit_quote(quote.quote_number).customer_po is not None:
                return opp
    raise AssertionError("no opportunity of seed 7 gets a customer PO")


def _enter_line(editor: FrameLocator, sku: str, quantity: int, price: Decimal) -> None:
    """Choose a SKU, type the bot's own price over the portal's, add the line, and wait for
    the reloaded page (typing into the page being replaced would be lost)."""
    rows = editor.locator(LINE_ROWS).count()
    editor.locator("#ctl00_main_ddlSku").select_option(sku)
    editor.locator("#ctl00_main_txtUnitPrice").fill(str(price))
    editor.locator("#ctl00_main_txtQty").fill(str(quantity))
    editor.locator("#ctl00_main_btnAddLine").click()
    expect(editor.locator(LINE_ROWS)).to_have_count(rows + 1)


def test_quote_entry_submission_and_booking(page: Page, tmp_path: Path) -> None:
    ref = "WI-GLOBEX-0001"
    with running_portal(tmp_path / "portal", "globex") as site, site.open_db() as portal:
        opp = _bookable(site, tmp_path / "scratch.sqlite3")
        assert opp.contract_end is not None
        start = opp.contract_end + timedelta(days=1)
        end = start + relativedelta(months=opp.renewal_term_months) - timedelta(days=1)
        login(page, site, f"/opportunities/{opp.opportunity_id}")
        page.locator("#ctl00_main_lnkCreateQuote").click()
        editor = page.frame_locator(EDITOR)
        expect(editor.locator("#ctl00_main_lblStatus")).to_contain_text("New quote (not saved)")

        # The portal's pre-filled price for the first line, the bot's own for the others.
        first, *others = opp.lines
        default = portal.default_unit_price(first.sku, opp.currency)
        editor.locator("#ctl00_main_ddlSku").select_option(first.sku)
        editor.locator("#ctl00_main_btnGetPrice").click()
        expect(editor.locator("#ctl00_main_txtUnitPrice")).to_have_value(str(default))
        editor.locator("#ctl00_main_txtQty").fill("many")
        editor.locator("#ctl00_main_btnAddLine").click()
        expect(editor.locator("#ctl00_main_valSummary")).to_contain_text("Quantity: 'many'")
        expect(editor.locator("#ctl00_main_ddlSku")).to_have_value(first.sku)  # nothing lost
        editor.locator("#ctl00_main_txtQty").fill(str(first.quantity))
        editor.locator("#ctl00_main_btnAddLine").click()
        expect(editor.locator(LINE_ROWS)).to_have_count(1)
        typed = {ln.sku: ln.prior_unit_price or Decimal(1) for ln in others}
        for line in others:
            _enter_line(editor, line.sku, line.quantity, typed[line.sku])
        expect(editor.locator(LINE_ROWS)).to_have_count(len(opp.lines))

        # A line added by mistake, removed again.
        spare = next(
            sku
            for sku, _ in portal.search_skus("", opp.currency, 50)
            if sku not in {ln.sku for ln in opp.lines}
        )
        _enter_line(editor, spare, 3, Decimal(5))
        editor.locator(LINE_ROWS).last.get_by_role("button", name="Remove").click()
        expect(editor.locator(LINE_ROWS)).to_have_count(len(opp.lines))

        # Term end before term start: a red box naming the field, the typed values kept.
        editor.locator("#ctl00_main_txtTermStart").fill(start.isoformat())
        editor.locator("#ctl00_main_txtTermEnd").fill((start - timedelta(days=1)).isoformat())
        editor.locator("#ctl00_main_txtExtRef").fill(ref)
        editor.locator("#ctl00_main_btnSave").click()
        expect(editor.locator("#ctl00_main_valSummary")).to_contain_text("Term end")
        expect(editor.locator("#ctl00_main_txtExtRef")).to_have_value(ref)
        expect(editor.locator(LINE_ROWS)).to_have_count(len(opp.lines))
        assert portal.find_quotes(external_ref=ref) == []

        editor.locator("#ctl00_main_txtTermEnd").fill(end.isoformat())
        editor.locator("#ctl00_main_btnSave").click()
        expect(editor.locator("#ctl00_main_lblMessage")).to_have_text("Quote saved.")
        number = editor.locator("#ctl00_main_lblQuoteNo").inner_text()
        assert re.fullmatch(r"Q-\d{6}", number)
        (saved,) = portal.find_quotes(external_ref=ref)
        assert saved.quote_number == number and saved.status == "draft"
        assert (saved.term_start, saved.term_end) == (start, end)
        assert [(ln.sku, ln.quantity) for ln in saved.lines] == [
            (ln.sku, ln.quantity) for ln in opp.lines
        ]
        assert [ln.unit_price for ln in saved.lines] == [default, *typed.values()]
        expect(editor.locator("#ctl00_main_lblTotal")).to_have_text(format(saved.total, ","))

        _submit_from_the_opportunity_page(page, opp, number)
        submitted = portal.get_quote(number)
        assert submitted.status == "submitted" and submitted.customer_po is not None
        _book(page, portal, number, tmp_path)
        _search_by_reference(page, ref, number)


def _submit_from_the_opportunity_page(page: Page, opp: Opportunity, number: str) -> None:
    """Reopen the draft from the opportunity page, then Submit: No first, then Yes."""
    page.frame_locator(EDITOR).get_by_role("link", name="Back to opportunity").click()  # _top
    expect(page.locator("#ctl00_main_gvQuotes")).to_contain_text(number)
    page.locator("#ctl00_main_gvQuotes").get_by_role("link", name="Edit").click()
    editor = page.frame_locator(EDITOR)
    expect(editor.locator(LINE_ROWS)).to_have_count(len(opp.lines))
    editor.locator("#ctl00_main_btnSubmit").click()
    expect(editor.locator("#ctl00_main_lblConfirm")).to_contain_text("Are you sure")
    editor.locator("#ctl00_main_btnNo").click()
    expect(editor.locator("#ctl00_main_lblMessage")).to_have_text("Submission cancelled.")
    editor.locator("#ctl00_main_btnSubmit").click()
    editor.locator("#ctl00_main_btnYes").click()
    expect(editor.locator("#ctl00_main_lblMessage")).to_have_text("Quote submitted.")
    expect(editor.locator("#ctl00_main_lblQuoteStatus")).to_have_text("Submitted")
    expect(editor.locator("#ctl00_main_btnSave")).to_have_count(0)  # read-only now


def _book(page: Page, portal: Portal, number: str, tmp_path: Path) -> None:
    """Download the customer's PO, then book against it (a wrong PO number first)."""
    quote = portal.get_quote(number)
    po = quote.customer_po
    assert po is not None
    page.frame_locator(EDITOR).get_by_role("link", name="View quote").click()
    expect(page.locator("#ctl00_main_lblPONumber")).to_have_text(po.po_number)
    with page.expect_download() as info:
        page.locator("#ctl00_main_lnkPOPdf").click()
    pdf = tmp_path / info.value.suggested_filename
    info.value.save_as(pdf)
    assert pdf.read_bytes() == portal.po_pdf(number)

    page.locator("#ctl00_main_lnkBook").click()
    page.locator("#ctl00_main_txtPONumber").fill("PO-WRONG")
    page.locator("#ctl00_main_txtPODate").fill(po.po_date.isoformat())
    page.locator("#ctl00_main_txtPOAmount").fill(str(po.amount))
    page.locator("#ctl00_main_fuPODocument").set_input_files(pdf)
    page.locator("#ctl00_main_btnBook").click()
    expect(page.locator("#ctl00_main_valSummary")).to_contain_text("PO number")
    expect(page.locator("#ctl00_main_txtPOAmount")).to_have_value(str(po.amount))
    assert portal.get_quote(number).status == "submitted"

    page.locator("#ctl00_main_txtPONumber").fill(po.po_number)
    page.locator("#ctl00_main_fuPODocument").set_input_files(pdf)  # browsers never keep files
    page.locator("#ctl00_main_btnBook").click()
    expect(page.locator("#ctl00_main_lblOrderNo")).to_have_text(re.compile(r"SO-\d{6}"))
    order = page.locator("#ctl00_main_lblOrderNo").inner_text()
    booked = portal.get_quote(number)
    assert booked.status == "booked" and booked.order_number == order
    assert booked.booking is not None and booked.booking.pdf_name == pdf.name
    assert booked.booking.po_amount == po.amount
    with closing(sqlite3.connect(portal.db.path)) as conn:
        stored = conn.execute("SELECT pdf FROM bookings WHERE quote_number = ?", (number,))
        assert stored.fetchone()[0] == pdf.read_bytes()


def _search_by_reference(page: Page, ref: str, number: str) -> None:
    page.get_by_role("link", name="Quote Search").click()
    page.locator("#ctl00_main_txtExtRef").fill(ref)
    page.locator("#ctl00_main_btnSearch").click()
    expect(page.locator("#ctl00_main_lblCount")).to_have_text("1 quotes found")
    page.locator("#ctl00_main_gvResults").get_by_role("link", name=number).click()
    expect(page.locator("#ctl00_main_lblStatus")).to_have_text("Booked")
