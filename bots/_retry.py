"""The one retry policy for everything tried again in place: page loads, the renewal
list, typeaheads, portal inputs. Built on tenacity; the limits are `RetryPolicy`.

Retries never nest: a step retried inside another retried step runs once per try of the
outer one, so a step's attempts are bounded by one budget, not by a product of loops.
Which exceptions are worth a retry in place is decided by `bots._outcomes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from loguru import logger
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bots._outcomes import retried_in_place
from schemas.settings import RetryPolicy

T = TypeVar("T")


class InPlace:
    """Retries in place for one bot (one thread); `InPlace(policy)(what, action)`."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self._inside = False
        self.retries = 0
        """Retries made so far (for logs and tests)."""

    def __call__(
        self,
        what: str,
        action: Callable[[], T],
        *,
        exhausted: Callable[[Exception], Exception] | None = None,
    ) -> T:
        """`action()`, tried again as the policy says while it fails in a way worth it.

        `exhausted` turns the last such failure into what it means once every try is spent
        (a typeahead that never offers the value: the value is unknown); only the outermost
        retry applies it, since an inner one's failure is the outer one's to try again.
        """
        if self._inside:
            return action()  # the enclosing step's retry owns the budget
        self._inside = True
        try:
            retrying = Retrying(
                stop=stop_after_attempt(self.policy.attempts),
                wait=wait_exponential(
                    multiplier=self.policy.first_wait_s, max=self.policy.max_wait_s
                ),
                retry=retry_if_exception(retried_in_place),
                before_sleep=lambda state: self._note(what, state),
                reraise=True,
            )
            try:
                return retrying(action)
            except Exception as exc:
                if exhausted is None or not retried_in_place(exc):
                    raise
                raise exhausted(exc) from None
        finally:
            self._inside = False

    def _note(self, what: str, state: RetryCallState) -> None:
        self.retries += 1
        error = state.outcome.exception() if state.outcome is not None else None
        logger.info("{}: try {} failed, again: {}", what, state.attempt_number, error)
