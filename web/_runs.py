"""Operations' view of the bots' runs: progress, each item's outcome, evidence, retry."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from schemas.work import FailureKind, ItemEvent, ItemState, Run, WorkItem
from store import InvalidTransition, UnknownRecord
from web._deps import Operator, SignedIn, render, store_of

router = APIRouter()

_OPEN = (ItemState.NEW, ItemState.PRICED, ItemState.ENTERED)


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
    listed = list(reversed(store.runs()))[:100]
    waiting = {e.name: sum(store.counts(e.name)[s] for s in _OPEN) for e in store.engagements()}
    return render(request, "runs.html", user=user, runs=listed, waiting=waiting)


@router.get("/runs/{run_id}")
def run_page(request: Request, user: SignedIn, run_id: int) -> Response:
    store = store_of(request)
    try:
        run = store.run(run_id)
    except UnknownRecord:
        return render(
            request,
            "error.html",
            404,
            user=user,
            title="No such run",
            message=f"There is no run {run_id}.",
        )
    outcomes = _outcomes(request, run)
    tally = Counter(o.last.to_state.value for o in outcomes)
    return render(
        request,
        "run.html",
        user=user,
        run=run,
        outcomes=outcomes,
        tally=tally,
        failed=ItemState.FAILED,
        system=FailureKind.SYSTEM,
    )


@router.get("/items/{item_id}/evidence/{evidence_id}")
def evidence_file(user: SignedIn, request: Request, item_id: int, evidence_id: int) -> Response:
    """A failed item's screenshot (shown) or trace (downloaded), by its stored id only."""
    found = [e for e in store_of(request).evidence(item_id) if e.id == evidence_id]
    if not found:
        return render(request, "error.html", 404, user=user, title="No such file", message="")
    path = found[0].path
    if not Path(path).is_file():
        return render(
            request,
            "error.html",
            404,
            user=user,
            title="File gone",
            message="The evidence file is no longer on disk.",
        )
    if path.endswith(".png"):
        return FileResponse(path, media_type="image/png")
    return FileResponse(path, filename=Path(path).name, media_type="application/zip")


@router.post("/items/{item_id}/retry")
def retry(request: Request, user: Operator, item_id: int) -> Response:
    """A failed item starts over on the next run (failed → new), in the audit trail."""
    store = store_of(request)
    item = store.item(item_id)
    try:
        store.transition(item_id, ItemState.NEW, reason=f"retry asked by {user.name}")
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
        before={"state": item.state},
        after={"state": ItemState.NEW},
    )
    return RedirectResponse(request.headers.get("referer") or "/runs", status_code=303)
