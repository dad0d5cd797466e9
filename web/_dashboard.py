"""The managers' dashboard: throughput, accuracy, findings, cycle times, lead and backlog."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response

from web import report
from web._deps import SignedIn, render, store_of
from web._figview import layout

router = APIRouter()


def business_today(request: Request) -> date:
    fixed: date | None = request.app.state.today
    return fixed or store_of(request).now().date()


def _day(text: str) -> date | None:
    """A date from a form field; empty or unreadable means the default window."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@router.get("/dashboard")
def dashboard(
    user: SignedIn,
    request: Request,
    since: str = "",
    until: str = "",
    engagement: str = "",
) -> Response:
    store = store_of(request)
    figures = report.figures(
        store,
        since=_day(since),
        until=_day(until),
        today=business_today(request),
        engagement=engagement or None,
    )
    return render(
        request,
        "dashboard.html",
        user=user,
        engagement=engagement,
        engagements=[e.name for e in store.engagements()],
        **layout(figures),
    )
