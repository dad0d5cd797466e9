"""Passwords (argon2), signed session cookies, CSRF tokens, known-device marks."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "qb_session"
DEVICE_COOKIE = "qb_device"
DEVICE_DAYS = 180

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


@dataclass(frozen=True)
class Device:
    """A browser someone signed in from before: its own id and the names signed in with it."""

    id: str
    names: tuple[str, ...]

    @classmethod
    def new(cls) -> Device:
        return cls(secrets.token_urlsafe(16), ())

    def with_name(self, name: str) -> Device:
        # The last few names only: a shared workstation, not a list of everyone.
        names = (name, *(n for n in self.names if n != name))[:5]
        return Device(self.id, names)


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
        self._devices = URLSafeTimedSerializer(secret, salt="quotebot-device")
        self.max_age_s = max_age_s
        # The cookie outlives the session it names by a day: the store decides when a
        # session ends, and a form posted just after still proves it came from our page
        # (its CSRF token matches), so the decision can be kept through a new sign-in.
        self.cookie_age_s = max_age_s + 86400
        self.secure = secure

    def load(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data: dict[str, Any] = self._serializer.loads(cookie, max_age=int(self.cookie_age_s))
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

    def device(self, cookie: str | None) -> Device | None:
        """The browser's 'signed in here before' mark, if it is one of ours."""
        if not cookie:
            return None
        try:
            data = self._devices.loads(cookie, max_age=DEVICE_DAYS * 86400)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        names = data.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        return Device(data["id"], tuple(names))

    def dump_device(self, device: Device) -> str:
        return self._devices.dumps({"id": device.id, "names": list(device.names)})
