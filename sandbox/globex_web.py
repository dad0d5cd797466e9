"""What every globex page needs: the templates, the portal, the CSRF token, form parsing.

Globex imitates a 2008 ASP.NET portal: server-rendered pages, `ctl00_main_*` element ids
and `ctl00$main$*` field names. Those names are what bots' selector maps point at, so they
are part of the portal's (imagined) contract: keep them stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from sandbox.portal import Portal

TEMPLATES_DIR = Path(__file__).parent / "templates" / "globex"
STATIC_DIR = Path(__file__).parent / "static" / "globex"
FIELD = "ctl00$main$"  # prefix of every input's name; ids use "ctl00_main_"


def _money(value: Decimal | None) -> str:
    """An amount as the portal shows it: thousands separators, the currency's places kept."""
    return "" if value is None else format(value, ",")


def _iso(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def _environment(*folders: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=True,  # account names carry planted markup: everything is text
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["iso"] = _iso
    return env


_env = _environment(TEMPLATES_DIR)
_drifted: dict[Path, jinja2.Environment] = {}


def _templates(request: Request) -> jinja2.Environment:
    """The sandbox's templates, or a drifted copy's first (`SandboxConfig.globex_templates`)."""
    custom: Path | None = request.app.state.config.globex_templates
    if custom is None:
        return _env
    if custom not in _drifted:
        _drifted[custom] = _environment(custom, TEMPLATES_DIR)
    return _drifted[custom]


async def _posted_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]
"""The posted form, read before the (sync, thread-pooled) handler calls the portal."""


def portal(request: Request) -> Portal:
    """The one `Portal` the core's app serves."""
    served: Portal = request.app.state.portal
    return served


def csrf_token(request: Request) -> str:
    """The session's CSRF token, to embed in every form."""
    return str(request.state.csrf_token)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a globex page (full page, legacy style) with the CSRF token at hand."""
    html = (
        _templates(request)
        .get_template(template)
        .render(csrf_token=csrf_token(request), path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code)


def not_found(request: Request, what: str) -> HTMLResponse:
    return render(request, "error.html", status_code=404, message=f"{what} was not found.")


def text(form: FormData, name: str) -> str:
    """A text field of a posted form, by its short name (`txtRef` -> `ctl00$main$txtRef`)."""
    value = form.get(FIELD + name)
    return value.strip() if isinstance(value, str) else ""


_LABELS = {
    "end_from": "Contract end from",
    "end_to": "Contract end to",
    "external_ref": "External reference",
    "term_start": "Term start",
    "term_end": "Term end",
    "sku": "Product (SKU)",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "lines": "Lines",
    "po_number": "PO number",
    "po_date": "PO date",
    "po_amount": "PO amount",
    "pdf": "PO document (PDF)",
    "quote": "Quote",
}
_LINE_FIELD = re.compile(r"lines?\W*(\d+)\W*(\w+)?")


@dataclass(frozen=True)
class Problem:
    """A validation message as the red box shows it: which field, what is wrong."""

    field: str
    message: str

    @property
    def label(self) -> str:
        if self.field in _LABELS:
            return _LABELS[self.field]
        line = _LINE_FIELD.fullmatch(self.field)
        if line:  # a portal message about one line: "lines.0.sku" is the first line's SKU
            detail = _LABELS.get(line.group(2) or "", line.group(2) or "")
            return f"Line {int(line.group(1)) + 1} {detail}".strip()
        return self.field.replace("_", " ").capitalize()


class FormError(ValueError):
    """Raised when a typed value cannot even be read (not a date, not a number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def problem(self) -> Problem:
        return Problem(self.field, self.message)


def parse_date(raw: str, field: str, *, required: bool = True) -> date | None:
    if not raw:
        if required:
            raise FormError(field, "is required (yyyy-mm-dd)")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError(field, f"'{raw}' is not a date (yyyy-mm-dd)") from None


def parse_int(raw: str, field: str) -> int:
    if not raw:
        raise FormError(field, "is required")
    try:
        return int(raw.replace(",", ""))
    except ValueError:
        raise FormError(field, f"'{raw}' is not a whole number") from None


def parse_decimal(raw: str, field: str) -> Decimal:
    if not raw:
        raise FormError(field, "is required")
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise FormError(field, f"'{raw}' is not an amount") from None
    if not value.is_finite():
        raise FormError(field, f"'{raw}' is not an amount")
    return value
