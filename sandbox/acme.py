"""Acme: a modern client portal, a single-page app over a JSON API (the sandbox's first
UI flavour).

What bots meet here and not in globex: `data-testid` attributes, client-side routing,
a SKU typeahead with debounce, line rows added in the browser, totals computed in the
browser (the server recomputes them on save), a confirmation modal and toasts. Every
page path below serves the same shell; `static/acme/app.js` renders the view.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response

from sandbox import _util as u
from sandbox import acme_api
from sandbox.portal import Portal

STATIC_DIR = Path(__file__).parent / "static" / "acme"
ASSETS = {"app.js": "text/javascript", "editor.js": "text/javascript", "app.css": "text/css"}
PAGES = [
    "/opportunities",
    "/opportunities/{opportunity_id}",
    "/opportunities/{opportunity_id}/quote",
    "/quotes",
    "/quotes/{quote_number}",
    "/quotes/{quote_number}/book",
]

router = APIRouter()
router.include_router(acme_api.router)


def _attachment(body: str | bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def _assets(request: Request) -> Path:
    custom: Path | None = request.app.state.config.acme_assets
    return custom or STATIC_DIR


@router.get("/static/acme/{name}", include_in_schema=False)
def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(status_code=404)
    return FileResponse(_assets(request) / name, media_type=ASSETS[name])


@router.get("/opportunities.csv")
def opportunities_csv(request: Request, end_from: str = "", end_to: str = "") -> Response:
    """AUDIT_SPEC's opportunities.csv for the list's contract-end window (a download)."""
    start: date | None = u.parse_date(end_from, "end_from") if end_from.strip() else None
    end: date | None = u.parse_date(end_to, "end_to") if end_to.strip() else None
    body = _portal(request).opportunities_csv(end_from=start, end_to=end)
    return _attachment(body, "opportunities.csv", "text/csv; charset=utf-8")


@router.get("/quotes.csv")
def quotes_csv(request: Request) -> Response:
    """AUDIT_SPEC's quotes.csv: every line of every submitted or booked quote."""
    return _attachment(_portal(request).quotes_csv(), "quotes.csv", "text/csv; charset=utf-8")


@router.get("/bookings.csv")
def bookings_csv(request: Request) -> Response:
    """AUDIT_SPEC's bookings.csv: what was entered for every booked quote."""
    body = _portal(request).bookings_csv()
    return _attachment(body, "bookings.csv", "text/csv; charset=utf-8")


@router.get("/quotes/{quote_number}/po.pdf")
def po_pdf(request: Request, quote_number: str) -> Response:
    """The customer's purchase order document."""
    portal = _portal(request)
    try:
        quote = portal.get_quote(quote_number)
        pdf = portal.po_pdf(quote_number)
    except KeyError:
        raise HTTPException(status_code=404, detail=f"no PO for {quote_number}") from None
    name = quote.customer_po.pdf_name if quote.customer_po else "po.pdf"
    return _attachment(pdf, name, "application/pdf")


def _shell(request: Request) -> FileResponse:
    return FileResponse(_assets(request) / "index.html", media_type="text/html")


for _path in PAGES:
    router.add_api_route(_path, _shell, methods=["GET"], include_in_schema=False)
