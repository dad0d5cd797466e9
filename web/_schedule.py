"""Operations' schedules: next run times from the engagements file, pause, resume, run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import inspect, text

from schemas.engagement import EngagementError, cron_trigger, load_engagements
from schemas.people import ScheduleControl
from web._deps import Operator, SignedIn, render, store_of

router = APIRouter()
_KINDS = ("quote", "booking")


_JOBS_TABLE = "apscheduler_jobs"
"""The scheduler's job store (read only here: job ids are `kind:engagement`)."""


def _scheduler_jobs(request: Request) -> dict[str, datetime | None]:
    """Next run time of each job in the scheduler's store (None: paused there)."""
    engine = store_of(request).engine
    if not inspect(engine).has_table(_JOBS_TABLE):
        return {}
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, next_run_time FROM {_JOBS_TABLE}"))
        return {
            ident: None if when is None else datetime.fromtimestamp(float(when), UTC)
            for ident, when in rows
        }


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
    now = store.now()
    controls = {(c.engagement, c.kind): c for c in store.schedule_controls()}
    jobs = _scheduler_jobs(request)
    rows = []
    for engagement in engagements:
        for kind in _KINDS:
            cron = getattr(engagement.schedules, kind)
            if cron is None:
                continue
            control = controls.get((engagement.name, kind))
            trigger = cron_trigger(cron, engagement.timezone)
            upcoming = None if control and control.paused else trigger.get_next_fire_time(None, now)
            ident = f"{kind}:{engagement.name}"
            if ident not in jobs:
                in_scheduler = "not added (quotebot schedule add)"
            elif jobs[ident] is None:
                in_scheduler = "paused"
            else:
                in_scheduler = "scheduled"
                upcoming = upcoming and jobs[ident]
            rows.append(
                ScheduleRow(
                    engagement.name,
                    kind,
                    cron,
                    engagement.timezone,
                    upcoming,
                    control,
                    in_scheduler,
                )
            )
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
        return render(request, "error.html", 404, user=user, title="No such schedule", message="")
    store = store_of(request)
    if what == "run-now":
        store.control_schedule(engagement, kind, user.name, run_now=True)
    else:
        store.control_schedule(engagement, kind, user.name, paused=what == "pause")
    return RedirectResponse("/schedule", status_code=303)
