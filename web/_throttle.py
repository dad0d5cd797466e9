"""Slowing down password guessing without letting a stranger lock a person out.

Failures are counted per address (many names tried from one place: spraying is slowed) and
per name (one name tried from anywhere). A browser that signed in as a name before carries
a signed known-device mark (`web._security.Device`); for that name its attempts count only
against that browser, so neither a stranger's guesses at the name nor at the shared address
ever make the person wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store import Store

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
    """Failed sign-ins counted in the store per key (address, name, or known device): every
    server process of the pages, on every machine, counts the same guesses. Its methods
    reach the database: call them off the event loop."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def wait(self, keys: list[Key], now: datetime) -> float:
        """The longest wait any of `keys` still asks for (0: go ahead)."""
        counted = self._store.sign_in_failures(_names(keys), now - FORGET_AFTER)
        return max(
            (
                wait_needed(n, limit.free, last, now)
                for limit, key in keys
                for n, last in [counted.get((limit.kind, key[:200]), (0, now))]
            ),
            default=0.0,
        )

    def failed(self, keys: list[Key], now: datetime) -> None:
        self._store.count_sign_in_failure(_names(keys), now, now - FORGET_AFTER)

    def succeeded(self, keys: list[Key]) -> None:
        """A right password clears the keys it was counted under (never the address's:
        one real account must not reset a sprayer's count)."""
        self._store.clear_sign_in_failures(
            [(limit.kind, key) for limit, key in keys if limit is not ADDRESS]
        )


def _names(keys: list[Key]) -> list[tuple[str, str]]:
    return [(limit.kind, key) for limit, key in keys]
