"""The two kinds of failure a bot meets, plus selector drift.

Business errors are about the data (nothing a retry fixes): the item goes to review.
Portal errors are about the system (timeouts, 5xx, lost sessions, a crashed browser):
the item is retried with backoff, then failed; the run goes on.
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


class SelectorDrift(Exception):
    """Raised when a selector of the map no longer matches the portal page; stops the run."""

    def __init__(self, flavour: str, key: str, url: str) -> None:
        super().__init__(
            f"selector drift in the {flavour} portal: '{key}' matches nothing on {url}"
        )
        self.flavour = flavour
        self.key = key
        self.url = url
