"""Work items, their history, runs and engagements as quotebot's store keeps them.

These are the records the bots, the web pages and the reports read back from `store`:
immutable snapshots of rows, never live database objects. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from schemas._base import Record


class ItemState(StrEnum):
    """Where one renewal is in its journey: new → priced → entered → verified | flagged → booked."""

    NEW = "new"
    PRICED = "priced"
    ENTERED = "entered"
    VERIFIED = "verified"
    FLAGGED = "flagged"
    BOOKED = "booked"
    FAILED = "failed"


STILL_TO_DO_STATES = (ItemState.NEW, ItemState.PRICED, ItemState.FAILED)
"""With `STILL_TO_DO`: the states of a renewal still to do, when no quote was ever entered."""
STILL_TO_DO = (
    "due renewals with no quote entered in the portal yet: new, priced, or failed before "
    "a quote was entered"
)
"""What "still to do" means, on every page that counts it (runs, dashboard, report)."""


class FailureKind(StrEnum):
    """Bad data goes to review without retry (business); infrastructure trouble is retried."""

    BUSINESS = "business"
    SYSTEM = "system"


OUTCOMES: dict[str, str] = {
    ItemState.NEW: "new",
    ItemState.PRICED: "priced",
    ItemState.ENTERED: "entered",
    ItemState.VERIFIED: "verified",
    ItemState.FLAGGED: "flagged",
    ItemState.BOOKED: "booked",
    ItemState.FAILED: "failed",
    "failed_business": "bad data, to review",
    "failed_system": "failed (system)",
    "retry": "to retry later",
    "refused": "refused by the portal",
    "drift": "page changed (drift)",
    "no_po_yet": "no PO yet",
    "left_open": "left open",
}
"""The one word shown for each outcome on every page and export: an item's state, a failed
item by its kind, and what a run counts (`bots` counts a business failure as to_review)."""
OUTCOMES["to_review"] = OUTCOMES["failed_business"]


def outcome_key(state: ItemState | str, failure_kind: FailureKind | str | None = None) -> str:
    """The `OUTCOMES` key of a state: a failed item is told apart by its failure kind."""
    if state == ItemState.FAILED and failure_kind:
        return f"failed_{FailureKind(failure_kind).value}"
    return str(state)


def outcome_label(state: ItemState | str, failure_kind: FailureKind | str | None = None) -> str:
    """What people read for an outcome (an unknown run count reads as itself, in words)."""
    key = outcome_key(state, failure_kind)
    return OUTCOMES.get(key, key.replace("_", " "))


def run_count_key(state: ItemState | str, failure_kind: FailureKind | str | None = None) -> str:
    """Under which key a run counts an item that ended in `state`: a business failure as
    `to_review`, whether the in-process pool or the fleet counted it."""
    if state == ItemState.FAILED and failure_kind == FailureKind.BUSINESS:
        return "to_review"
    return str(state)


def counts_text(counts: Mapping[str, int], empty: str = "-") -> str:
    """A run's (or a worker's) counts in the words of `OUTCOMES`, for a line of the CLI."""
    return ", ".join(f"{outcome_label(k)} {v}" for k, v in sorted(counts.items())) or empty


class RunKind(StrEnum):
    QUOTE = "quote"
    BOOKING = "booking"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"
    """The run's process stopped sending heartbeats (killed, crashed machine)."""


class IntentAction(StrEnum):
    ENTER_QUOTE = "enter_quote"
    ENTER_BOOKING = "enter_booking"


class IntentStatus(StrEnum):
    OPEN = "open"
    """Recorded before the submit click; outcome unknown until completed or cancelled."""
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    """Reconciliation found nothing in the portal: the submit never happened."""


class EvidenceKind(StrEnum):
    SCREENSHOT = "screenshot"
    TRACE = "trace"
    PDF = "pdf"
    HTML = "html"
    """The page's HTML as the bot met it (served as a download, never shown)."""


class ReviewAction(StrEnum):
    """What the quote audit team decides about a flagged quote (or a business failure)."""

    ACCEPT = "accept"
    """The quote is right after all: flagged → verified."""
    CORRECT = "correct"
    """Send it back to the bot: flagged → priced (new revision), or failed → new."""
    ESCALATE = "escalate"
    """Needs someone else: the item stays where it is."""


class Engagement(Record):
    """One client portal that quotebot works in, as stored."""

    id: int
    name: str
    flavour: str
    portal_url: str
    created_at: datetime


class WorkItem(Record):
    """One renewal opportunity of one engagement, and everything the bots did with it."""

    id: int
    engagement: str
    opportunity_id: str
    reference: str
    """Stamped into the portal's external-reference field; carries the revision once corrected."""
    revision: int
    state: ItemState
    account_name: str
    contract_end: date | None
    data: dict[str, Any]
    quote_number: str | None
    order_number: str | None
    expected: dict[str, Any] | None
    """The expected quote as JSON (money as strings)."""
    snapshot: dict[str, Any] | None
    """The quote as read back from the portal, as JSON (money as strings)."""
    failure_kind: FailureKind | None
    failure_code: str | None
    failure_reason: str | None
    attempts: int
    """System errors so far (retried with backoff)."""
    next_attempt_at: datetime | None
    claimed_by: str | None
    lease_until: datetime | None
    queued_at: datetime | None = None
    """When it came into the audit team's review queue (None: not in it); kept by an
    escalation, so an escalated item keeps its age and place."""
    created_at: datetime
    updated_at: datetime
    entered_at: datetime | None = None
    """When a quote of it was first entered (None: never, so it is still to do)."""
    verified_at: datetime | None = None
    booked_at: datetime | None = None
    checked_at: datetime | None = None
    """Its first read-back (entered → verified or flagged)."""


class ItemEvent(Record):
    """One state change of a work item: the source of cycle times and of the audit trail."""

    id: int
    item_id: int
    from_state: ItemState | None
    """None for the event that created the item."""
    to_state: ItemState
    at: datetime
    run_id: int | None
    reason: str | None
    data: dict[str, Any] | None


class Run(Record):
    """One bot run of one engagement (quoting or booking)."""

    id: int
    engagement: str
    kind: RunKind
    status: RunStatus
    worker: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


class Intent(Record):
    """A portal submit about to happen, recorded first so a crash cannot duplicate or lose it."""

    id: int
    item_id: int
    action: IntentAction
    reference: str
    status: IntentStatus
    run_id: int | None
    portal_id: str | None
    """The portal's quote number or order number once the submit is known to have happened."""
    created_at: datetime
    closed_at: datetime | None
    note: str | None


class StoredFinding(Record):
    """One audit finding of a work item (the AUDIT_SPEC findings.csv columns, as text)."""

    id: int
    item_id: int
    revision: int
    quote_id: str
    opportunity_id: str
    sku: str
    """Empty for quote-level rules (as in findings.csv and `schemas.Finding`)."""
    line_no: int | None
    rule: str
    severity: str
    field: str
    expected: str
    actual: str
    message: str
    recorded_at: datetime


class Evidence(Record):
    """A screenshot, trace or PDF kept for a work item."""

    id: int
    item_id: int
    run_id: int | None
    kind: EvidenceKind
    path: str
    created_at: datetime


class Review(Record):
    """One decision of the quote audit team about one work item, with its note."""

    id: int
    item_id: int
    revision: int
    """The item's revision the reviewer looked at."""
    reviewer: str
    action: ReviewAction
    note: str
    at: datetime


class ScheduledRun(Record):
    """One schedule as the scheduler holds it: an engagement's quoting or booking runs."""

    engagement: str
    kind: RunKind
    next_run: datetime | None
    """When it runs next (UTC); None while paused."""

    @property
    def paused(self) -> bool:
        return self.next_run is None
