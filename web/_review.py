"""The quote audit team's queue: flagged quotes and business failures, and deciding them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from schemas.people import User
from schemas.work import EvidenceKind, ItemState, ReviewAction, StoredFinding, WorkItem
from store import InvalidTransition, ItemChanged, UnknownRecord, version
from web import _compare
from web._deps import Auditor, SignedIn, render, store_of

router = APIRouter()

ACCEPT_REASONS = {
    "approved_exception": "Approved exception",
    "false_positive": "False positive",
}
ACTIONS_BY_STATE = {
    ItemState.FLAGGED: (ReviewAction.ACCEPT, ReviewAction.CORRECT, ReviewAction.ESCALATE),
    ItemState.FAILED: (ReviewAction.CORRECT, ReviewAction.ESCALATE),
}


@dataclass(frozen=True)
class QueueRow:
    item: WorkItem
    rules: tuple[str, ...]
    severity: str
    age_days: int


def _row(item: WorkItem, findings: list[StoredFinding], now: datetime) -> QueueRow:
    if item.state is ItemState.FAILED:
        rules: tuple[str, ...] = (item.failure_code or "business",)
        severity = "business"
    else:
        rules = tuple(sorted({f.rule for f in findings}))
        severity = "error" if any(f.severity == "error" for f in findings) else "warning"
    return QueueRow(item, rules, severity, (now - item.updated_at).days)


@router.get("/review")
def queue(
    user: SignedIn,
    request: Request,
    engagement: str = "",
    rule: str = "",
    severity: str = "",
    age: str = "",
) -> Response:
    """Flagged items, longest waiting first; filters by engagement, rule, severity, age."""
    store = store_of(request)
    now = store.now()
    min_age = int(age) if age.strip().isdigit() else None
    rows = [_row(i, store.findings(i.id), now) for i in store.review_queue()]
    all_rules = sorted({r for row in rows for r in row.rules})
    shown = [
        row
        for row in rows
        if (not engagement or row.item.engagement == engagement)
        and (not rule or rule in row.rules)
        and (not severity or row.severity == severity)
        and (min_age is None or row.age_days >= min_age)
    ]
    return render(
        request,
        "queue.html",
        user=user,
        rows=shown,
        total=len(rows),
        engagements=[e.name for e in store.engagements()],
        rules=all_rules,
        severities=("error", "warning", "business"),
        chosen={"engagement": engagement, "rule": rule, "severity": severity, "age": min_age},
    )


def _item_page(
    request: Request, user: User, item_id: int, status_code: int = 200, **extra: object
) -> Response:
    store = store_of(request)
    try:
        item = store.item(item_id)
    except UnknownRecord:
        return render(
            request,
            "error.html",
            404,
            user=user,
            title="No such item",
            message=f"There is no work item {item_id}.",
        )
    evidence = store.evidence(item_id)
    return render(
        request,
        "item.html",
        status_code,
        user=user,
        item=item,
        version=version(item),
        findings=store.findings(item_id),
        reviews=store.reviews(item_id),
        trail=store.trail(item_id),
        events=store.events(item_id),
        header=_compare.header(item.expected, item.snapshot),
        lines=_compare.lines(item.expected, item.snapshot),
        screenshots=[e for e in evidence if e.kind is EvidenceKind.SCREENSHOT],
        traces=[e for e in evidence if e.kind is EvidenceKind.TRACE],
        actions=ACTIONS_BY_STATE.get(item.state, ()),
        reasons=ACCEPT_REASONS,
        **extra,
    )


@router.get("/review/{item_id}")
def item_page(request: Request, user: SignedIn, item_id: int) -> Response:
    return _item_page(request, user, item_id)


@router.post("/review/{item_id}")
def decide(
    user: Auditor,
    request: Request,
    item_id: int,
    action: Annotated[ReviewAction, Form()],
    note: Annotated[str, Form(max_length=4000)],
    version: Annotated[str, Form(max_length=200)],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Accept (with a reason), send back for correction, or escalate; the note is required."""
    problem = None
    if not note.strip():
        problem = "Write a note saying why."
    elif action is ReviewAction.ACCEPT and reason not in ACCEPT_REASONS:
        problem = "Accepting needs a reason: approved exception or false positive."
    if problem:
        return _item_page(request, user, item_id, 422, problem=problem, note=note)
    label = ACCEPT_REASONS.get(reason) if action is ReviewAction.ACCEPT else None
    try:
        store_of(request).review(
            item_id, user.name, action, note.strip(), seen=version, reason=label
        )
    except ItemChanged:
        return _item_page(
            request,
            user,
            item_id,
            409,
            note=note,
            problem=(
                "Someone else acted on this item since you opened it. Nothing was saved: "
                "here it is as it is now; decide again if it still needs you."
            ),
        )
    except InvalidTransition:
        return _item_page(
            request,
            user,
            item_id,
            409,
            note=note,
            problem=f"'{action.value}' is not possible in this item's state.",
        )
    return RedirectResponse(f"/review/{item_id}?done={action.value}", status_code=303)


@router.get("/trail")
def trail(request: Request, user: SignedIn) -> Response:
    """The append-only audit trail, newest first."""
    return render(request, "trail.html", user=user, trail=store_of(request).trail(limit=500))
