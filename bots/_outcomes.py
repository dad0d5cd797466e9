"""The one place that decides what a failure means: call sites raise, this module classifies.

Every exception that reaches an item maps to exactly one `Outcome`, and the runner acts on
the outcome alone: business -> review, no retry; system -> retried with backoff, then
failed; drift -> the engagement's run stops, nothing more is typed; engagement -> the run
stops, no item is touched, the reason goes on the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from playwright.sync_api import Error as PlaywrightError
from pydantic import ValidationError

from bots._errors import (
    BotError,
    BusinessError,
    EngagementRefused,
    InputNotTaken,
    PortalBusy,
    SelectorDrift,
)
from schemas.errors import first_line
from schemas.settings import Backoff


class Outcome(StrEnum):
    BUSINESS = "business"
    """The data is wrong or missing: the item goes to review, never retried."""
    SYSTEM = "system"
    """The portal, the browser or quotebot itself failed: retried with backoff, then failed."""
    DRIFT = "drift"
    """The map no longer describes the portal: the engagement's run stops."""
    ENGAGEMENT = "engagement"
    """The portal refuses the bot user: the run stops, no item is touched."""


class AttemptEnd(StrEnum):
    """How an attempt ended when not in an item state: the keys an engine counts it under
    (beside `schemas.work.run_count_key`'s), never written as bare strings."""

    RETRY = "retry"
    """A system failure: the item is tried again after the decision's wait."""
    DRIFT = "drift"
    """The map no longer describes the portal: the run stopped, the item untouched."""
    REFUSED = "refused"
    """The portal refused the bot user: the run stopped, the item untouched."""
    RUN_ENDED = "run_ended"
    """The item's run ended before its job came up: it waits for the next run."""
    NO_PO_YET = "no_po_yet"
    """A verified quote with no customer PO yet: nothing to book."""
    LEFT_OPEN = "left_open"
    """The run closed with the item still to be worked (its job ended without it)."""

    @staticmethod
    def already(state: str) -> str:
        """The item had got this far already (a killed worker's attempt): nothing to do."""
        return f"already_{state}"


@dataclass(frozen=True)
class Failure:
    """What a failure means, and the code and reason recorded for it."""

    outcome: Outcome
    code: str
    reason: str
    expected: bool
    """False for an exception no call site raised on purpose: its traceback is logged."""


@dataclass(frozen=True)
class Decision:
    """What becomes of an item (or a run's listing) after a failed attempt: tried again in
    `retry_in_s` seconds, or given up for the failure's outcome."""

    failure: Failure
    retry_in_s: float | None
    """None: no further attempt (business, drift, engagement, or the attempts are spent)."""

    @property
    def gives_up(self) -> bool:
        return self.retry_in_s is None


def decide(exc: BaseException, attempts_made: int, max_attempts: int, backoff: Backoff) -> Decision:
    """The one decision after a failed attempt (`attempts_made` counts it): a system failure
    is tried again after the backoff's wait while attempts remain; anything else ends it."""
    found = failure(exc)
    if found.outcome is not Outcome.SYSTEM or attempts_made >= max_attempts:
        return Decision(found, None)
    return Decision(found, backoff.wait_s(attempts_made))


def classify(exc: BaseException) -> Outcome:
    """The outcome of an exception that reached an item or a run."""
    return failure(exc).outcome


def failure(exc: BaseException) -> Failure:
    """`classify`, with the code and reason to record."""
    if isinstance(exc, EngagementRefused):
        return Failure(Outcome.ENGAGEMENT, exc.code, exc.message, True)
    if isinstance(exc, SelectorDrift):
        return Failure(Outcome.DRIFT, "selector_drift", str(exc), True)
    if isinstance(exc, BusinessError):
        return Failure(Outcome.BUSINESS, exc.code, exc.message, True)
    if isinstance(exc, ValidationError):
        reason = f"the portal page held unexpected content: {first_line(exc)}"
        return Failure(Outcome.BUSINESS, "unreadable_page", reason, True)
    if isinstance(exc, BotError):  # PortalError and its kin
        return Failure(Outcome.SYSTEM, exc.code, exc.message, True)
    if isinstance(exc, PlaywrightError | TimeoutError):
        return Failure(Outcome.SYSTEM, "browser_error", first_line(exc), True)
    name = type(exc).__name__
    return Failure(Outcome.SYSTEM, "unexpected_error", f"{name}: {first_line(exc)}", False)


def retried_in_place(exc: BaseException) -> bool:
    """Whether a step is worth trying again at once, before its item's attempt fails: a
    busy or unreachable portal, an input a late redraw overwrote. Everything else goes to
    the item's outcome straight away."""
    return isinstance(exc, PortalBusy | InputNotTaken)
