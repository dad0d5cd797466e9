"""Engagements: one client portal each, as operations staff configure them in YAML."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class EngagementError(ValueError):
    """Raised when an engagements file cannot be read or breaks the schema."""

    def __init__(self, path: Path, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}" if key else f"{path}: {message}")
        self.path = path
        self.key = key


class QuoteWindow(BaseModel):
    """Which renewals a quoting run picks up: contract end this many days from today."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    days_from: int = Field(default=90, ge=0, le=730)
    days_to: int = Field(default=150, ge=0, le=730)

    @model_validator(mode="after")
    def _ordered(self) -> QuoteWindow:
        if self.days_from > self.days_to:
            raise ValueError("days_from must not be after days_to")
        return self


class Schedules(BaseModel):
    """Cron expressions (5 fields, the engagement's timezone) for the two kinds of run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quote: str | None = None
    booking: str | None = None

    @field_validator("quote", "booking")
    @classmethod
    def _five_fields(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) != 5:
            raise ValueError(f"'{value}' is not a 5-field cron expression")
        return value


class Engagement(BaseModel):
    """One client portal that quotebot quotes and books in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    flavour: str
    url: str
    username_env: str
    password_env: str
    totp_env: str | None = None
    selectors: Path
    rules: Path
    window: QuoteWindow = QuoteWindow()
    schedules: Schedules = Schedules()
    workers: int = Field(default=1, ge=1, le=16)
    recycle_after: int = Field(default=25, ge=1, description="items per browser context")
    max_attempts: int = Field(default=3, ge=1, le=10)
    timezone: str = "UTC"

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use lower-case letters, digits, '-' and '_' (at most 40)")
        return value

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/") + "/"

    @field_validator("username_env", "password_env", "totp_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV.match(value):
            raise ValueError("give the NAME of an environment variable (never the secret itself)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}'") from None
        return value


class _EngagementsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    engagements: list[Engagement]

    @model_validator(mode="after")
    def _unique(self) -> _EngagementsFile:
        names = [e.name for e in self.engagements]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"engagement names repeat: {', '.join(dupes)}")
        return self


def load_engagements(path: Path) -> list[Engagement]:
    """Read an engagements file; relative selector and rules paths are from its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EngagementError(path, "", f"cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise EngagementError(path, "", f"not valid YAML: {exc}") from None
    try:
        parsed = _EngagementsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise EngagementError(path, key, first["msg"]) from None
    base = path.parent
    return [
        e.model_copy(update={"selectors": base / e.selectors, "rules": base / e.rules})
        for e in parsed.engagements
    ]
