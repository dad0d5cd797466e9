"""The quote audit team's queue: flagged quotes and business failures, and deciding them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from schemas.forecast import is_late, line_of
from schemas.people import User
from schemas.words import DECISION_WORDS, decided_words, decision_words
from schemas.work import EvidenceKind, ItemState, ReviewAction, WorkItem, outcome_label
from store import (
    QUEUE_ORDERS,
    SEVERITIES,
    InvalidTransition,
    ItemChanged,
    QueueFilter,
    Store,
    version,
)
from web import _compare
from web._deps import (
    Auditor,
    BadInput,
    Id,
    SignedIn,
    business_today,
    engagement_names,
    render,
    store_of,
    visible_item,
)

router = APIRouter()
_AGE = re.compile(r"[0-9]{1,5}")
STATUSES = {"": "all", "open": "not escalated", "escalated": "escalated"}
_CURRENCY = re.compile(r"[A-Z]{3}")

ACCEPT_REASONS = {
    "approved_exception": "Approved exception",
    "false_positive": "False positive",
    "sample_right": "Sample checked: the quote is right",
}
ACTIONS_BY_STATE = {
    ItemState.FLAGGED: (ReviewAction.ACCEPT, ReviewAction.CORRECT, ReviewAction.ESCALATE),
    ItemState.FAILED: (ReviewAction.CORRECT, ReviewAction.ESCALATE),
}
SAMPLE_ACTIONS = {
    ItemState.VERIFIED: (ReviewAction.ACCEPT, ReviewAction.CORRECT, ReviewAction.ESCALATE),
    ItemState.BOOKED: (ReviewAction.ACCEPT, ReviewAction.ESCALATE),
}
"""A quality-control sample: agree (accept), disagree (send back), or escalate."""


def _actions(store: Store, item: WorkItem) -> tuple[ReviewAction, ...]:
    if item.state in SAMPLE_ACTIONS:
        return SAMPLE_ACTIONS[item.state] if store.samples_waiting([item.id]) else ()
    return ACTIONS_BY_STATE.get(item.state, ())


@dataclass(frozen=True)
class QueueRow:
    item: WorkItem
    rules: tuple[str, ...]
    severity: str
    age_days: int
    escalated: bool
    waiting_since: datetime
    late: bool
    """Past its 120-day line and not quoted yet."""

    @property
    def line(self) -> date | None:
        """The renewal's 120-day line: quoted on or before it is in time."""
        return line_of(self.item.contract_end) if self.item.contract_end else None

    @property
    def currency(self) -> str | None:
        """The quote's currency: every amount of the row is in it."""
        quote = self.item.expected or self.item.snapshot or {}
        return quote.get("currency")

    @property
    def at_stake(self) -> Decimal | None:
        """The quote's expected total: what is at stake if it is wrong."""
        return _total(self.item.expected)

    @property
    def difference(self) -> Decimal | None:
        """What the portal's quote says minus what it should say."""
        expected, actual = _total(self.item.expected), _total(self.item.snapshot)
        return None if expected is None or actual is None else actual - expected


def _total(quote: dict[str, Any] | None) -> Decimal | None:
    try:
        return Decimal(str(quote["quote_total"])) if quote else None
    except (KeyError, InvalidOperation):
        return None


def late(item: WorkItem, today: date) -> bool:
    """Whether the item's renewal is past its 120-day line and still not quoted."""
    return is_late(item.contract_end, item.entered_at is not None, today)


def _rows(store: Store, items: list[WorkItem], now: datetime, today: date) -> list[QueueRow]:
    """A page of the queue's rows, in the queue's order (longest waiting first)."""
    findings = store.findings_of([i.id for i in items if i.state is ItemState.FLAGGED])
    escalated = store.is_escalated([i.id for i in items])
    rows = []
    for item in items:
        since = item.queued_at or item.updated_at
        if item.state is ItemState.FAILED:
            rules: tuple[str, ...] = (item.failure_code or "business",)
            severity = "business"
        elif item.state in SAMPLE_ACTIONS:
            rules, severity = (), "sample"
        else:
            found = findings.get(item.id, [])
            rules = tuple(sorted({f.rule for f in found}))
            severity = "error" if any(f.severity == "error" for f in found) else "warning"
        rows.append(
            QueueRow(
                item,
                rules,
                severity,
                (now - since).days,
                escalated[item.id],
                since,
                late(item, today),
            )
        )
    return rows


QUEUE_PAGE = 50


@router.get("/review")
def queue(
    user: SignedIn,
    request: Request,
    engagement: str = "",
    rule: Annotated[str, Query(max_length=100)] = "",
    severity: str = "",
    age: str = "",
    status: str = "",
    currency: Annotated[str, Query(max_length=10)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """Flagged items, longest waiting first (or `sort=stake`: the largest amount at stake
    first within each currency), a page at a time; filters by engagement, rule, severity,
    age, whether escalated and currency."""
    store = store_of(request)
    now = store.now()
    if age.strip() and not _AGE.fullmatch(age.strip()):
        raise BadInput("Not understood", "Days waiting must be a whole number of days, like 3.")
    min_age = int(age) if age.strip() else None
    if status not in STATUSES:
        raise BadInput("Not understood", f"There is no queue status {status[:40]!r}.")
    if severity and severity not in SEVERITIES:
        raise BadInput("Not understood", f"There is no severity {severity[:40]!r}.")
    if sort and sort not in QUEUE_ORDERS:
        raise BadInput("Not understood", f"The queue cannot be sorted by {sort[:40]!r}.")
    if currency and not _CURRENCY.fullmatch(currency):
        raise BadInput("Not understood", f"Currency must be a code like USD, not {currency!r}.")
    seen = engagement_names(request, user)
    where = QueueFilter(
        engagement=engagement or None,
        within=user.scope,
        rule=rule,
        severity=severity,
        waiting_since=now - timedelta(days=min_age) if min_age is not None else None,
        escalated=None if not status else status == "escalated",
        currency=currency,
    )
    if engagement and engagement not in seen:
        # Someone else's engagement, or a typo: an empty queue either way.
        where = QueueFilter(within=[])
    items = store.review_queue(
        where=where, limit=QUEUE_PAGE, offset=(page - 1) * QUEUE_PAGE, order=sort or "waiting"
    )
    shown = store.review_queue_count(where)
    return render(
        request,
        "queue.html",
        user=user,
        rows=_rows(store, items, now, business_today(request)),
        shown=shown,
        total=store.review_queue_count(QueueFilter(within=user.scope)),
        page=page,
        pages=max(1, -(-shown // QUEUE_PAGE)),
        engagements=seen,
        rules=store.review_rules(user.scope),
        currencies=store.review_currencies(user.scope),
        severities=SEVERITIES,
        statuses=STATUSES,
        chosen={
            "engagement": engagement,
            "rule": rule,
            "severity": severity,
            "age": min_age,
            "status": status,
            "currency": currency,
            "sort": sort,
        },
    )


def _item_page(
    request: Request, user: User, item_id: int, status_code: int = 200, **extra: object
) -> Response:
    store = store_of(request)
    item = visible_item(request, user, item_id)
    evidence = store.evidence(item_id)
    following = store.next_in_queue(item_id, user.scope)
    reviews = store.reviews(item_id)
    currency = (item.expected or item.snapshot or {}).get("currency")
    return render(
        request,
        "item.html",
        status_code,
        user=user,
        item=item,
        version=version(item),
        findings=_compare.finding_rows(store.findings(item_id), currency),
        reviews=reviews,
        last_review=reviews[-1] if reviews else None,
        paused=_paused(store, item.engagement),
        trail=store.trail(item_id),
        events=store.events(item_id),
        header=_compare.header(item.expected, item.snapshot),
        lines=_compare.lines(item.expected, item.snapshot),
        screenshots=[e for e in evidence if e.kind is EvidenceKind.SCREENSHOT],
        pages=[e for e in evidence if e.kind is EvidenceKind.HTML],
        traces=[e for e in evidence if e.kind is EvidenceKind.TRACE],
        actions=_actions(store, item),
        reasons=ACCEPT_REASONS,
        escalated=store.is_escalated([item_id])[item_id],
        late=late(item, business_today(request)),
        line=line_of(item.contract_end) if item.contract_end else None,
        next_item=following,
        note_max=NOTE_MAX,
        **extra,
    )


@router.get("/review/{item_id}")
def item_page(request: Request, user: SignedIn, item_id: Id) -> Response:
    return _item_page(request, user, item_id)


NOTE_MAX = 20_000
"""Longest note kept; the form counts down to it, and a longer one is said, kept and
never cut (the login page's kept decision carries as much)."""


def _paused(store: Store, engagement: str) -> bool:
    """Whether the engagement's quoting schedule is paused (a retry then waits for it)."""
    return any(
        c.paused
        for c in store.schedule_controls()
        if c.engagement == engagement and c.kind == "quote"
    )


def _who_decided(store: Store, item_id: int) -> str:
    """Who moved the item last, and when, for the auditor who was second."""
    reviews = store.reviews(item_id)
    events = store.events(item_id)
    # A decision moves the item in its own transaction: its event is a moment later.
    if reviews and (not events or events[-1].at - reviews[-1].at <= timedelta(seconds=2)):
        last = reviews[-1]
        return (
            f"{last.reviewer} decided it at {last.at:%Y-%m-%d %H:%M} UTC: "
            f"{decided_words(last.action.value)} (their note: {last.note[:200]!r})."
        )
    if events:
        last_event = events[-1]
        moved = outcome_label(last_event.to_state)
        return f"It moved to {moved} at {last_event.at:%Y-%m-%d %H:%M} UTC."
    return ""


def kept_decision(request: Request, user: User, pending: dict[str, str]) -> Response:
    """The item page with a decision that was posted after its session ended, to save."""
    message = (
        "You were signed out before this decision was saved. It is below as you wrote it: "
        "check it and save it."
    )
    return _item_page(
        request,
        user,
        int(pending["item"]),
        200,
        problem=message,
        note=pending["note"],
        chosen=pending["action"],
        reason=pending["reason"],
    )


def _problem(choice: str, note: str, reason: str) -> str | None:
    """What is wrong with a decision form, in words (None: nothing)."""
    if choice not in {a.value for a in ReviewAction}:
        return "Choose a decision: " + ", ".join(DECISION_WORDS.values()).lower() + "."
    if not note.strip():
        return "Write a note saying why."
    if len(note) > NOTE_MAX:
        return f"The note is {len(note):,} characters long; shorten it to {NOTE_MAX:,} at most."
    if choice == ReviewAction.ACCEPT.value and reason not in ACCEPT_REASONS:
        return "Accepting needs a reason: approved exception or false positive."
    return None


@router.post("/review/{item_id}")
def decide(
    user: Auditor,
    request: Request,
    item_id: Id,
    action: Annotated[str, Form(max_length=50)] = "",
    # Read whole, so that a note too long is said and kept, not refused unseen.
    note: Annotated[str, Form(max_length=1_000_000)] = "",
    version: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    """Accept (with a reason), send back for correction, or escalate; the note is required.
    A form that cannot be saved comes back with what was typed and what is wrong."""
    visible_item(request, user, item_id)
    problem = _problem(action, note, reason)
    if problem:
        return _item_page(
            request, user, item_id, 422, problem=problem, note=note, chosen=action, reason=reason
        )
    choice = ReviewAction(action)
    label = ACCEPT_REASONS.get(reason) if choice is ReviewAction.ACCEPT else None
    try:
        store_of(request).review(
            item_id, user.name, choice, note.strip(), seen=version, reason=label
        )
    except ItemChanged:
        store = store_of(request)
        return _item_page(
            request,
            user,
            item_id,
            409,
            note=note,
            chosen=action,
            reason=reason,
            problem=(
                f"Someone else acted on this item since you opened it. "
                f"{_who_decided(store, item_id)} Nothing of yours was saved: your note is "
                "below as you wrote it; decide again if the item still needs you."
            ),
        )
    except InvalidTransition:
        return _item_page(
            request,
            user,
            item_id,
            409,
            note=note,
            chosen=action,
            reason=reason,
            problem=f"{decision_words(choice.value)} is not possible while the item is "
            f"{outcome_label(visible_item(request, user, item_id).state)}; your note is kept.",
        )
    return RedirectResponse(f"/review/{item_id}?done={choice.value}", status_code=303)


TRAIL_PAGE = 200


@router.get("/trail")
def trail(
    request: Request,
    user: SignedIn,
    q: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=50)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The append-only audit trail, newest first: searchable, by action, a page at a time;
    a person who works on some engagements sees only lines about their items."""
    lines = store_of(request).trail(
        limit=TRAIL_PAGE + 1,
        offset=(page - 1) * TRAIL_PAGE,
        engagements=user.scope,
        search=q.strip(),
        action=action,
    )
    return render(
        request,
        "trail.html",
        user=user,
        trail=lines[:TRAIL_PAGE],
        more=len(lines) > TRAIL_PAGE,
        page=page,
        chosen={"q": q, "action": action},
        actions=TRAIL_ACTIONS,
    )


TRAIL_ACTIONS = (
    "review_accept",
    "review_correct",
    "review_escalate",
    "retry",
    "signed_in",
    "sign_in_failed",
    "schedule_paused",
    "schedule_resumed",
    "schedule_run_now",
    "user_added",
    "user_disabled",
    "user_enabled",
    "password_changed",
    "engagements_assigned",
)
