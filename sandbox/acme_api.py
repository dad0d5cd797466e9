"""Acme's JSON API under /api: what the single-page app (and nothing else) talks to.

Unsafe calls carry the session's `X-CSRF-Token` header; validation problems answer 422
`{"error": "validation", "field": "lines.0.unit_price", "message": ...}`, an expired
session 401 (see `sandbox.app`). Money and dates travel as strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, HTTPException, Request, UploadFile

from sandbox import _util as u
from sandbox.portal import Portal, PortalValidationError, Quote

router = APIRouter(prefix="/api")


def jsonable(value: Any) -> Any:
    """Dataclasses, Decimals and dates as JSON (money as exact strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _portal(request: Request) -> Portal:
    portal: Portal = request.app.state.portal
    return portal


def _optional_date(raw: str, field: str) -> date | None:
    return u.parse_date(raw, field) if raw.strip() else None


def _not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"{what} was not found")


@router.get("/session")
def session(request: Request) -> dict[str, Any]:
    config = request.app.state.config
    return {
        "username": request.state.username,
        "csrf_token": request.state.csrf_token,
        "flavour": config.flavour,
        "today": config.today.isoformat(),
    }


@router.get("/opportunities")
def opportunities(
    request: Request,
    end_from: str = "",
    end_to: str = "",
    sort: str = "contract_end",
    page: int = 1,
    per_page: int = 25,
) -> dict[str, Any]:
    result = _portal(request).list_opportunities(
        end_from=_optional_date(end_from, "end_from"),
        end_to=_optional_date(end_to, "end_to"),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return {**jsonable(result), "pages": result.pages}


@router.get("/opportunities/{opportunity_id}")
def opportunity(request: Request, opportunity_id: str) -> dict[str, Any]:
    portal = _portal(request)
    try:
        opp = portal.get_opportunity(opportunity_id)
    except KeyError:
        raise _not_found(f"opportunity {opportunity_id}") from None
    quotes = portal.find_quotes(opportunity_id=opportunity_id)
    summaries = [
        {
            "quote_number": q.quote_number,
            "status": q.status,
            "external_ref": q.external_ref,
            "total": str(q.total),
            "currency": q.currency,
        }
        for q in quotes
    ]
    return {**jsonable(opp), "quotes": summaries, "proration": portal.proration}


@router.get("/skus")
def skus(request: Request, q: str = "", currency: str = "USD") -> list[dict[str, str]]:
    """The typeahead: active SKUs in the currency matching the typed text."""
    if len(q.strip()) < 1:
        return []
    return [
        {"sku": sku, "description": description}
        for sku, description in _portal(request).search_skus(q, currency)
    ]


@router.get("/prices")
def price(request: Request, sku: str, currency: str) -> dict[str, Any]:
    """What the editor pre-fills for a chosen SKU (the portal's default: may be stale)."""
    value = _portal(request).default_unit_price(sku, currency)
    settle_ms = request.app.state.config.faults.slow_default_price_ms
    return {
        "sku": sku,
        "currency": currency,
        "unit_price": None if value is None else str(value),
        "settle_ms": settle_ms,
    }


def _lines(payload: dict[str, Any]) -> list[tuple[str, int, Decimal, str, str]]:
    raw = payload.get("lines")
    if not isinstance(raw, list):
        raise PortalValidationError("lines", "lines must be a list")
    lines = []
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            raise PortalValidationError(f"lines.{index}", "a line must be an object")
        sku = str(line.get("sku", "")).strip()
        if not sku:
            raise PortalValidationError(f"lines.{index}.sku", "choose a SKU")
        quantity = u.parse_int(line.get("quantity", ""), f"lines.{index}.quantity")
        unit_price = u.parse_decimal(line.get("unit_price", ""), f"lines.{index}.unit_price")
        dates = (str(line.get("line_start") or ""), str(line.get("line_end") or ""))
        lines.append((sku, quantity, unit_price, *dates))
    return lines


@router.post("/quotes")
def save_quote(request: Request, payload: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Create a draft quote, or update the draft named by `quote_number`."""
    opportunity_id = str(payload.get("opportunity_id", ""))
    quote = _portal(request).save_quote(
        opportunity_id,
        external_ref=str(payload.get("external_ref", "")),
        term_start=u.parse_date(payload.get("term_start", ""), "term_start"),
        term_end=u.parse_date(payload.get("term_end", ""), "term_end"),
        lines=_lines(payload),
        quote_number=payload.get("quote_number") or None,
    )
    result: dict[str, Any] = jsonable(quote)
    return result


def _quote_json(action: Callable[[str], Quote], quote_number: str) -> dict[str, Any]:
    try:
        quote = action(quote_number)
    except KeyError:
        raise _not_found(f"quote {quote_number}") from None
    result: dict[str, Any] = jsonable(quote)
    return result


@router.post("/quotes/{quote_number}/submit")
def submit_quote(request: Request, quote_number: str) -> dict[str, Any]:
    return _quote_json(_portal(request).submit_quote, quote_number)


@router.get("/quotes")
def find_quotes(
    request: Request, external_ref: str = "", opportunity_id: str = ""
) -> list[dict[str, Any]]:
    quotes = _portal(request).find_quotes(
        external_ref=external_ref or None, opportunity_id=opportunity_id or None
    )
    result: list[dict[str, Any]] = jsonable(quotes)
    return result


@router.get("/quotes/{quote_number}")
def get_quote(request: Request, quote_number: str) -> dict[str, Any]:
    return _quote_json(_portal(request).get_quote, quote_number)


@router.post("/quotes/{quote_number}/booking")
def book(
    request: Request,
    quote_number: str,
    po_number: Annotated[str, Form()] = "",
    po_date: Annotated[str, Form()] = "",
    po_amount: Annotated[str, Form()] = "",
    pdf: Annotated[UploadFile | None, File()] = None,
) -> dict[str, str]:
    """Book an accepted quote: PO number, date, amount and the PO document (PDF)."""
    content = pdf.file.read() if pdf is not None else b""
    order_number = _portal(request).book(
        quote_number,
        po_number=po_number,
        po_date=u.parse_date(po_date, "po_date"),
        po_amount=u.parse_decimal(po_amount, "po_amount"),
        pdf_name=(pdf.filename or "po.pdf") if pdf is not None else "",
        pdf=content,
    )
    return {"quote_number": quote_number, "order_number": order_number}
