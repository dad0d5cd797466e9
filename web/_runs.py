"""Operations' view of the bots' runs: progress, each item's outcome, evidence, retry."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from schemas.work import (
    STILL_TO_DO,
    FailureKind,
    ItemEvent,
    ItemState,
    Run,
    RunStatus,
    WorkItem,
)
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
        for i in store.items(run.engagement)
        if i.claimed_by and i.lease_until and i.lease_until > now
    ]


def _refreshing(response: Response, running: bool) -> Response:
    if running:
        response.headers["Refresh"] = str(REFRESH_S)
    return response


@dataclass(frozen=True)
class Outcome:
    item: WorkItem
    last: ItemEvent
    evidence: int


def _outcomes(request: Request, run: Run) -> list[Outcome]:
    """Each item the run touched, with the last thing the run did to it."""
    store = store_of(request)
    last: dict[int, ItemEvent] = {}
    for event in store.events(since=run.started_at, engagement=run.engagement):
        if event.run_id == run.id:
            last[event.item_id] = event
    items = {i.id: i for i in store.items(run.engagement)}
    return [
        Outcome(items[item_id], event, len(store.evidence(item_id)))
        for item_id, event in sorted(last.items())
    ]


@router.get("/runs")
def runs(request: Request, user: SignedIn) -> Response:
    store = store_of(request)
    listed = [r for r in reversed(store.runs()) if user.sees(r.engagement)][:100]
    waiting = {name: store.still_to_do(name) for name in engagement_names(request, user)}
    held = {r.id: held_items(store, r) for r in listed if r.status is RunStatus.RUNNING}
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


@router.get("/runs/{run_id}")
def run_page(request: Request, user: SignedIn, run_id: Id, outcome: str = "") -> Response:
    """What a run did to each item, failures first; `outcome` shows one outcome only."""
    if outcome and outcome not in {s.value for s in ItemState}:
        raise BadInput("Not understood", f"There is no outcome {outcome[:40]!r}.")
    store = store_of(request)
    message = f"There is no run {run_id}."
    try:
        run = store.run(run_id)
    except UnknownRecord:
        raise NotFound("No such run", message) from None
    require_sees(user, run.engagement, "No such run", message)
    worked = _outcomes(request, run)
    tally = Counter(o.last.to_state.value for o in worked)
    # Failures first: they are what operations open a run page for.
    worked.sort(key=lambda o: (o.last.to_state is not ItemState.FAILED, o.item.id))
    outcomes = [o for o in worked if not outcome or o.last.to_state.value == outcome]
    running = run.status is RunStatus.RUNNING
    page = render(
        request,
        "run.html",
        user=user,
        run=run,
        outcomes=outcomes,
        tally=tally,
        chosen=outcome,
        failed=ItemState.FAILED,
        system=FailureKind.SYSTEM,
        held=held_items(store, run),
        refresh_s=REFRESH_S if running else None,
        now=store.now(),
    )
    return _refreshing(page, running)


@router.get("/items/{item_id}/evidence/{evidence_id}")
def evidence_file(user: SignedIn, request: Request, item_id: Id, evidence_id: Id) -> Response:
    """A failed item's screenshot (shown) or trace (downloaded), by its stored id only."""
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
