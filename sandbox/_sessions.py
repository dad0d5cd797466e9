"""Portal sessions: cookie ids, CSRF tokens, the TOTP step, and idle expiry."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "sandbox_session"
ANONYMOUS, TOTP_PENDING, AUTHENTICATED = "anonymous", "totp_pending", "authenticated"


@dataclass
class Session:
    """One browser's session; `stage` says how far its login got."""

    sid: str
    stage: str
    last_seen: float
    started: float = 0.0
    username: str | None = None
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    totp_failures: int = 0


class SessionStore:
    """In-memory sessions that expire after `ttl` idle seconds (`clock` injectable)."""

    def __init__(
        self,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        lifetime: float | None = None,
        max_sessions: int | None = None,
    ) -> None:
        self.ttl = ttl
        self.lifetime = lifetime
        self.max_sessions = max_sessions
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[float, str, str]] = []
        """The portal's own record of signed-in sessions: (time, "open" | "close", user)."""

    def create(self, stage: str, username: str | None = None) -> Session:
        session = Session(
            sid=secrets.token_urlsafe(32), stage=stage, last_seen=self.clock(), username=username
        )
        session.started = session.last_seen
        with self._lock:
            self._purge(session.last_seen)
            self._sessions[session.sid] = session
        return session

    def sign_in(self, username: str) -> Session | None:
        """A signed-in session for `username`; None when the account already has
        `max_sessions` open (a licence limit, as real portals enforce)."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            open_now = sum(
                1
                for s in self._sessions.values()
                if s.stage == AUTHENTICATED and s.username == username
            )
            if self.max_sessions is not None and open_now >= self.max_sessions:
                self.log.append((now, "refused", username))
                return None
            session = Session(
                sid=secrets.token_urlsafe(32),
                stage=AUTHENTICATED,
                last_seen=now,
                started=now,
                username=username,
            )
            self._sessions[session.sid] = session
            self.log.append((now, "open", username))
            return session

    def max_open(self) -> int:
        """The most sessions that were signed in at once, by the log."""
        most = current = 0
        for _, event, _user in sorted(self.log, key=lambda e: (e[0], e[1] == "open")):
            current += {"open": 1, "close": -1}.get(event, 0)
            most = max(most, current)
        return most

    def _expire(self, now: float) -> None:
        """Signed-in sessions past their idle time or lifetime end (and are logged)."""
        for sid, s in list(self._sessions.items()):
            too_old = self.lifetime is not None and now - s.started > self.lifetime
            if s.stage == AUTHENTICATED and (now - s.last_seen > self.ttl or too_old):
                self._end(sid, self._ended_at(s))

    def _ended_at(self, session: Session) -> float:
        """When an expired session ended by the portal's clock (not when it was noticed)."""
        ends = session.last_seen + self.ttl
        if self.lifetime is not None:
            ends = min(ends, session.started + self.lifetime)
        return ends

    def _end(self, sid: str, at: float | None = None) -> None:
        session = self._sessions.pop(sid, None)
        if session is not None and session.stage == AUTHENTICATED:
            when = self.clock() if at is None else at
            self.log.append((when, "close", session.username or ""))

    def _purge(self, now: float) -> None:
        # Every login page visit creates an anonymous session: drop the stale ones. Signed-in
        # sessions stay until looked up, so that the user is told theirs expired.
        stale = [
            sid
            for sid, s in self._sessions.items()
            if s.stage == ANONYMOUS and now - s.last_seen > self.ttl
        ]
        for sid in stale:
            del self._sessions[sid]

    def lookup(self, sid: str | None) -> tuple[Session | None, bool]:
        """The live session for a cookie, touched; and whether it had just expired."""
        if not sid:
            return None, False
        now = self.clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None, False
            too_old = self.lifetime is not None and now - session.started > self.lifetime
            if now - session.last_seen > self.ttl or too_old:
                self._end(sid, self._ended_at(session))
                return None, True
            session.last_seen = now
            return session, False

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._end(sid or "")
