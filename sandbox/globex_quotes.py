"""Globex's quote pages: search, the read-only quote with its customer PO, and booking."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from sandbox.globex_web import (
    FIELD,
    FormError,
    PostedForm,
    Problem,
    not_found,
    parse_date,
    parse_decimal,
    portal,
    render,
    text,
)
from sandbox.portal import PortalValidationError

router = APIRouter()


@router.get("/quotes", response_class=HTMLResponse)
def quote_search(
    request: Request, external_ref: str = "", opportunity_id: str = ""
) -> HTMLResponse:
    """Find quotes by external reference or opportunity (what a bot checks before creating)."""
    external_ref, opportunity_id = external_ref.strip(), opportunity_id.strip()
    searched = bool(external_ref or opportunity_id)
    quotes = (
        portal(request).find_quotes(
            external_ref=external_ref or None, opportunity_id=opportunity_id or None
        )
        if searched
        else []
    )
    return render(
        request,
        "quotes.html",
        quotes=quotes,
        searched=searched,
        external_ref=external_ref,
        opportunity_id=opportunity_id,
    )


@router.get("/quotes/{quote_number}", response_class=HTMLResponse)
def quote_page(request: Request, quote_number: str) -> HTMLResponse:
    """A quote as the portal stored it: lines, amounts, total, status, PO and order."""
    try:
        quote = portal(request).get_quote(quote_number)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    try:
        opportunity = portal(request).get_opportunity(quote.opportunity_id)
    except KeyError:
        opportunity = None
    return render(request, "quote.html", quote=quote, opp=opportunity)


@router.get("/quotes/{quote_number}/book", response_class=HTMLResponse)
def booking_form(request: Request, quote_number: str) -> HTMLResponse:
    try:
        quote = portal(request).get_quote(quote_number)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    empty = {"po_number": "", "po_date": "", "po_amount": ""}
    return render(request, "book.html", quote=quote, form=empty, errors=[])


@router.post("/quotes/{quote_number}/book", response_class=HTMLResponse)
def book(request: Request, quote_number: str, form: PostedForm) -> Response:
    """Book a submitted quote against the customer's PO; the answer is the order number."""
    try:
        quote = portal(request).get_quote(quote_number)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    typed = {
        "po_number": text(form, "txtPONumber"),
        "po_date": text(form, "txtPODate"),
        "po_amount": text(form, "txtPOAmount"),
    }
    pdf_name, pdf = _upload(form.get(FIELD + "fuPODocument"))
    try:
        po_date = parse_date(typed["po_date"], "po_date")
        po_amount = parse_decimal(typed["po_amount"], "po_amount")
        assert po_date is not None  # required=True
        order_number = portal(request).book(
            quote_number,
            po_number=typed["po_number"],
            po_date=po_date,
            po_amount=po_amount,
            pdf_name=pdf_name,
            pdf=pdf,
        )
    except FormError as error:
        problem = error.problem
    except PortalValidationError as error:
        problem = Problem(error.field, error.message)
    else:
        return render(request, "booked.html", quote=quote, order_number=order_number)
    return render(request, "book.html", quote=quote, form=typed, errors=[problem])


def _upload(value: UploadFile | str | None) -> tuple[str, bytes]:
    """The attached file's name and bytes; nothing when no file was chosen."""
    if isinstance(value, UploadFile) and value.filename:
        return value.filename, value.file.read()
    return "", b""
