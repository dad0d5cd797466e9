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
    ) -> None:
        self.ttl = ttl
        self.lifetime = lifetime
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, stage: str, username: str | None = None) -> Session:
        session = Session(
            sid=secrets.token_urlsafe(32), stage=stage, last_seen=self.clock(), username=username
        )
        session.started = session.last_seen
        with self._lock:
            self._purge(session.last_seen)
            self._sessions[session.sid] = session
        return session

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
                del self._sessions[sid]
                return None, True
            session.last_seen = now
            return session, False

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)
