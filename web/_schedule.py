"""Operations' schedules: the engagements file's schedules, their next run times as the
scheduler holds them, pause, resume, run now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from schemas.engagement import EngagementError, load_engagements
from schemas.people import ScheduleControl, User
from schemas.words import cron_words, kind_words
from schemas.work import RunKind
from web._deps import Operator, SignedIn, render, store_of
from web._schedule_file import ScheduleRefused, write_schedule

router = APIRouter()


@dataclass(frozen=True)
class ScheduleRow:
    engagement: str
    kind: str
    cron: str | None
    """None: the engagement has no schedule of this kind (operations may add one)."""
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
            control = controls.get((engagement.name, kind.value))
            job = jobs.get((engagement.name, kind.value))
            if cron is None:
                in_scheduler = "no schedule in the file"
            elif job is None:
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
    return _page(request, user)


def _page(
    request: Request,
    user: User,
    status_code: int = 200,
    problem: str | None = None,
    typed: dict[tuple[str, str], str] | None = None,
) -> Response:
    rows, unreadable = _rows(request)
    problem = problem or unreadable
    rows = [r for r in rows if user.sees(r.engagement)]
    store = store_of(request)
    beat = store.last_scheduler_beat()
    alive = beat is not None and store.now() - beat[1] <= ALIVE_WITHIN
    return render(
        request,
        "schedule.html",
        status_code,
        user=user,
        rows=rows,
        problem=problem,
        typed=typed or {},
        beat=beat,
        alive=alive,
        words=cron_words,
        which=_which(request.query_params.get("which", "")),
    )


def _which(text: str) -> str:
    """The schedule a message is about, in words ("acme quoting")."""
    engagement, _, kind = text[:100].partition(" ")
    return f"{engagement} {kind_words(kind)}".strip()


@router.post("/schedule/{engagement}/{kind}/edit")
def edit(
    user: Operator,
    request: Request,
    engagement: str,
    kind: str,
    cron: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Add or change a schedule: written into the engagements file (checked as the file is
    checked), in the audit trail, and read again by a running scheduler within seconds.
    Refused, the page says why and keeps what was typed."""
    known = {(r.engagement, r.kind) for r in _rows(request)[0] if user.sees(r.engagement)}
    if (engagement, kind) not in known:
        return render(request, "error.html", 404, user=user, title="No such schedule", message="")
    path: Path = request.app.state.engagements
    typed = {(engagement, kind): cron}
    if not cron.strip():
        problem = "Give the schedule as a cron line, like 0 6 * * 1-5 (06:00, Monday to Friday)."
        return _page(request, user, 422, problem, typed)
    try:
        before = write_schedule(path, engagement, kind, cron)
    except (ScheduleRefused, EngagementError) as exc:
        return _page(request, user, 422, f"Not saved: {exc}", typed)
    timezone = next(e.timezone for e in load_engagements(path) if e.name == engagement)
    store_of(request).schedule_edited(
        engagement, kind, user.name, before=before, after=cron.strip(), timezone=timezone
    )
    done = "added" if before is None else "changed"
    return RedirectResponse(f"/schedule?done={done}&which={engagement}+{kind}", status_code=303)


@router.post("/schedule/{engagement}/{kind}/{what}")
def control(user: Operator, request: Request, engagement: str, kind: str, what: str) -> Response:
    """Pause, resume, or run now: recorded for the scheduler, and in the audit trail."""
    rows = _rows(request)[0]
    known = {(r.engagement, r.kind) for r in rows if user.sees(r.engagement) and r.cron}
    if (engagement, kind) not in known or what not in {"pause", "resume", "run-now"}:
        return render(request, "error.html", 404, user=user, title="No such schedule", message="")
    store = store_of(request)
    if what == "run-now":
        store.control_schedule(engagement, kind, user.name, run_now=True)
    else:
        store.control_schedule(engagement, kind, user.name, paused=what == "pause")
    return RedirectResponse(f"/schedule?done={what}&which={engagement}+{kind}", status_code=303)
