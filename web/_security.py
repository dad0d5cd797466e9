"""Passwords (argon2), signed session cookies, CSRF tokens, and slowing down guessing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "qb_session"
FREE_FAILURES = 3
"""Failed sign-ins before each next attempt has to wait (15 s, 30 s, then a minute)."""
FIRST_WAIT_S = 15.0
MAX_WAIT_S = 60.0

_hasher = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name costs as much as a wrong
# password and response times do not reveal who has an account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def wait_needed(failures: int, last_failed_at: datetime | None, now: datetime) -> float:
    """Seconds the next sign-in attempt must still wait after `failures` in a row."""
    if failures < FREE_FAILURES or last_failed_at is None:
        return 0.0
    delay = min(MAX_WAIT_S, FIRST_WAIT_S * 2.0 ** (failures - FREE_FAILURES))
    return max(0.0, (last_failed_at + timedelta(seconds=delay) - now).total_seconds())


class UnknownNameThrottle:
    """Failed sign-ins with names that have no account, counted in memory per name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, datetime]] = {}

    def wait(self, name: str, now: datetime) -> float:
        with self._lock:
            failures, last = self._failures.get(name, (0, now))
        return wait_needed(failures, last, now)

    def failed(self, name: str, now: datetime) -> None:
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()
            failures, _ = self._failures.get(name, (0, now))
            self._failures[name] = (failures + 1, now)


@dataclass
class Session:
    """What the signed cookie carries: a random id (CSRF tokens derive from it) and who."""

    sid: str
    user: str | None = None

    @classmethod
    def anonymous(cls) -> Session:
        return cls(sid=secrets.token_urlsafe(24))


class Sessions:
    """Signed, timestamped session cookies (HttpOnly, SameSite=Lax) and CSRF tokens."""

    def __init__(self, secret: str, max_age_s: float, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="quotebot-session")
        self._csrf_key = hashlib.sha256(f"csrf:{secret}".encode()).digest()
        self.max_age_s = max_age_s
        self.secure = secure

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data: dict[str, Any] = self._serializer.loads(cookie, max_age=int(self.max_age_s))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
            return None
        user = data.get("user")
        return Session(sid=data["sid"], user=user if isinstance(user, str) else None)

    def dump(self, session: Session) -> str:
        return self._serializer.dumps({"sid": session.sid, "user": session.user})

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(self.csrf_token(session), token)
