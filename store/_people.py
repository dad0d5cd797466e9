"""People: users and their password hashes, the append-only audit trail, schedule controls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.people import Role, ScheduleControl, TrailEntry, User
from store import _convert as convert
from store._base import StoreBase
from store._errors import StoreError, UnknownRecord
from store._models import ScheduleControlRow, TrailRow, UserRow
from store._types import to_json


def add_trail(
    session: Session,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    *,
    item_id: int | None = None,
    note: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> TrailRow:
    """Append one audit trail line inside the caller's transaction."""
    row = TrailRow(
        at=at,
        actor=actor,
        action=action,
        item_id=item_id,
        subject=subject,
        note=note,
        before=to_json(dict(before), "before") if before is not None else None,
        after=to_json(dict(after), "after") if after is not None else None,
    )
    session.add(row)
    return row


class PeopleMixin(StoreBase):
    def add_user(self, name: str, role: Role | str, password_hash: str) -> User:
        """Create a person (the caller hashes the password); `StoreError` if the name is taken."""
        role = Role(role)
        with self._write() as session:
            if session.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
                raise StoreError(f"user {name!r} already exists")
            row = UserRow(
                name=name,
                role=role.value,
                password_hash=password_hash,
                created_at=self.now(),
                failed_logins=0,
            )
            session.add(row)
            session.flush()
            add_trail(session, row.created_at, "cli", "user_added", name, after={"role": role})
            return convert.record(User, row)

    def user(self, name: str) -> User | None:
        with self._read() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return convert.record(User, row) if row else None

    def users(self) -> list[User]:
        with self._read() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.name))
            return [convert.record(User, row) for row in rows]

    def password_hash(self, name: str) -> str | None:
        with self._read() as session:
            return session.scalar(select(UserRow.password_hash).where(UserRow.name == name))

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Store a re-hashed password (after the hasher's parameters changed)."""
        with self._write() as session:
            row = self._user_row(session, name)
            row.password_hash = password_hash

    def login_failed(self, name: str) -> User:
        """Count a failed sign-in (the web pages slow down the next attempts)."""
        with self._write() as session:
            row = self._user_row(session, name)
            row.failed_logins += 1
            row.last_failed_at = self.now()
            return convert.record(User, row)

    def login_succeeded(self, name: str) -> None:
        with self._write() as session:
            row = self._user_row(session, name)
            row.failed_logins, row.last_failed_at = 0, None
            add_trail(session, self.now(), name, "signed_in", name)

    def record_action(
        self,
        actor: str,
        action: str,
        subject: str,
        *,
        item_id: int | None = None,
        note: str | None = None,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> TrailEntry:
        """Append a line to the audit trail (reviews write theirs themselves)."""
        with self._write() as session:
            row = add_trail(
                session,
                self.now(),
                actor,
                action,
                subject,
                item_id=item_id,
                note=note,
                before=before,
                after=after,
            )
            session.flush()
            return convert.record(TrailEntry, row)

    def trail(self, item_id: int | None = None, *, limit: int = 200) -> list[TrailEntry]:
        """The audit trail, newest first (optionally one item's)."""
        with self._read() as session:
            query = select(TrailRow).order_by(TrailRow.id.desc()).limit(limit)
            if item_id is not None:
                query = query.where(TrailRow.item_id == item_id)
            return [convert.record(TrailEntry, row) for row in session.scalars(query)]

    def schedule_controls(self) -> list[ScheduleControl]:
        with self._read() as session:
            rows = session.scalars(select(ScheduleControlRow).order_by(ScheduleControlRow.id))
            return [convert.record(ScheduleControl, row) for row in rows]

    def control_schedule(
        self,
        engagement: str,
        kind: str,
        actor: str,
        *,
        paused: bool | None = None,
        run_now: bool = False,
    ) -> ScheduleControl:
        """Pause or resume a schedule, or ask for a run now; the scheduler reads these."""
        now = self.now()
        with self._write() as session:
            row = session.scalar(
                select(ScheduleControlRow)
                .where(ScheduleControlRow.engagement == engagement)
                .where(ScheduleControlRow.kind == kind)
            )
            if row is None:
                row = ScheduleControlRow(
                    engagement=engagement, kind=kind, paused=False, changed_by=actor, changed_at=now
                )
                session.add(row)
            before = {"paused": row.paused}
            if paused is not None:
                row.paused = paused
            if run_now:
                row.run_requested_at = now
            row.changed_by, row.changed_at = actor, now
            action = "run_now" if run_now else "paused" if paused else "resumed"
            add_trail(
                session,
                now,
                actor,
                f"schedule_{action}",
                f"{engagement} {kind}",
                before=before,
                after={"paused": row.paused},
            )
            session.flush()
            return convert.record(ScheduleControl, row)

    def _user_row(self, session: Session, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise UnknownRecord("user", name)
        return row
