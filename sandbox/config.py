"""How one sandbox portal server is set up: flavour, data, authentication and faults."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Flavour = Literal["acme", "globex"]

DB_NAME = "portal.sqlite3"
CREDENTIALS_NAME = "credentials.json"
RULES_NAME = "rules.yaml"
GROUND_TRUTH_NAME = "ground_truth.json"


class FaultConfig(BaseModel):
    """Fault injection, off by default: each knob makes the portal misbehave like a real one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency_ms: tuple[int, int] | None = None
    """Every request waits a uniform random time in this range (ms) before it is handled."""
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of requests answered 503 before the handler runs (never after a write)."""
    slow_save_ms: int = Field(default=0, ge=0)
    """Extra delay on save, submit and book."""
    slow_default_price_ms: int = Field(default=0, ge=0)
    """The acme editor pre-fills a chosen SKU's default price this long after the price
    arrives (an editor script that does more work first)."""
    busy_after_write: int = Field(default=0, ge=0)
    """The next this many reads (GET) after a committed save, submit or book answer 503: a
    portal that wobbles right after a write, the write itself standing."""
    busy_list: int = Field(default=0, ge=0)
    """The first this many reads of the renewal list (`/opportunities?end_from=...`, the
    page a run lists due renewals from) answer 503."""
    busy_after_login: float = Field(default=0.0, ge=0.0, le=1.0)
    """Share of successful log-ins whose next read answers 503: the session is open in the
    portal, the page after the log-in failed."""
    session_lifetime: float | None = Field(default=None, gt=0)
    """Sessions end this many seconds after login, however busy (a portal's hard limit)."""
    seed: int = 0
    """Seeds the fault decisions so that tests can predict rates."""

    @model_validator(mode="after")
    def _latency_ordered(self) -> FaultConfig:
        if self.latency_ms is not None:
            low, high = self.latency_ms
            if low < 0 or high < low:
                raise ValueError(f"latency_ms must be 0 <= low <= high, got {self.latency_ms}")
        return self

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.error_rate
            or self.slow_save_ms
            or self.slow_default_price_ms
            or self.busy_after_write
            or self.busy_after_login
            or self.busy_list
            or self.session_lifetime
        )


class SandboxConfig(BaseModel):
    """One portal server: which UI, which data folder, and how strict/faulty it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flavour: Flavour = "acme"
    data_dir: Path
    """Holds portal.sqlite3, credentials.json, rules.yaml and ground_truth.json."""
    seed: int = 7
    today: date = Field(default_factory=date.today)
    """The portal's business date (quote date, PO date); fixed in tests."""
    totp: bool = False
    """Ask for a 6-digit TOTP code after the password."""
    session_ttl: float = Field(default=1800.0, gt=0)
    """Idle seconds after which a session expires."""
    max_sessions: int | None = Field(default=None, ge=1)
    """Sessions one account may have signed in at once; a login past it is refused."""
    faults: FaultConfig = FaultConfig()
    acme_assets: Path | None = None
    """Serve the acme UI (index.html, app.js, editor.js, app.css) from this folder instead:
    a customised copy, as when a client upgrades its portal under the bots."""
    globex_templates: Path | None = None
    """Render the globex pages from this folder's templates first (the others from the
    sandbox's own): a drifted copy of some pages, as when the client's portal changes."""
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / CREDENTIALS_NAME

    @property
    def rules_path(self) -> Path:
        return self.data_dir / RULES_NAME

    @property
    def ground_truth_path(self) -> Path:
        return self.data_dir / GROUND_TRUTH_NAME
