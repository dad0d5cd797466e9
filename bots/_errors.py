"""What a bot raises; `bots._outcomes.classify` decides what each means for the run.

Business errors are about the data (nothing a retry fixes): the item goes to review.
Portal errors are about the system (timeouts, 5xx, lost sessions, a crashed browser):
the item is retried with backoff, then failed; the run goes on.
A refused engagement (login or second factor refused, credentials missing, account locked,
no access) is about no item at all: the run stops and no item is touched.
"""

from __future__ import annotations


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
