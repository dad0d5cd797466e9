"""Slowing down password guessing without letting a stranger lock a person out.

Failures are counted per address (many names tried from one place: spraying is slowed) and
per name (one name tried from anywhere). A browser that signed in as a name before carries
a signed known-device mark (`web._security.Device`); for that name its attempts count only
against that browser, so neither a stranger's guesses at the name nor at the shared address
ever make the person wait.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_WAIT_S = 15.0
MAX_WAIT_S = 60.0
FORGET_AFTER = timedelta(minutes=15)
"""A key with no failure for this long starts from zero again."""


@dataclass(frozen=True)
class Limit:
    kind: str
    free: int
    """Failures allowed before each next attempt waits (15 s, 30 s, then a minute)."""


ADDRESS = Limit("address", 10)
NAME = Limit("name", 3)
DEVICE = Limit("device", 5)

Key = tuple[Limit, str]


def wait_needed(failures: int, free: int, last_failed_at: datetime, now: datetime) -> float:
    """Seconds the next attempt must still wait after `failures` in a row."""
    if failures < free:
        return 0.0
    delay = min(MAX_WAIT_S, FIRST_WAIT_S * 2.0 ** (failures - free))
    return max(0.0, (last_failed_at + timedelta(seconds=delay) - now).total_seconds())


class SignInThrottle:
    """Failed sign-ins counted in memory per key (address, name, or known device)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], tuple[int, datetime]] = {}
        self._max_keys = max_keys

    def wait(self, keys: list[Key], now: datetime) -> float:
        """The longest wait any of `keys` still asks for (0: go ahead)."""
        with self._lock:
            return max(
                (
                    wait_needed(n, limit.free, last, now)
                    for limit, key in keys
                    for n, last in [self._count(limit, key, now)]
                ),
                default=0.0,
            )

    def failed(self, keys: list[Key], now: datetime) -> None:
        with self._lock:
            if len(self._failures) > self._max_keys:
                # Past the bound, the oldest half goes: memory stays flat under a flood.
                ordered = sorted(self._failures.items(), key=lambda kv: kv[1][1])
                self._failures = dict(ordered[len(ordered) // 2 :])
            for limit, key in keys:
                failures, _ = self._count(limit, key, now)
                self._failures[(limit.kind, key)] = (failures + 1, now)

    def succeeded(self, keys: list[Key]) -> None:
        """A right password clears the keys it was counted under (never the address's:
        one real account must not reset a sprayer's count)."""
        with self._lock:
            for limit, key in keys:
                if limit is not ADDRESS:
                    self._failures.pop((limit.kind, key), None)

    def _count(self, limit: Limit, key: str, now: datetime) -> tuple[int, datetime]:
        failures, last = self._failures.get((limit.kind, key), (0, now))
        return (0, now) if now - last > FORGET_AFTER else (failures, last)
