"""Schedules read days of the week as crontab does: `1-5` is Monday to Friday.

APScheduler 3 numbers days from Monday = 0, so its own crontab reading ran a "weekdays"
schedule from Tuesday to Saturday; the one cron reader of the scheduler and the forecast
turns crontab's numbers into day names first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audit.schedule import cron_trigger, fire_times

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


def days(expression: str) -> list[str]:
    times = fire_times(expression, "UTC", MONDAY, MONDAY + timedelta(days=7))
    return [t.strftime("%a") for t in times]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 6 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 6 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 6 * * 0", ["Sun"]),
        ("0 6 * * 7", ["Sun"]),
        ("0 6 * * 6,0", ["Sat", "Sun"]),
        ("0 6 * * 5-7", ["Fri", "Sat", "Sun"]),
        ("0 6 * * */2", ["Tue", "Thu", "Sat", "Sun"]),
        ("0 6 * * *", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
        ("0 0 6 * * 1", ["Mon"]),
    ],
)
def test_days_of_the_week_are_crontab_s(expression: str, expected: list[str]) -> None:
    assert days(expression) == expected


@pytest.mark.parametrize("expression", ["0 6 * * 8", "0 6 * * 5-1", "0 6 * * funday"])
def test_a_day_that_is_none_is_refused_in_words(expression: str) -> None:
    with pytest.raises(ValueError, match="day"):
        cron_trigger(expression)
