"""The web pages' settings: the secret key (refused when it is the default outside the demo)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-quotebot-demo-only"


class UnsafeSecret(RuntimeError):
    """Raised when the web app would start outside the demo with the default secret key."""


class WebSettings(BaseSettings):
    """`QUOTEBOT_SECRET_KEY` signs session cookies and CSRF tokens; `QUOTEBOT_DEMO` allows
    the well-known default key (never in production)."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_", extra="ignore", frozen=True)

    secret_key: str = Field(default=DEFAULT_SECRET, repr=False)
    demo: bool = False
    session_hours: float = 8.0
    secure_cookies: bool = False
    """Set behind HTTPS so the session cookie is never sent in clear."""

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
