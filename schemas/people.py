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
    disabled: bool = False
    all_engagements: bool = False
    engagements: tuple[str, ...] = ()
    """The engagements (clients) this person works on; all of them with `all_engagements`."""

    def sees(self, engagement: str) -> bool:
        return self.all_engagements or engagement in self.engagements

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The engagements whose work this person may see; None for every one."""
        return None if self.all_engagements else self.engagements


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


class WebSession(Record):
    """A signed-in session as the store keeps it; ended by sign-out, expiry, a password
    change or disabling the person."""

    id: int
    user: str
    created_at: datetime
    expires_at: datetime
    address: str | None
    ended_at: datetime | None
    ended_why: str | None


class ScheduleControl(Record):
    """Operations' hand on one schedule (engagement and run kind)."""

    id: int
    engagement: str
    kind: str
    paused: bool
    run_requested_at: datetime | None
    changed_by: str
    changed_at: datetime
