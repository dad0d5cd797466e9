"""Operations' schedules: the engagements file's schedules, their next run times as the
scheduler holds them, pause, resume, run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from schemas.engagement import EngagementError, load_engagements
from schemas.people import ScheduleControl
from schemas.work import RunKind
from web._deps import Operator, SignedIn, render, store_of

router = APIRouter()


@dataclass(frozen=True)
class ScheduleRow:
    engagement: str
    kind: str
    cron: str
    timezone: str
    next_run: datetime | None
    control: ScheduleControl | None
    in_scheduler: str
    """What the scheduler's own job store says: scheduled, paused, or not added."""

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
    controls = {(c.engagement, c.kind): c for c in store.schedule_controls()}
    jobs = {(j.engagement, j.kind.value): j for j in store.scheduled_runs()}
    rows = []
    for engagement in engagements:
        for kind in RunKind:
            cron = getattr(engagement.schedules, kind.value)
            if cron is None:
                continue
            control = controls.get((engagement.name, kind.value))
            job = jobs.get((engagement.name, kind.value))
            if job is None:
                in_scheduler = "not added (quotebot schedule add)"
            else:
                in_scheduler = "paused" if job.paused else "scheduled"
            paused_here = control is not None and control.paused
            rows.append(
                ScheduleRow(
                    engagement.name,
                    kind.value,
                    cron,
                    engagement.timezone,
                    None if job is None or paused_here else job.next_run,
                    control,
                    in_scheduler,
                )
            )
    return rows, None


ALIVE_WITHIN = timedelta(minutes=1)
"""A scheduler polls every few seconds: silent this long, it is not running."""


@router.get("/schedule")
def schedule(request: Request, user: SignedIn) -> Response:
    rows, problem = _rows(request)
    rows = [r for r in rows if user.sees(r.engagement)]
    store = store_of(request)
    beat = store.last_scheduler_beat()
    alive = beat is not None and store.now() - beat[1] <= ALIVE_WITHIN
    return render(
        request,
        "schedule.html",
        user=user,
        rows=rows,
        problem=problem,
        beat=beat,
        alive=alive,
        words=cron_words,
    )


@router.post("/schedule/{engagement}/{kind}/{what}")
def control(user: Operator, request: Request, engagement: str, kind: str, what: str) -> Response:
    """Pause, resume, or run now: recorded for the scheduler, and in the audit trail."""
    known = {(r.engagement, r.kind) for r in _rows(request)[0] if user.sees(r.engagement)}
    if (engagement, kind) not in known or what not in {"pause", "resume", "run-now"}:
        return render(request, "error.html", 404, user=user, title="No such schedule", message="")
    store = store_of(request)
    if what == "run-now":
        store.control_schedule(engagement, kind, user.name, run_now=True)
    else:
        store.control_schedule(engagement, kind, user.name, paused=what == "pause")
    return RedirectResponse(f"/schedule?done={what}&which={engagement}+{kind}", status_code=303)


_DAYS = {"1-5": "Monday to Friday", "*": "every day", "0-6": "every day", "6,0": "weekends"}


def cron_words(expression: str) -> str:
    """The common cron forms in words ("06:00, Monday to Friday"); others: empty."""
    parts = expression.split()
    if len(parts) != 5 or parts[2:4] != ["*", "*"]:
        return ""
    minute, hour, _, _, days = parts
    if not (minute.isdecimal() and hour.isdecimal()) or days not in _DAYS:
        return ""
    return f"{int(hour):02d}:{int(minute):02d}, {_DAYS[days]}"
