"""People: users and their password hashes, the append-only audit trail, schedule controls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.people import Role, ScheduleControl, TrailEntry, User
from store import _convert as convert
from store._base import StoreBase
from store._errors import StoreError, UnknownRecord
from store._models import (
    EngagementRow,
    ItemRow,
    ScheduleControlRow,
    SchedulerBeatRow,
    TrailRow,
    UserEngagementRow,
    UserRow,
)
from store._types import to_json


def user_record(session: Session, row: UserRow) -> User:
    """The person with the engagements they are assigned (names, sorted)."""
    names = session.scalars(
        select(EngagementRow.name)
        .join(UserEngagementRow, UserEngagementRow.engagement_id == EngagementRow.id)
        .where(UserEngagementRow.user_id == row.id)
        .order_by(EngagementRow.name)
    )
    values = {c: getattr(row, c) for c in User.model_fields if c != "engagements"}
    return User.model_validate({**values, "engagements": tuple(names)})


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


def control_row(
    session: Session, engagement: str, kind: str, actor: str, now: datetime
) -> ScheduleControlRow:
    """The control of an engagement's schedule of one kind, made (not paused) if new."""
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
    return row


class PeopleMixin(StoreBase):
    def add_user(
        self,
        name: str,
        role: Role | str,
        password_hash: str,
        *,
        engagements: Sequence[str] = (),
        all_engagements: bool = False,
        actor: str = "cli",
    ) -> User:
        """Create a person (the caller hashes the password) who sees `engagements` only, or
        every one with `all_engagements`; `StoreError` if the name is taken."""
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
                disabled=False,
                all_engagements=all_engagements,
            )
            session.add(row)
            session.flush()
            for engagement in engagements:
                ids = self._engagement_id(session, engagement)
                session.add(UserEngagementRow(user_id=row.id, engagement_id=ids))
            after = {"role": role, "engagements": "all" if all_engagements else list(engagements)}
            add_trail(session, row.created_at, actor, "user_added", name, after=after)
            return user_record(session, row)

    def user(self, name: str) -> User | None:
        with self._read() as session:
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            return user_record(session, row) if row else None

    def users(self) -> list[User]:
        with self._read() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.name))
            return [user_record(session, row) for row in rows]

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
            return user_record(session, row)

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

    def trail(
        self,
        item_id: int | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        engagements: Sequence[str] | None = None,
        search: str = "",
        action: str = "",
    ) -> list[TrailEntry]:
        """The audit trail, newest first (optionally one item's). With `engagements`, only
        lines about those engagements' items; `search` matches actor, subject or note."""
        with self._read() as session:
            query = select(TrailRow).order_by(TrailRow.id.desc()).limit(limit).offset(offset)
            if item_id is not None:
                query = query.where(TrailRow.item_id == item_id)
            if engagements is not None:
                ids = [self._engagement_id(session, e) for e in engagements]
                query = query.join(ItemRow, ItemRow.id == TrailRow.item_id).where(
                    ItemRow.engagement_id.in_(ids)
                )
            if action:
                query = query.where(TrailRow.action == action)
            if search:
                pattern = f"%{search}%"
                query = query.where(
                    TrailRow.actor.ilike(pattern)
                    | TrailRow.subject.ilike(pattern)
                    | TrailRow.note.ilike(pattern)
                )
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
            row = control_row(session, engagement, kind, actor, now)
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

    def scheduler_beat(self, name: str) -> None:
        """A running scheduler says it is alive (called on every poll)."""
        with self._write() as session:
            row = session.get(SchedulerBeatRow, name)
            if row is None:
                session.add(SchedulerBeatRow(name=name, beat_at=self.now()))
            else:
                row.beat_at = self.now()

    def last_scheduler_beat(self) -> tuple[str, datetime] | None:
        """The most recent heartbeat of any scheduler: (its name, when)."""
        with self._read() as session:
            row = session.scalars(
                select(SchedulerBeatRow).order_by(SchedulerBeatRow.beat_at.desc()).limit(1)
            ).first()
            return (row.name, row.beat_at) if row else None

    def _user_row(self, session: Session, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise UnknownRecord("user", name)
        return row
