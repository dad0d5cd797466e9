"""Operations' view of the bots' runs: progress, each item's outcome, evidence, retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from schemas.people import User
from schemas.words import kind_words, reason_and_code, run_ending
from schemas.work import OUTCOMES, STILL_TO_DO, EvidenceKind, FailureKind, ItemState, Run, RunStatus
from store import InvalidTransition, Store, UnknownRecord
from web._auth import safe_next
from web._deps import (
    BadInput,
    Id,
    NotFound,
    Operator,
    SignedIn,
    engagement_names,
    render,
    require_sees,
    store_of,
    visible_item,
)

router = APIRouter()

REFRESH_S = 5
"""While a run is running, its pages reload this often (the HTTP `Refresh` header)."""


@dataclass(frozen=True)
class Held:
    """An item of a running run that a worker holds right now."""

    worker: str
    """The fleet worker's `host:pid`, or the in-process worker's name."""
    slot: str
    item_id: int
    opportunity_id: str
    since: datetime | None
    heartbeat_s: float | None
    """Seconds since the fleet worker's last heartbeat (None in-process)."""


def held_items(store: Store, run: Run) -> list[Held]:
    """Which workers hold which items of `run` now: fleet workers' hands for a fleet run,
    the items' claims for an in-process one."""
    if run.status is not RunStatus.RUNNING:
        return []
    now = store.now()
    if run.worker == "fleet":
        return [
            Held(w.name, i.slot, i.item_id, i.opportunity_id, i.since, w.age_s(now))
            for w in store.fleet_workers()
            for i in w.in_hand
            if i.run_id == run.id
        ]
    return [
        Held(i.claimed_by, i.claimed_by, i.id, i.opportunity_id, None, None)
        for i in store.held(run.engagement)
        if i.claimed_by
    ]


def _refreshing(response: Response, running: bool) -> Response:
    if running:
        response.headers["Refresh"] = str(REFRESH_S)
    return response


@dataclass(frozen=True)
class RunLine:
    """A run as the runs list shows it: how long it took, how fast, and why it ended."""

    run: Run
    now: datetime

    @property
    def duration(self) -> str:
        seconds = int(((self.run.finished_at or self.now) - self.run.started_at).total_seconds())
        hours, rest = divmod(max(0, seconds), 3600)
        return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"

    @property
    def worked(self) -> int:
        """Items the run finished with (a retry later is not an end)."""
        return sum(n for key, n in self.run.counts.items() if key != "retry")

    @property
    def per_minute(self) -> str:
        minutes = ((self.run.finished_at or self.now) - self.run.started_at).total_seconds() / 60
        return f"{self.worked / minutes:.1f}/min" if minutes > 0 and self.worked else "–"

    @property
    def ending(self) -> str:
        """How it ended, as a `schemas.words.RUN_STATUS_WORDS` key: a run with failed
        items is `with_failures`, not plainly finished."""
        return run_ending(self.run.status.value, self.run.counts)

    @property
    def finish(self) -> str:
        """Why it ended, in words: still running, finished, or what stopped it."""
        if self.run.status is RunStatus.RUNNING:
            return "still running"
        if self.run.error:
            return reason_and_code(self.run.error)[0]
        if self.ending == "with_failures":
            return "finished; some items failed (see the run)"
        return "finished"

    @property
    def code(self) -> str:
        """The code the reason was recorded with, shown small for experts."""
        return reason_and_code(self.run.error)[1]


@router.get("/runs")
def runs(request: Request, user: SignedIn) -> Response:
    store = store_of(request)
    now = store.now()
    listed = [RunLine(r, now) for r in store.recent_runs(user.scope, limit=100)]
    waiting = {name: store.still_to_do(name) for name in engagement_names(request, user)}
    held = {
        line.run.id: held_items(store, line.run)
        for line in listed
        if line.run.status is RunStatus.RUNNING
    }
    page = render(
        request,
        "runs.html",
        user=user,
        runs=listed,
        waiting=waiting,
        still_to_do=STILL_TO_DO,
        held=held,
        refresh_s=REFRESH_S if held else None,
    )
    return _refreshing(page, bool(held))


RUN_PAGE = 200


def _failed_first(entry: tuple[str, int]) -> tuple[bool, int]:
    """The tally in the words' order (`OUTCOMES`), failures first."""
    order = list(OUTCOMES)
    key = entry[0]
    return not key.startswith(ItemState.FAILED.value), order.index(key) if key in order else 99


@router.get("/runs/{run_id}")
def run_page(
    request: Request,
    user: SignedIn,
    run_id: Id,
    outcome: str = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """What a run did to each item, failures first, a page at a time; `outcome` shows one
    outcome only."""
    return _run_page(request, user, run_id, outcome, page)


def _visible_run(request: Request, user: User, run_id: int) -> Run:
    message = f"There is no run {run_id}."
    try:
        run = store_of(request).run(run_id)
    except UnknownRecord:
        raise NotFound("No such run", message) from None
    require_sees(user, run.engagement, "No such run", message)
    return run


def _on_schedule(store: Store, run: Run) -> bool:
    """Whether the scheduler holds this engagement's schedule of the run's kind (a run
    again asked on the web is started by it)."""
    return any(
        j.engagement == run.engagement and j.kind == run.kind for j in store.scheduled_runs()
    )


def _run_page(
    request: Request,
    user: User,
    run_id: int,
    outcome: str = "",
    page: int = 1,
    status_code: int = 200,
    problem: str = "",
) -> Response:
    if outcome and outcome not in OUTCOMES:
        raise BadInput("Not understood", f"There is no outcome {outcome[:40]!r}.")
    store = store_of(request)
    run = _visible_run(request, user, run_id)
    shown = store.run_page(run_id, outcome or None, limit=RUN_PAGE, offset=(page - 1) * RUN_PAGE)
    running = run.status is RunStatus.RUNNING
    answer = render(
        request,
        "run.html",
        status_code,
        user=user,
        run=run,
        line=RunLine(run, store.now()),
        on_schedule=_on_schedule(store, run),
        problem=problem,
        outcomes=shown.work,
        tally=dict(sorted(shown.tally.items(), key=_failed_first)),
        worked=sum(shown.tally.values()),
        page=page,
        pages=max(1, -(-shown.shown // RUN_PAGE)),
        chosen=outcome,
        failed=ItemState.FAILED,
        system=FailureKind.SYSTEM,
        held=held_items(store, run),
        refresh_s=REFRESH_S if running else None,
        now=store.now(),
    )
    return _refreshing(answer, running)


def _why_not_again(store: Store, run: Run) -> str:
    """Why the scheduler would not start this run's engagement and kind now ("" if it
    would), in words that say what to do instead; nothing is asked for then."""
    kind, name = run.kind.value, run.engagement
    if not _on_schedule(store, run):
        return (
            f"{name}'s {kind_words(kind)} runs are not on the scheduler, so nothing was "
            f"asked for. Add them (quotebot schedule add {name}) or run it in a terminal: "
            f"quotebot run {name} --kind {kind}."
        )
    controls = store.schedule_controls()
    if any(c.paused and c.engagement == name and c.kind == kind for c in controls):
        return (
            f"{name}'s {kind_words(kind)} schedule is paused, so nothing was asked for: "
            "resume it on the schedule page first."
        )
    return ""


@router.post("/runs/{run_id}/again")
def run_again(request: Request, user: Operator, run_id: Id) -> Response:
    """Ask the scheduler to start this engagement's run of the same kind now (as "run now"
    on the schedule page does, in the audit trail); said plainly when it cannot."""
    store = store_of(request)
    run = _visible_run(request, user, run_id)
    refused = _why_not_again(store, run)
    if refused:
        return _run_page(request, user, run_id, status_code=409, problem=refused)
    store.control_schedule(run.engagement, run.kind.value, user.name, run_now=True)
    return RedirectResponse(f"/runs/{run_id}?done=again", status_code=303)


@router.get("/items/{item_id}/evidence/{evidence_id}")
def evidence_file(user: SignedIn, request: Request, item_id: Id, evidence_id: Id) -> Response:
    """A failed item's screenshot (shown), page HTML or trace (downloaded), by its stored id
    only."""
    try:
        visible_item(request, user, item_id)
    except NotFound:
        raise NotFound("No such file") from None
    found = [e for e in store_of(request).evidence(item_id) if e.id == evidence_id]
    if not found:
        raise NotFound("No such file")
    path = evidence_path(request, found[0].path)
    if not path.is_file():
        return render(
            request,
            "error.html",
            404,
            user=user,
            title="File gone",
            message="The evidence file is no longer on disk.",
        )
    if path.suffix == ".png":
        return FileResponse(path, media_type="image/png")
    if found[0].kind is EvidenceKind.HTML:
        # A portal's page, scripts and all: never rendered on our origin (it would run as
        # ours), only downloaded as text.
        return FileResponse(path, filename=path.name, media_type="text/plain; charset=utf-8")
    return FileResponse(path, filename=path.name, media_type="application/zip")


def evidence_path(request: Request, stored: str) -> Path:
    """An evidence file's place: stored relative to `QUOTEBOT_HOME`, resolved from it
    (never from the server's working folder); older absolute paths still resolve."""
    home: Path = request.app.state.home
    return home / stored


@router.post("/items/{item_id}/retry")
def retry(
    request: Request,
    user: Operator,
    item_id: Id,
    back: Annotated[str, Form(max_length=500)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """A failed item starts over on the next run (failed → new), in the audit trail; the
    person goes back to the page they came from (a path on this site only). Bad data
    (a business failure) goes back only with a note saying what was fixed, as the
    auditors' "send back" does."""
    store = store_of(request)
    item = visible_item(request, user, item_id)
    if item.failure_kind is FailureKind.BUSINESS and not note.strip():
        raise BadInput(
            "Not retried",
            "This item failed on its data: say in the note what was fixed before retrying.",
        )
    reason = f"retry asked by {user.name}" + (f": {note.strip()}" if note.strip() else "")
    try:
        store.transition(item_id, ItemState.NEW, reason=reason)
    except InvalidTransition:
        return render(
            request,
            "error.html",
            409,
            user=user,
            title="Not retried",
            message="Only a failed item can be retried.",
        )
    store.record_action(
        user.name,
        "retry",
        item.reference,
        item_id=item_id,
        note=note.strip() or None,
        before={"state": item.state},
        after={"state": ItemState.NEW},
    )
    target = safe_next(back) if back else f"/review/{item_id}"
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done=retry&item={item_id}", status_code=303)
