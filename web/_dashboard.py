"""The managers' dashboard: throughput, accuracy, findings, cycle times, lead and backlog."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from audit.metrics import Figures
from schemas.people import User
from web import _forecast, report
from web._deps import (
    BadInput,
    NotFound,
    SignedIn,
    business_today,
    engagement_names,
    render,
    store_of,
)
from web._figview import layout

router = APIRouter()


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
"""The days figures can be asked for: outside them pandas' timestamps overflow, and no
renewal of ours is there."""


def _day(text: str, field: str) -> date | None:
    """A date from a form field (empty: the default window), or `BadInput` naming it."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            "Not understood", f"'{field}' must be a date like 2026-11-30, not {text[:40]!r}."
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise BadInput(
            "Not understood", f"'{field}' must be between {EARLIEST} and {LATEST}, not {day}."
        )
    return day


def window(since: str, until: str) -> tuple[date | None, date | None]:
    """The days asked for; a reversed range is refused with a message."""
    first, last = _day(since, "from"), _day(until, "to")
    if first and last and last < first:
        raise BadInput("Not understood", f"The range ends ({last}) before it starts ({first}).")
    return first, last


@dataclass
class Shown:
    """What the dashboard is asked to show: a window of days and one engagement or all."""

    since: str = ""
    until: str = ""
    engagement: str = ""


def _figures(request: Request, user: User, shown: Shown) -> Figures:
    first, last = window(shown.since, shown.until)
    engagement = shown.engagement
    if engagement and engagement not in engagement_names(request, user):
        # A typo, or another client's: the same words, never a dashboard of zeros.
        raise NotFound("No such engagement", "There is no engagement of that name.")
    return report.figures(
        store_of(request),
        since=first,
        until=last,
        today=business_today(request),
        engagement=engagement or None,
        within=user.scope,
    )


def _panel(request: Request, user: User, shown: Shown) -> _forecast.Panel:
    return _forecast.panel(
        store_of(request),
        request.app.state.engagements,
        today=business_today(request),
        engagement=shown.engagement or None,
        within=user.scope,
    )


@router.get("/dashboard")
def dashboard(user: SignedIn, request: Request, shown: Annotated[Shown, Depends()]) -> Response:
    figures = _figures(request, user, shown)
    return render(
        request,
        "dashboard.html",
        user=user,
        engagement=shown.engagement,
        engagements=engagement_names(request, user),
        forecast_panel=_panel(request, user, shown),
        links=True,
        **layout(figures),
    )


@router.get("/dashboard/export.{fmt}")
def export(
    user: SignedIn, request: Request, fmt: str, shown: Annotated[Shown, Depends()]
) -> Response:
    """What the dashboard shows, as CSV (every number, one per line) or XLSX (a sheet per
    table), of the person's own engagements only."""
    if fmt not in {"csv", "xlsx"}:
        raise NotFound("No such export", "Exports are CSV or XLSX.")
    figures = _figures(request, user, shown)
    with tempfile.TemporaryDirectory() as folder:
        path = report.write(
            figures,
            Path(folder) / f"export.{fmt}",
            fmt,  # type: ignore[arg-type]
            "",
            _panel(request, user, shown),
        )
        body = path.read_bytes()
    name = f"quotebot-{figures.since}-{figures.until}.{fmt}"
    media = "text/csv" if fmt == "csv" else XLSX
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
