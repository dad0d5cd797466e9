"""When an engagement's runs happen: its cron schedules' fire times (the scheduler's and the
forecast's one reading of them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from schemas.engagement import Engagement, EngagementError, cron_fields, load_engagements

_CRON_FIELDS = ("second", "minute", "hour", "day", "month", "day_of_week")


def cron_trigger(expression: str, timezone: str = "UTC") -> CronTrigger:
    """The trigger of a schedule: a 5-field crontab line, or 6 fields with seconds first.

    Seconds are for tests and demonstrations (`*/5 * * * * *`: every five seconds).
    """
    fields = cron_fields(expression)
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))
    return CronTrigger(**dict(zip(_CRON_FIELDS, fields, strict=True)), timezone=ZoneInfo(timezone))


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
