"""The family of portals with one URL per page (acme, globex): a page is opened by its
address, and the renewal list, the opportunity, the quote search and the quote read the
same way from the keys of each flavour's map. A flavour of this family writes only what
differs: how a quote is typed, submitted and booked."""

from __future__ import annotations

from datetime import date

from bots.portals.base import (
    DueOpportunity,
    PortalBot,
    PortalPage,
    PortalQuote,
    QuoteReadBack,
    install_base,
    parse_date,
    quote_lines,
    quote_search,
    read_back,
    read_opportunity_page,
    requires,
)
from schemas import Opportunity

PAGE_PER_URL = requires(
    login="username password submit",
    home="logged_in",
    opportunities="rows next rows.opportunity_id rows.account rows.contract_end",
    opportunity="lines lines.line_no lines.sku lines.quantity lines.prior_unit_price "
    "lines.line_end lines.renew",
    quote_search="rows rows.quote_number rows.opportunity_id rows.external_ref rows.status",
    quote="quote_number opportunity_id quote_date valid_until currency term_start term_end "
    "total status external_ref order_number lines lines.line_no lines.sku lines.quantity "
    "lines.unit_price lines.line_amount lines.line_start lines.line_end",
    booking="po_number po_date po_amount po_file book",
)
"""What the shared readers and steps of the family read and type."""


class PagePerUrlBot(PortalBot):
    """The readers every portal with one URL per page shares."""

    def due_opportunities(self, start: date, end: date) -> list[DueOpportunity]:
        due: list[DueOpportunity] = []
        page_no = 1
        while True:
            view = self.open("opportunities", end_from=start, end_to=end, page=page_no)
            for row in view.rows("rows"):
                ends = row["contract_end"]
                contract_end = parse_date(ends, "contract end") if ends else None
                due.append(DueOpportunity(row["opportunity_id"], row["account"], contract_end))
            if _last_page(view):
                return due
            page_no += 1

    def read_opportunity(self, opportunity_id: str) -> Opportunity:
        view = self.open("opportunity", opportunity_id=opportunity_id)
        return read_opportunity_page(view, opportunity_id, install_base(view))

    def find_quotes(
        self, *, external_ref: str | None = None, opportunity_id: str | None = None
    ) -> list[PortalQuote]:
        view = self.open(
            "quote_search", external_ref=external_ref or "", opportunity_id=opportunity_id or ""
        )
        return quote_search(view, external_ref)

    def read_quote(self, quote_number: str) -> QuoteReadBack:
        view = self.open("quote", quote_number=quote_number)
        return read_back(view, quote_lines(view))


def _last_page(view: PortalPage) -> bool:
    """No next-page control (globex drops it), or a disabled one (acme greys it out)."""
    following = view("next")
    return following.count() == 0 or following.first.is_disabled()
