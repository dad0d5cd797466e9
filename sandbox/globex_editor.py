"""Globex's quote editor: a frame page whose iframe posts back on every button, like 2008.

One form holds the header (term, external reference), the lines typed so far and the
"Add line" row; every button posts the whole form, so nothing typed is lost when the page
comes back with a red validation box. Lines live in a server-side scratch draft until
Save turns them into the portal's draft quote (`Portal.save_quote`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from sandbox.globex_drafts import Draft, DraftLine, draft_store
from sandbox.globex_web import (
    FIELD,
    FormError,
    PostedForm,
    Problem,
    not_found,
    parse_date,
    parse_decimal,
    parse_int,
    portal,
    render,
    text,
)
from sandbox.portal import Opportunity, PortalValidationError, Quote

router = APIRouter()
_REMOVE = re.compile(re.escape(FIELD) + r"gvLines\$ctl(\d+)\$btnRemove")
_ALL_SKUS = 50  # the dropdown lists every active SKU in the currency (the portal's maximum)


@dataclass(frozen=True)
class Row:
    line: DraftLine
    amount: Decimal | None


@router.get("/opportunities/{opportunity_id}/quote", response_class=HTMLResponse)
def quote_frame(request: Request, opportunity_id: str, number: str = "") -> HTMLResponse:
    """The frame page: portal chrome around the editor iframe (new quote, or a draft)."""
    try:
        opportunity = portal(request).get_opportunity(opportunity_id)
    except KeyError:
        return not_found(request, f"Opportunity {opportunity_id}")
    url = f"/editor/quote/{number}" if number else f"/editor/{opportunity_id}"
    return render(request, "quote_frame.html", opp=opportunity, editor_url=url)


@router.get("/editor/quote/{quote_number}", response_class=HTMLResponse)
def edit_quote(request: Request, quote_number: str, saved: str = "") -> HTMLResponse:
    """The editor on an existing quote: editable while draft, read-only once submitted."""
    try:
        quote = portal(request).get_quote(quote_number)
        opportunity = portal(request).get_opportunity(quote.opportunity_id)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    draft = draft_store(request).new(_user(request), opportunity.opportunity_id, quote)
    status = "Quote saved." if saved else ""
    return _editor(request, opportunity, draft, _header(quote), quote=quote, status=status)


@router.get("/editor/{opportunity_id}", response_class=HTMLResponse)
def new_quote(request: Request, opportunity_id: str) -> HTMLResponse:
    """The editor on a new, empty quote for an opportunity."""
    try:
        opportunity = portal(request).get_opportunity(opportunity_id)
    except KeyError:
        return not_found(request, f"Opportunity {opportunity_id}")
    draft = draft_store(request).new(_user(request), opportunity_id)
    return _editor(request, opportunity, draft, {})


@router.post("/editor/quote/{quote_number}", response_class=HTMLResponse)
def post_quote(request: Request, quote_number: str, form: PostedForm) -> Response:
    try:
        quote = portal(request).get_quote(quote_number)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    if quote.status != "draft":
        return edit_quote(request, quote_number)
    return _postback(request, quote.opportunity_id, quote, form)


@router.post("/editor/{opportunity_id}", response_class=HTMLResponse)
def post_new(request: Request, opportunity_id: str, form: PostedForm) -> Response:
    return _postback(request, opportunity_id, None, form)


@router.post("/editor/quote/{quote_number}/submit", response_class=HTMLResponse)
def confirm_submit(request: Request, quote_number: str, form: PostedForm) -> Response:
    """The answer to "Are you sure?": Yes submits the quote, No goes back to the editor."""
    try:
        quote = portal(request).get_quote(quote_number)
        opportunity = portal(request).get_opportunity(quote.opportunity_id)
    except KeyError:
        return not_found(request, f"Quote {quote_number}")
    if FIELD + "btnYes" not in form:
        draft = draft_store(request).new(_user(request), opportunity.opportunity_id, quote)
        return _editor(
            request, opportunity, draft, _header(quote), quote=quote, status="Submission cancelled."
        )
    errors: list[Problem] = []
    try:
        quote = portal(request).submit_quote(quote_number)
        status = "Quote submitted."
    except PortalValidationError as error:
        errors.append(Problem(error.field, error.message))
        status = ""
    draft = draft_store(request).new(_user(request), opportunity.opportunity_id, quote)
    return _editor(
        request, opportunity, draft, _header(quote), quote=quote, status=status, errors=errors
    )


def _user(request: Request) -> str:
    return str(request.state.username or "")


def _header(quote: Quote) -> dict[str, str]:
    return {
        "external_ref": quote.external_ref or "",
        "term_start": quote.term_start.isoformat() if quote.term_start else "",
        "term_end": quote.term_end.isoformat() if quote.term_end else "",
    }


def _typed(form: FormData) -> dict[str, str]:
    """Everything typed into the editor's inputs, to show it again whatever happens."""
    return {
        "external_ref": text(form, "txtExtRef"),
        "term_start": text(form, "txtTermStart"),
        "term_end": text(form, "txtTermEnd"),
        "sku": text(form, "ddlSku"),
        "quantity": text(form, "txtQty"),
        "unit_price": text(form, "txtUnitPrice"),
        "line_start": text(form, "txtLineStart"),
        "line_end": text(form, "txtLineEnd"),
    }


def _postback(
    request: Request, opportunity_id: str, quote: Quote | None, form: FormData
) -> Response:
    """Apply the button that was pressed to the scratch draft, then show the editor again."""
    try:
        opportunity = portal(request).get_opportunity(opportunity_id)
    except KeyError:
        return not_found(request, f"Opportunity {opportunity_id}")
    values = _typed(form)
    errors: list[Problem] = []
    token = form.get("__DRAFTSTATE")
    draft = draft_store(request).get(_user(request), token) if isinstance(token, str) else None
    if draft is None or draft.opportunity_id != opportunity_id:
        # The server forgot the scratch lines (restart, or too many editors open).
        draft = draft_store(request).new(_user(request), opportunity_id, quote)
        errors.append(Problem("lines", "your editing session expired; unsaved lines were reset"))
        return _editor(request, opportunity, draft, values, quote=quote, errors=errors)
    removed = next((m for key in form if (m := _REMOVE.fullmatch(key))), None)
    try:
        if removed is not None:
            index = int(removed.group(1)) - 2  # ASP.NET grid rows start at ctl02
            if 0 <= index < len(draft.lines):
                del draft.lines[index]
                draft.dirty = True
        elif FIELD + "btnGetPrice" in form:
            values["unit_price"] = _default_price(request, opportunity, values["sku"])
        elif FIELD + "btnAddLine" in form:
            _add_line(request, opportunity, draft, values)
        elif FIELD + "btnSave" in form or FIELD + "btnSubmit" in form:
            saved = _save(request, opportunity, draft, values)
            if FIELD + "btnSubmit" in form:
                return render(request, "editor_confirm.html", quote=saved)
            return RedirectResponse(f"/editor/quote/{saved.quote_number}?saved=1", status_code=303)
    except FormError as error:
        errors.append(error.problem)
    except PortalValidationError as error:
        errors.append(Problem(error.field, error.message))
    return _editor(request, opportunity, draft, values, quote=quote, errors=errors)


def _default_price(request: Request, opportunity: Opportunity, sku: str) -> str:
    """The price the portal pre-fills for a SKU (its price book may be out of date)."""
    if not sku:
        raise FormError("sku", "select a product first")
    price = portal(request).default_unit_price(sku, opportunity.currency)
    if price is None:
        raise FormError("unit_price", f"no list price for {sku} in {opportunity.currency}")
    return str(price)


def _add_line(
    request: Request, opportunity: Opportunity, draft: Draft, values: dict[str, str]
) -> None:
    if not values["sku"]:
        raise FormError("sku", "select a product")
    quantity = parse_int(values["quantity"], "quantity")
    raw_price = values["unit_price"] or _default_price(request, opportunity, values["sku"])
    unit_price = parse_decimal(raw_price, "unit_price")
    start = parse_date(values["line_start"], "line_start", required=False)
    end = parse_date(values["line_end"], "line_end", required=False)
    draft.lines.append(DraftLine(values["sku"], quantity, unit_price, start, end))
    draft.dirty = True
    values.update(sku="", quantity="", unit_price="", line_start="", line_end="")


def _save(
    request: Request, opportunity: Opportunity, draft: Draft, values: dict[str, str]
) -> Quote:
    """Make the scratch draft the portal's draft quote (create it, or update it)."""
    term_start = parse_date(values["term_start"], "term_start")
    term_end = parse_date(values["term_end"], "term_end")
    assert term_start is not None and term_end is not None  # required=True
    saved = portal(request).save_quote(
        opportunity.opportunity_id,
        external_ref=values["external_ref"],
        term_start=term_start,
        term_end=term_end,
        lines=[
            (line.sku, line.quantity, line.unit_price, line.line_start, line.line_end)
            for line in draft.lines
        ],
        quote_number=draft.quote_number,
    )
    draft.quote_number = saved.quote_number
    draft.dirty = False
    return saved


def _editor(
    request: Request,
    opportunity: Opportunity,
    draft: Draft,
    values: dict[str, str],
    *,
    quote: Quote | None = None,
    status: str = "",
    errors: list[Problem] | None = None,
) -> HTMLResponse:
    """Render the editor page for a scratch draft with what the user typed."""
    form: dict[str, Any] = {key: "" for key in _typed(FormData())} | values
    readonly = quote is not None and quote.status != "draft"
    clean = quote is not None and not draft.dirty
    amounts = [line.line_amount for line in quote.lines] if clean and quote else []
    rows = [
        Row(line, amounts[index] if index < len(amounts) else None)
        for index, line in enumerate(draft.lines)
    ]
    options = [] if readonly else portal(request).search_skus("", opportunity.currency, _ALL_SKUS)
    action = (
        f"/editor/quote/{quote.quote_number}" if quote else f"/editor/{opportunity.opportunity_id}"
    )
    return render(
        request,
        "editor.html",
        opp=opportunity,
        draft=draft,
        form=form,
        rows=rows,
        quote=quote,
        dirty=draft.dirty,
        readonly=readonly,
        sku_options=options,
        status=status,
        errors=errors or [],
        action=action,
    )
