"""Globex's downloads: CSV exports, the customer's PO document, and the portal's stylesheet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from sandbox.globex_web import STATIC_DIR, FormError, not_found, parse_date, portal

router = APIRouter()
_STYLESHEETS = {"globex.css"}


def _attachment(body: str | bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/opportunities.csv")
def opportunities_csv(request: Request, end_from: str = "", end_to: str = "") -> Response:
    """The opportunity export (AUDIT_SPEC opportunities.csv), for the list's filter window."""
    try:
        start = parse_date(end_from.strip(), "end_from", required=False)
        end = parse_date(end_to.strip(), "end_to", required=False)
    except FormError as error:
        return Response(f"{error.field}: {error.message}\n", status_code=400)
    body = portal(request).opportunities_csv(end_from=start, end_to=end)
    return _attachment(body, "opportunities.csv", "text/csv; charset=utf-8")


@router.get("/quotes.csv")
def quotes_csv(request: Request) -> Response:
    """The quote export (AUDIT_SPEC quotes.csv): every submitted or booked quote line."""
    return _attachment(portal(request).quotes_csv(), "quotes.csv", "text/csv; charset=utf-8")


@router.get("/quotes/{quote_number}/po.pdf")
def po_pdf(request: Request, quote_number: str) -> Response:
    """The customer's purchase order, as the PDF the customer sent."""
    try:
        quote = portal(request).get_quote(quote_number)
        pdf = portal(request).po_pdf(quote_number)
    except KeyError:
        return not_found(request, f"The purchase order of quote {quote_number}")
    name = quote.customer_po.pdf_name if quote.customer_po else "po.pdf"
    return _attachment(pdf, name, "application/pdf")


@router.get("/static/globex/{name}")
def stylesheet(name: str) -> Response:
    if name not in _STYLESHEETS:
        return Response("Not found\n", status_code=404)
    return FileResponse(STATIC_DIR / name, media_type="text/css")
