"""The people who use the web pages, what they did (the audit trail), and schedule controls.

Records as the store hands them out; no I/O here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas._base import Record


class Role(StrEnum):
    """What a person may do: operations run the bots, auditors decide, managers read."""

    OPS = "ops"
    AUDITOR = "auditor"
    MANAGER = "manager"


class User(Record):
    """A person who signs in to the web pages (the password hash never leaves the store)."""

    id: int
    name: str
    role: Role
    created_at: datetime
    failed_logins: int
    last_failed_at: datetime | None


class TrailEntry(Record):
    """One line of the append-only audit trail: who, when, what, before and after."""

    id: int
    at: datetime
    actor: str
    action: str
    item_id: int | None
    subject: str
    note: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ScheduleControl(Record):
    """Operations' hand on one schedule (engagement and run kind)."""

    id: int
    engagement: str
    kind: str
    paused: bool
    run_requested_at: datetime | None
    changed_by: str
    changed_at: datetime
