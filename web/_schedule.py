"""Operations' schedules: next run times from the engagements file, pause, resume, run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from schemas.engagement import EngagementError, cron_trigger, load_engagements
from schemas.people import ScheduleControl
from web._deps import Operator, SignedIn, render, store_of

router = APIRouter()
_KINDS = ("quote", "booking")


@dataclass(frozen=True)
class ScheduleRow:
    engagement: str
    kind: str
    cron: str
    timezone: str
    next_run: datetime | None
    control: ScheduleControl | None

    @property
    def paused(self) -> bool:
        return self.control is not None and self.control.paused


def _rows(request: Request) -> tuple[list[ScheduleRow], str | None]:
    path: Path | None = request.app.state.engagements
    if path is None or not path.is_file():
        return [], f"No engagements file ({path or 'QUOTEBOT_ENGAGEMENTS'})."
    try:
        engagements = load_engagements(path)
    except EngagementError as error:
        return [], str(error)
    store = store_of(request)
    now = store.now()
    controls = {(c.engagement, c.kind): c for c in store.schedule_controls()}
    rows = []
    for engagement in engagements:
        for kind in _KINDS:
            cron = getattr(engagement.schedules, kind)
            if cron is None:
                continue
            control = controls.get((engagement.name, kind))
            trigger = cron_trigger(cron, engagement.timezone)
            upcoming = None if control and control.paused else trigger.get_next_fire_time(None, now)
            rows.append(ScheduleRow(engagement.name, kind, cron, engagement.timezone,
                                    upcoming, control))  # fmt: skip
    return rows, None


@router.get("/schedule")
def schedule(request: Request, user: SignedIn) -> Response:
    rows, problem = _rows(request)
    return render(request, "schedule.html", user=user, rows=rows, problem=problem)


@router.post("/schedule/{engagement}/{kind}/{what}")
def control(user: Operator, request: Request, engagement: str, kind: str, what: str) -> Response:
    """Pause, resume, or run now: recorded for the scheduler, and in the audit trail."""
    known = {(r.engagement, r.kind) for r in _rows(request)[0]}
    if (engagement, kind) not in known or what not in {"pause", "resume", "run-now"}:
        return render(request, "error.html", 404, user=user, title="No such schedule",
                      message="")  # fmt: skip
    store = store_of(request)
    if what == "run-now":
        store.control_schedule(engagement, kind, user.name, run_now=True)
    else:
        store.control_schedule(engagement, kind, user.name, paused=what == "pause")
    return RedirectResponse("/schedule", status_code=303)
