"""What a bot raises; `bots._outcomes.classify` decides what each means for the run.

Business errors are about the data (nothing a retry fixes): the item goes to review.
Portal errors are about the system (timeouts, 5xx, lost sessions, a crashed browser):
the item is retried with backoff, then failed; the run goes on.
A refused engagement (login or second factor refused, credentials missing, account locked,
no access) is about no item at all: the run stops and no item is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class BotError(Exception):
    """Base of the errors a bot raises about one work item."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class BusinessError(BotError):
    """Raised when the data is wrong or missing: goes to review, never retried."""


class PortalError(BotError):
    """Raised when the portal or the browser fails: retried with backoff."""


class PortalBusy(PortalError):
    """Raised when the portal answers 5xx or cannot be reached: asked again in place."""


class SessionsFull(PortalError):
    """Raised when the portal refuses a log-in because the account already has as many
    sessions open as its licence allows: a place is waited for, never a refused login."""


class SessionLeftOpen(PortalBusy):
    """Raised when a log-in failed after the portal may have opened its session, and signing
    that session out could not be verified: its place waits for the portal's expiry."""


class SessionLost(PortalError):
    """Raised when the portal sends the bot to its login page in the middle of work."""


class InputNotTaken(PortalError):
    """Raised when a portal input does not show what was typed (a late redraw overwrote
    it): typed again in place."""


class EngagementRefused(BotError):
    """Raised when the portal refuses the bot user itself: stops the run, touches no item."""


class SelectorDrift(Exception):
    """Raised when a selector of the map no longer matches the portal page; stops the run."""

    def __init__(self, flavour: str, key: str, url: str) -> None:
        super().__init__(
            f"selector drift in the {flavour} portal: '{key}' matches nothing on {url}"
        )
        self.flavour = flavour
        self.key = key
        self.url = url


@dataclass(frozen=True)
class Answer:
    """What a portal's answer means: the error raised for it while reading, and after a
    write (a save, submit or booking) with the reason they differ."""

    read: type[PortalError]
    write: type[PortalError]
    why: str


_MAY_HAVE_WRITTEN = (
    "the portal may have committed the write before its answer failed: never repeated in "
    "place; the attempt looks the portal up (`_steps`) and, finding nothing, ends"
)

ANSWERS: dict[str, Answer] = {
    "http_5xx": Answer(PortalBusy, PortalError, _MAY_HAVE_WRITTEN),
    "connection_failed": Answer(PortalBusy, PortalError, _MAY_HAVE_WRITTEN),
    "timeout": Answer(PortalBusy, PortalError, _MAY_HAVE_WRITTEN),
    "navigation_failed": Answer(PortalBusy, PortalError, _MAY_HAVE_WRITTEN),
    "session_lost": Answer(
        SessionLost,
        SessionLost,
        "a read logs in again and asks once more; a write's attempt ends, its fate looked up",
    ),
    "too_many_sessions": Answer(
        SessionsFull, SessionsFull, "no session was opened: a place is waited for"
    ),
    "no_answer": Answer(PortalError, PortalError, "nothing tells whether the portal got it"),
    "not_found": Answer(PortalError, PortalError, "asking again at once finds nothing more"),
    "portal_error": Answer(PortalError, PortalError, "the portal's own error page: not busy"),
}
"""Portal answer code -> the error raised for it (`http_5xx` stands for every 5xx code):
the one place that chooses, so that the same answer is the same error wherever it is met."""

_HTTP_5XX = re.compile(r"http_5\d\d")


def portal_answer(code: str, message: str, *, after_write: bool = False) -> PortalError:
    """The error for the portal answer `code` (`http_503`, `session_lost`, ...), as `ANSWERS`
    says; `after_write` when it answered a save, submit or booking."""
    answer = ANSWERS["http_5xx" if _HTTP_5XX.fullmatch(code) else code]
    return (answer.write if after_write else answer.read)(code, message)
