"""When an engagement's runs happen: its cron schedules' fire times (the scheduler's and the
forecast's one reading of them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from schemas.engagement import Engagement, EngagementError, cron_fields, load_engagements

_CRON_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week")


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
"""Crontab's day-of-week numbers: 0 (and 7) Sunday, 1 Monday … 6 Saturday."""


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger of a schedule: a 5-field crontab line, or 6 fields with seconds first.

    Seconds are for tests and demonstrations (`*/5 * * * * *`: every five seconds). Days of
    the week are numbered as crontab numbers them (`1-5`: Monday to Friday), which
    APScheduler 3 does not do by itself (its 0 is Monday, so `1-5` would run Tuesday to
    Saturday): numbers are turned into day names first.
    """
    fields = cron_fields(expression)
    if len(fields) == 5:
        fields = ["0", *fields]
    fields[5] = crontab_days(fields[5])
    return CronTrigger(**dict(zip(_CRON_FIELDS, fields, strict=True)), timezone=ZoneInfo(timezone))


def crontab_days(field: str) -> str:
    """A crontab day-of-week field with its numbers as day names (`1-5` -> `mon,tue,…,fri`;
    `*/2` -> `sun,tue,thu,sat`); names and `*` stay as they are."""
    if not any(c.isdigit() for c in field.split("/", 1)[0]) and "/" not in field:
        return field
    days: list[str] = []
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-", 1)
            first, last = _day_number(low), _day_number(high)
        else:
            first = _day_number(span)
            last = 6 if step_text else first
        if step < 1 or last < first:
            raise ValueError(f"'{part}' is not a day-of-week range (0 or 7 Sunday … 6 Saturday)")
        for number in range(first, last + 1, step):
            name = _DAY_NAMES[number % 7]
            if name not in days:
                days.append(name)
    return ",".join(days)


def _day_number(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text.lower()[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(text.lower()[:3])
    raise ValueError(f"'{text}' is not a day of the week (0 or 7 Sunday … 6 Saturday, or a name)")


def fire_times(
    expression: str, timezone: str, start: datetime, end: datetime, *, limit: int = 5000
) -> list[datetime]:
    """The schedule's fire times from `start` (included) to `end` (excluded), at most
    `limit` (a six-field every-second schedule would otherwise be millions)."""
    trigger = cron_trigger(expression, timezone)
    times: list[datetime] = []
    previous: datetime | None = None
    moment = start
    while len(times) < limit:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire >= end:
            break
        times.append(fire)
        previous, moment = fire, fire + timedelta(microseconds=1)
    return times


def load_checked(path: Path) -> list[Engagement]:
    """`load_engagements`, and every schedule's values checked too (the scheduler's file,
    and the web pages' edits of it): a bad one names the file, line and key."""
    engagements = load_engagements(path)
    text = path.read_text(encoding="utf-8")
    for index, engagement in enumerate(engagements):
        for kind in ("quote", "booking", "check"):
            cron = getattr(engagement.schedules, kind)
            if cron is None:
                continue
            try:
                cron_trigger(cron, engagement.timezone)
            except ValueError as exc:
                key = f"engagements.{index}.schedules.{kind}"
                raise EngagementError.at_key(path, text, key, str(exc)) from None
    return engagements
