"""Quotebot's settings, read once from `QUOTEBOT_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas._base import Record


class RetryPolicy(Record):
    """How often one step is tried again in place (a page load, the renewal list, a
    typeahead, a portal input) before its item's attempt fails; the waits double."""

    attempts: int = Field(default=4, ge=1, le=10)
    """Tries of one step in all (1: never retried in place)."""
    first_wait_s: float = Field(default=0.5, ge=0, le=60)
    """Wait before the second try; each further wait is twice the one before."""
    max_wait_s: float = Field(default=8.0, ge=0, le=300)
    """No single wait is longer."""

    def overridden(self, override: RetryOverride | None) -> RetryPolicy:
        """This policy with the limits an engagement sets itself."""
        if override is None:
            return self
        return self.model_copy(update=override.model_dump(exclude_none=True))


class RetryOverride(Record):
    """An engagement's own retry limits (engagements file, `retry:`); unset ones inherit."""

    attempts: int | None = Field(default=None, ge=1, le=10)
    first_wait_s: float | None = Field(default=None, ge=0, le=60)
    max_wait_s: float | None = Field(default=None, ge=0, le=300)


class Backoff(Record):
    """How long an item (or a run's listing of renewals) waits before its next attempt after
    a system failure; the attempts themselves are the engagement's `max_attempts`.

    The n-th retry waits `min(max_wait_s, first_wait_s * 2**(n-1))`: with the defaults 2 s,
    4 s, 8 s, ... never more than a minute (`QUOTEBOT_BACKOFF__FIRST_WAIT_S`, `__MAX_WAIT_S`).
    """

    first_wait_s: float = Field(default=2.0, ge=0, le=3600)
    max_wait_s: float = Field(default=60.0, ge=0, le=86_400)

    def wait_s(self, retry: int) -> float:
        """Seconds before retry number `retry` (1: the first)."""
        return min(self.max_wait_s, self.first_wait_s * 2 ** max(0, retry - 1))


class FleetTimings(Record):
    """How the fleet's worker processes keep track of each other
    (`QUOTEBOT_FLEET_TIMINGS__HEARTBEAT_S=5`, …)."""

    heartbeat_s: float = Field(default=2.0, gt=0, le=60)
    """A worker says it is alive this often, and looks as often for dead workers' jobs."""
    stalled_after_s: float = Field(default=10.0, gt=0, le=3600)
    """A worker silent this long is dead: its jobs go back to the queue for the others."""
    poll_s: float = Field(default=1.0, gt=0, le=60)
    """A worker looks this often for jobs whose time has come (a retry after its wait):
    a retry starts at most this late."""
    idle_sign_out_s: float = Field(default=2.0, gt=0, le=3600)
    """A slot without work this long signs its portal sessions out (frees the seats)."""
    item_lease_s: float = Field(default=600.0, gt=0, le=86_400)
    """An item a slot works is its for this long, unless the slot lets it go before."""
    run_abandoned_after_s: float = Field(default=60.0, gt=0, le=86_400)
    """A run whose process has been silent this long is abandoned when a new one starts."""

    @model_validator(mode="after")
    def _dead_after_alive(self) -> FleetTimings:
        if self.stalled_after_s <= 2 * self.heartbeat_s:
            raise ValueError(
                "fleet_timings.stalled_after_s must be more than twice heartbeat_s, or live "
                "workers are taken for dead"
            )
        return self


class AlertSettings(Record):
    """Where operations hear of trouble, and how soon (`QUOTEBOT_ALERTS__SMTP_HOST=…`,
    lists as JSON: `QUOTEBOT_ALERTS__RECIPIENTS='["ops@example.com"]'`). The SMTP user and
    password and the webhook secret are read from the environment or the secrets file,
    under the names given here, never from these settings."""

    repeat_after_s: float = Field(default=4 * 3600, gt=0)
    """An alert still open is sent again after this long (Alertmanager's repeat_interval)."""
    system_error_share: float = Field(default=0.2, gt=0, le=1)
    """A run whose items fail by system errors past this share raises an alert."""
    portal_down_after_s: float = Field(default=300, gt=0)
    """System errors with no success in between for this long: the portal is down."""
    evaluate_every_s: float = Field(default=30, gt=0, le=3600)
    """The scheduler (or the fleet) looks at the store's state this often."""
    pages_url: str = "http://127.0.0.1:8000"
    """The web pages' address, for the link in every notice."""
    smtp_host: str | None = None
    """No host: no e-mail."""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_ca_file: Path | None = None
    """The certificate authority the mail server's certificate is checked against (a
    company's own); default: the system's."""
    smtp_user_secret: str = "QUOTEBOT_SMTP_USER"
    smtp_password_secret: str = "QUOTEBOT_SMTP_PASSWORD"
    sender: str = "quotebot@localhost"
    recipients: tuple[str, ...] = ()
    """Who hears of every engagement's alerts (and of the fleet's)."""
    engagement_recipients: dict[str, tuple[str, ...]] = {}
    """Who else hears of one engagement's alerts, by engagement name."""
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = "QUOTEBOT_WEBHOOK_SECRET"
    """The name of the `whsec_…` secret signing every webhook (Standard Webhooks)."""
    first_wait_s: float = Field(default=5, gt=0)
    """A failed send is tried again after this, each wait twice the one before..."""
    max_wait_s: float = Field(default=600, gt=0)
    """...never longer than this."""
    timeout_s: float = Field(default=10, gt=0, le=120)

    @field_validator("webhook_urls")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for number, url in enumerate(urls, start=1):
            try:
                parts = urlsplit(url)
                fine = (
                    parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
                )
            except ValueError:
                fine = False
            if not fine:  # the address itself is not repeated: its query may hold a token
                raise ValueError(f"address {number} is not an http:// or https:// address")
        return urls

    @field_validator("recipients", "sender", "engagement_recipients")
    @classmethod
    def _addresses(cls, value: str | tuple[str, ...] | dict[str, tuple[str, ...]]) -> object:
        if isinstance(value, str):
            addresses: tuple[str, ...] = (value,)
        elif isinstance(value, dict):
            addresses = tuple(a for listed in value.values() for a in listed)
        else:
            addresses = value
        for address in addresses:
            if "@" not in address or address.startswith("@") or " " in address.strip():
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


class Settings(BaseSettings):
    """Where quotebot keeps its data and which browser it drives."""

    model_config = SettingsConfigDict(
        env_prefix="QUOTEBOT_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    home: Path = Path("var")
    """Folder for quotebot's database, evidence (screenshots, traces) and reports."""

    database_url: str | None = None
    """SQLAlchemy URL; default: a SQLite file in `home`."""

    engagements: Path = Path("engagements.yaml")
    """The engagements file operations staff maintain (see README)."""

    chromium_path: Path | None = None
    """Chromium to launch; default: Debian's /usr/bin/chromium-headless-shell when headless,
    else /usr/bin/chromium, else Playwright's managed browser."""

    secrets_file: Path | None = None
    """Portal credentials as `NAME=value` lines, for names the environment does not set
    (outside the repository, readable by quotebot's user only)."""

    headless: bool = True

    fleet: bool = False
    """Runs become jobs of the fleet (`quotebot worker` processes on any machine); needs a
    PostgreSQL `database_url`. Off: the embedded default, items worked in-process."""

    reconcile_grace_s: float = 10.0
    """After a crash, how long a recorded submit may still be on its way to the portal."""

    portal_session_expiry_s: float = Field(default=1800.0, gt=0, le=86_400)
    """How long a portal keeps an idle session: a session the bot could not see signed out
    keeps its licence place this long (`QUOTEBOT_PORTAL_SESSION_EXPIRY_S`)."""
    session_place_wait_s: float = Field(default=300.0, ge=0, le=86_400)
    """How long a log-in waits for the portal to have a session place free (its licence's
    sessions all open) before the attempt fails as a system error."""

    backoff: Backoff = Backoff()
    """Waits between an item's attempts, in-process and on the fleet alike."""
    retry: RetryPolicy = RetryPolicy()
    """Retries in place (`QUOTEBOT_RETRY__ATTEMPTS`, `__FIRST_WAIT_S`, `__MAX_WAIT_S`);
    an engagement may override each limit in the engagements file."""
    fleet_timings: FleetTimings = FleetTimings()
    """The fleet's heartbeats, leases and time-outs; the defaults suit one site's LAN."""

    alerts: AlertSettings = AlertSettings()
    """Alert rules' thresholds and where notices go (`QUOTEBOT_ALERTS__*`)."""

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'quotebot.sqlite').resolve()}"
