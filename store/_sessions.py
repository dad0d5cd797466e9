"""Signed-in sessions kept in the store, and what ends them: sign-out, expiry, a password
change, disabling a person; who may see which engagements."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from schemas.people import User, WebSession
from store._base import StoreBase
from store._errors import UnknownRecord
from store._models import UserEngagementRow, UserRow, WebSessionRow
from store._people import add_trail, user_record


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionsMixin(StoreBase):
    def start_session(
        self, name: str, session_id: str, expires_at: datetime, *, address: str | None = None
    ) -> None:
        """Remember a sign-in; `session_user(session_id)` finds the person until it ends."""
        with self._write() as session:
            row = self._person(session, name)
            session.add(
                WebSessionRow(
                    key=_key(session_id),
                    user_id=row.id,
                    created_at=self.now(),
                    expires_at=expires_at,
                    address=address,
                )
            )
            row.failed_logins, row.last_failed_at = 0, None
            add_trail(session, self.now(), name, "signed_in", name, note=address)

    def session_user(self, session_id: str) -> User | None:
        """The person signed in with this session id, if the session is still open, not
        expired and the person not disabled; else None."""
        with self._read() as session:
            found = session.execute(
                select(WebSessionRow.expires_at, WebSessionRow.ended_at, UserRow)
                .join(UserRow, UserRow.id == WebSessionRow.user_id)
                .where(WebSessionRow.key == _key(session_id))
            ).first()
            if found is None:
                return None
            expires_at, ended_at, row = found
            if ended_at is not None or expires_at <= self.now() or row.disabled:
                return None
            return user_record(session, row)

    def end_session(self, session_id: str, why: str = "signed_out") -> None:
        with self._write() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.key == _key(session_id))
                .where(WebSessionRow.ended_at.is_(None))
                .values(ended_at=self.now(), ended_why=why)
            )

    def sessions(self, name: str) -> list[WebSession]:
        """A person's sessions, newest first (open and ended)."""
        with self._read() as session:
            rows = session.scalars(
                select(WebSessionRow)
                .join(UserRow, UserRow.id == WebSessionRow.user_id)
                .where(UserRow.name == name)
                .order_by(WebSessionRow.id.desc())
            )
            return [
                WebSession(
                    id=r.id,
                    user=name,
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                    address=r.address,
                    ended_at=r.ended_at,
                    ended_why=r.ended_why,
                )
                for r in rows
            ]

    def set_disabled(self, name: str, disabled: bool, *, actor: str) -> User:
        """Disable a person (every session of theirs ends now) or enable them again."""
        with self._write() as session:
            row = self._person(session, name)
            before = {"disabled": row.disabled}
            row.disabled = disabled
            if disabled:
                self._end_all(session, row.id, "disabled")
            action = "user_disabled" if disabled else "user_enabled"
            add_trail(
                session,
                self.now(),
                actor,
                action,
                name,
                before=before,
                after={"disabled": disabled},
            )
            return user_record(session, row)

    def change_password(self, name: str, password_hash: str, *, actor: str) -> None:
        """A new password (hashed by the caller): every session of the person's ends now."""
        with self._write() as session:
            row = self._person(session, name)
            row.password_hash = password_hash
            row.failed_logins, row.last_failed_at = 0, None
            self._end_all(session, row.id, "password_changed")
            add_trail(session, self.now(), actor, "password_changed", name)

    def assign_engagements(
        self, name: str, engagements: Sequence[str], *, all_engagements: bool, actor: str
    ) -> User:
        """The engagements a person sees from now on (or every one)."""
        with self._write() as session:
            row = self._person(session, name)
            before = user_record(session, row)
            ids = [self._engagement_id(session, e) for e in engagements]
            session.execute(delete(UserEngagementRow).where(UserEngagementRow.user_id == row.id))
            session.add_all(UserEngagementRow(user_id=row.id, engagement_id=i) for i in ids)
            row.all_engagements = all_engagements
            session.flush()
            add_trail(
                session,
                self.now(),
                actor,
                "engagements_assigned",
                name,
                before={"engagements": "all" if before.all_engagements else before.engagements},
                after={"engagements": "all" if all_engagements else list(engagements)},
            )
            return user_record(session, row)

    def sign_in_refused(self, name: str, address: str, why: str) -> None:
        """A failed sign-in in the audit trail: the name tried, from where, and why."""
        with self._write() as session:
            add_trail(session, self.now(), address, "sign_in_failed", name[:300], note=why)

    def _end_all(self, session: Session, user_id: int, why: str) -> None:
        session.execute(
            update(WebSessionRow)
            .where(WebSessionRow.user_id == user_id)
            .where(WebSessionRow.ended_at.is_(None))
            .values(ended_at=self.now(), ended_why=why)
        )

    def _person(self, session: Session, name: str) -> UserRow:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise UnknownRecord("user", name)
        return row
