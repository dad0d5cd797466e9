"""The managers' dashboard: throughput, accuracy, findings, cycle times, lead and backlog."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request, Response

from web import _frames
from web._deps import SignedIn, render, store_of
from web._figview import layout

router = APIRouter()


def business_today(request: Request) -> date:
    fixed: date | None = request.app.state.today
    return fixed or store_of(request).now().date()


@router.get("/dashboard")
def dashboard(
    user: SignedIn,
    request: Request,
    since: date | None = None,
    until: date | None = None,
    engagement: str = "",
) -> Response:
    store = store_of(request)
    figures = _frames.figures(store, since=since, until=until, today=business_today(request),
                              engagement=engagement or None)  # fmt: skip
    return render(request, "dashboard.html", user=user, engagement=engagement,
                  engagements=[e.name for e in store.engagements()], **layout(figures))  # fmt: skip
