"""Engagements: one client portal each, as operations staff configure them in YAML."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from schemas._base import Record
from schemas._yaml import key_line
from schemas.errors import InputError
from schemas.forecast import ForecastPlan, Sampling
from schemas.rules import load_rules
from schemas.selector_map import SelectorMapError, load_selector_map
from schemas.settings import RetryOverride

ENGAGEMENT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
"""What an engagement may be called (`check_engagement_name`)."""
_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class EngagementError(ValueError):
    """Raised when an engagements file cannot be read or breaks the schema."""

    def __init__(self, path: Path, key: str, message: str, line: int = 0) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")
        self.path = path
        self.key = key
        self.line = line
        self.message = message

    @classmethod
    def at_key(cls, path: Path, text: str, key: str, message: str) -> EngagementError:
        """The error for a dotted key of the file whose text is `text`, with its line."""
        return cls(path, key, message, key_line(text, key))


def check_engagement_name(name: str) -> str:
    """The name, or `ValueError` saying the rule: it goes into the reference stamped into
    the portal (`QB-<name>-<opportunity>`), URLs and file names, so it stays plain."""
    if not ENGAGEMENT_NAME.fullmatch(name):
        raise ValueError(
            f"engagement name {name!r}: use lower-case letters, digits, '-' and '_', "
            "starting with a letter or digit (at most 40)"
        )
    return name


def cron_fields(expression: str) -> list[str]:
    """The fields of a schedule: 5 as in crontab, or 6 with seconds first; the scheduler
    checks each field's values when it reads the file (`scheduler.load_engagements`)."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"'{expression}' is not a cron expression (5 fields, or 6 with seconds first)"
        )
    return fields


class QuoteWindow(Record):
    """Which renewals a quoting run picks up: contract end this many days from today."""

    days_from: int = Field(default=90, ge=0, le=730)
    days_to: int = Field(default=150, ge=0, le=730)

    @model_validator(mode="after")
    def _ordered(self) -> QuoteWindow:
        if self.days_from > self.days_to:
            raise ValueError("days_from must not be after days_to")
        return self


class Schedules(Record):
    """Cron expressions (the engagement's timezone) for the two kinds of run, and the check.

    Five fields as in crontab (`0 6 * * 1-5`: weekdays at 06:00), or six with seconds first.
    """

    quote: str | None = None
    booking: str | None = None
    check: str | None = None
    """The morning canary: a read-only selector check (`check-selectors`) that raises the
    drift alert before the day's runs."""

    @field_validator("quote", "booking", "check")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_fields(value)
        return value


class Repair(Record):
    """What the bots may do about a page that changed (issue 29)."""

    fingerprints: bool = True
    """Keep each map key's fingerprint during runs (off: nothing to find a drifted key by)."""
    use_confident_reads: bool = False
    """A read-only key that drifts during a run is read, for the rest of that run, where its
    confident candidate is, when that candidate shows the value the store knows for the
    record on screen; the drift ticket records it and waits for a person as ever. Keys the
    bot types into, clicks or submits are never substituted, whatever this says."""


class Engagement(Record):
    """One client portal that quotebot quotes and books in."""

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
    max_sessions: int | None = Field(
        default=None, ge=1, description="portal sessions open at once, across the whole fleet"
    )
    retry: RetryOverride | None = None
    """This portal's own limits for retries in place (default: the settings')."""
    timezone: str = "UTC"
    forecast: ForecastPlan = ForecastPlan()
    """The renewal calendar's read-ahead and the quoting runs' length, for the forecast."""
    sampling: Sampling = Sampling()
    """The share of verified quotes (and the value above which all) sampled for review."""
    repair: Repair = Repair()
    """Fingerprints and the use of confident read candidates (`repair:` in the YAML)."""

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_engagement_name(value)

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


class _EngagementsFile(Record):
    engagements: list[Engagement]

    @model_validator(mode="after")
    def _unique(self) -> _EngagementsFile:
        names = [e.name for e in self.engagements]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"engagement names repeat: {', '.join(dupes)}")
        return self


def load_engagements(path: Path, *, check_files: bool = True) -> list[Engagement]:
    """Read an engagements file; relative selector and rules paths are from its folder.

    With `check_files`, every selector map and rules file must exist and be valid too: a
    bad one is an `EngagementError` naming the engagements file, the key and the bad file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise EngagementError(path, "", f"cannot read: {getattr(exc, 'strerror', exc)}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise EngagementError(path, "", f"not valid YAML: {exc}", line) from None
    try:
        parsed = _EngagementsFile.model_validate(raw)
    except ValidationError as exc:
        # A typo'd key also makes the real key "missing": name the typo first.
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        key = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise EngagementError(path, key, message, key_line(text, key)) from None
    base = path.parent
    engagements = [
        e.model_copy(update={"selectors": base / e.selectors, "rules": base / e.rules})
        for e in parsed.engagements
    ]
    if check_files:
        for index, engagement in enumerate(engagements):
            _check_files(path, text, index, engagement)
    return engagements


def _check_files(path: Path, text: str, index: int, engagement: Engagement) -> None:
    def fail(key: str, message: str) -> EngagementError:
        dotted = f"engagements.{index}.{key}"
        return EngagementError(path, dotted, message, key_line(text, dotted))

    try:
        selector_map = load_selector_map(engagement.selectors)
    except SelectorMapError as exc:
        raise fail("selectors", f"bad selector map: {exc}") from None
    if selector_map.flavour != engagement.flavour:
        raise fail(
            "flavour",
            f"'{engagement.flavour}' but {engagement.selectors} is for '{selector_map.flavour}'",
        )
    try:
        load_rules(engagement.rules)
    except InputError as exc:
        raise fail("rules", f"bad rules file: {exc}") from None
