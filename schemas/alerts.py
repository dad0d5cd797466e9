"""Alerts as operations hear of them: a cause found in the store's state, the alert it
opens (one per cause), and each notice sent about it. No I/O here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from schemas._base import Record


def shown(url: str) -> str:
    """An endpoint as logs and pages show it: no user, password or query (tokens hide there)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class AlertRule(StrEnum):
    """What went wrong; each rule looks at one part of the store's state."""

    RUN_STOPPED = "run_stopped"
    SELECTOR_DRIFT = "selector_drift"
    SYSTEM_ERRORS = "system_errors"
    PORTAL_DOWN = "portal_down"
    WORKER_DEAD = "worker_dead"
    NO_WORKER = "no_worker"
    SCHEDULE_MISSED = "schedule_missed"

    @property
    def label(self) -> str:
        return RULE_LABELS[self]


RULE_LABELS = {
    AlertRule.RUN_STOPPED: "run stopped",
    AlertRule.SELECTOR_DRIFT: "portal pages changed",
    AlertRule.SYSTEM_ERRORS: "items failing",
    AlertRule.PORTAL_DOWN: "portal down",
    AlertRule.WORKER_DEAD: "worker dead",
    AlertRule.NO_WORKER: "no worker",
    AlertRule.SCHEDULE_MISSED: "schedule missed",
}

INHIBITING = frozenset({AlertRule.PORTAL_DOWN, AlertRule.RUN_STOPPED})
"""Broad causes of an engagement: while one is open, its consequences are held back."""
INHIBITED = frozenset({AlertRule.SYSTEM_ERRORS})
"""Per-run and per-item alerts: held back while the engagement has an inhibiting cause."""


class Cause(Record):
    """Something wrong now, as one evaluation of the rules found it."""

    engagement: str
    """The engagement it concerns; '' for the fleet as a whole."""
    rule: AlertRule
    subject: str = ""
    """What within the engagement (a run kind, a worker, a schedule); '' for all of it."""
    summary: str
    """One sentence for people: what is wrong, where."""
    link: str
    """The page that explains it, as a path of the web pages (`/runs/12`)."""

    @property
    def key(self) -> str:
        """One cause, one alert: the same key from every process that finds it."""
        return f"{self.engagement}|{self.rule.value}|{self.subject}"


class AlertState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class NoticeKind(StrEnum):
    """Why a notice goes out: a new cause, one still there after `repeat_after`, or cleared."""

    FIRING = "firing"
    REPEAT = "repeat"
    RESOLVED = "resolved"


NOTICE_LABELS = {
    NoticeKind.FIRING: "new",
    NoticeKind.REPEAT: "still going on",
    NoticeKind.RESOLVED: "resolved",
}


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


CHANNEL_LABELS = {Channel.EMAIL: "e-mail", Channel.WEBHOOK: "webhook"}


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    STOPPED = "stopped"
    """The endpoint answered 410 Gone: nothing more goes there."""


class Alert(Record):
    """One cause's alert, as the store keeps it (open while the cause lasts)."""

    id: int
    key: str
    engagement: str
    rule: AlertRule
    subject: str
    summary: str
    link: str
    state: AlertState
    opened_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    notified_at: datetime | None
    """The last firing or repeat notice was queued then (None: held back or silenced)."""
    acked_by: str | None = None
    acked_at: datetime | None = None
    ack_note: str | None = None


class Delivery(Record):
    """One notice to one address or endpoint, kept in the outbox until it is sent."""

    id: int
    alert_id: int
    kind: NoticeKind
    channel: Channel
    target: str
    message_id: str
    """The same on every try: the webhook's `webhook-id`, the e-mail's Message-ID."""
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime


class Silence(Record):
    """Operations silenced an engagement's notices until a time (alerts still open)."""

    engagement: str
    until: datetime
    by: str
    note: str
    at: datetime


class SelectorCheck(Record):
    """The last read-only check of an engagement's pages (the morning canary)."""

    engagement: str
    at: datetime
    drifts: tuple[str, ...]
    error: str | None
