"""The web pages' settings: the secret key (refused when it is the default outside the demo)."""

from __future__ import annotations

import ipaddress

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-quotebot-demo-only"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UnsafeSecret(RuntimeError):
    """Raised when the web app would start outside the demo with the default secret key."""


class WebSettings(BaseSettings):
    """`QUOTEBOT_SECRET_KEY` signs session cookies and CSRF tokens; `QUOTEBOT_DEMO` allows
    the well-known default key (never in production)."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_", extra="ignore", frozen=True)

    secret_key: str = Field(default=DEFAULT_SECRET, repr=False)
    demo: bool = False
    session_hours: float = 8.0
    secure_cookies: bool | None = None
    """Send the session cookie over HTTPS only; unset: on unless serving on loopback."""

    def cookies_secure(self, host: str) -> bool:
        """Whether cookies are `Secure` when serving on `host`: anything but loopback is
        reached over a network, where a cookie sent in clear can be read."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return not is_loopback(host)

    def checked(self) -> WebSettings:
        """These settings, or `UnsafeSecret` if they would sign sessions with a public key."""
        if self.demo:
            return self
        if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
            raise UnsafeSecret(
                "QUOTEBOT_SECRET_KEY is the default or shorter than 32 characters: set a "
                "random one (python -c 'import secrets; print(secrets.token_urlsafe(48))'); "
                "only the demo (QUOTEBOT_DEMO=1) may run with the default"
            )
        return self
