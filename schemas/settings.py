"""Quotebot's settings, read once from `QUOTEBOT_*` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where quotebot keeps its data and which browser it drives."""

    model_config = SettingsConfigDict(env_prefix="QUOTEBOT_", extra="ignore", frozen=True)

    home: Path = Path("var")
    """Folder for quotebot's database, evidence (screenshots, traces) and reports."""

    database_url: str | None = None
    """SQLAlchemy URL; default: a SQLite file in `home`."""

    engagements: Path = Path("engagements.yaml")
    """The engagements file operations staff maintain (see README)."""

    chromium_path: Path | None = None
    """Chromium to launch; default: /usr/bin/chromium, else Playwright's managed browser."""

    secrets_file: Path | None = None
    """Portal credentials as `NAME=value` lines, for names the environment does not set
    (outside the repository, readable by quotebot's user only)."""

    headless: bool = True

    reconcile_grace_s: float = 10.0
    """After a crash, how long a recorded submit may still be on its way to the portal."""

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'quotebot.sqlite').resolve()}"
