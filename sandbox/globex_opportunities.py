"""Globex's renewal opportunity pages: the filtered, sorted, paged list and one opportunity."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sandbox.globex_web import FormError, not_found, parse_date, portal, render

router = APIRouter()
PER_PAGE = 25


@dataclass(frozen=True)
class Column:
    title: str
    sort_url: str | None = None
    arrow: str = ""


# (title, the portal's sort key or None when the column cannot be sorted)
_COLUMNS = [
    ("Opportunity", "opportunity_id"),
    ("Account", "account_name"),
    ("Segment", None),
    ("Currency", None),
    ("Contract End", "contract_end"),
    ("Term (months)", None),
    ("Lines", None),
    ("Quote", None),
]


def _url(path: str, **params: object) -> str:
    kept = {key: value for key, value in params.items() if value not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def _columns(sort: str, filters: dict[str, str]) -> list[Column]:
    """Header cells; a sortable header links to its ascending sort, or descending if current."""
    columns = []
    for title, key in _COLUMNS:
        if key is None:
            columns.append(Column(title))
            continue
        descending = sort == key
        arrow = " \u25b2" if sort == key else " \u25bc" if sort == f"-{key}" else ""
        url = _url("/opportunities", **filters, sort=f"-{key}" if descending else key)
        columns.append(Column(title, url, arrow))
    return columns


def _pages(page: int, last: int, link: dict[str, str]) -> list[tuple[int | None, str | None]]:
    """Pager numbers: all of them when few, else first, last and a window around the current."""
    shown = sorted({1, last, *range(max(1, page - 3), min(last, page + 3) + 1)})
    pages: list[tuple[int | None, str | None]] = []
    previous = 0
    for number in shown:
        if previous and number - previous > 1:
            pages.append((None, None))  # "..." for the numbers left out
        previous = number
        pages.append(
            (number, None if number == page else _url("/opportunities", **link, page=number))
        )
    return pages


@router.get("/opportunities", response_class=HTMLResponse)
def opportunity_list(
    request: Request,
    end_from: str = "",
    end_to: str = "",
    sort: str = "contract_end",
    page: str = "1",
) -> HTMLResponse:
    """The renewal opportunities grid: filter by contract end, sort by column, 25 per page."""
    errors = []
    try:
        start = parse_date(end_from.strip(), "end_from", required=False)
    except FormError as error:
        errors.append(error)
        start = None
    try:
        end = parse_date(end_to.strip(), "end_to", required=False)
    except FormError as error:
        errors.append(error)
        end = None
    if sort.lstrip("-") not in {key for _, key in _COLUMNS if key}:
        sort = "contract_end"
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    result = portal(request).list_opportunities(
        end_from=start, end_to=end, sort=sort, page=number, per_page=PER_PAGE
    )
    last = max(1, -(-result.total // PER_PAGE))
    filters = {"end_from": end_from.strip(), "end_to": end_to.strip()}
    link = {**filters, "sort": sort}
    return render(
        request,
        "opportunities.html",
        result=result,
        end_from=filters["end_from"],
        end_to=filters["end_to"],
        sort=sort,
        errors=[error.problem for error in errors],
        columns=_columns(sort, filters),
        pages=_pages(min(number, last), last, link),
        prev_url=_url("/opportunities", **link, page=number - 1) if number > 1 else None,
        next_url=_url("/opportunities", **link, page=number + 1) if number < last else None,
        export_url=_url("/opportunities.csv", **filters),
    )


@router.get("/opportunities/{opportunity_id}", response_class=HTMLResponse)
def opportunity_page(request: Request, opportunity_id: str) -> HTMLResponse:
    """One opportunity: account, terms, the install base to renew, and its quotes."""
    try:
        opportunity = portal(request).get_opportunity(opportunity_id)
    except KeyError:
        return not_found(request, f"Opportunity {opportunity_id}")
    quotes = portal(request).find_quotes(opportunity_id=opportunity_id)
    return render(request, "opportunity.html", opp=opportunity, quotes=quotes)
