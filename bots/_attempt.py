"""One attempt at one work item, the same for the in-process pool and the fleet.

An engine claims an item, hands it to an `Attempt` with the run's `Kit`, and acts on the
`Ending` it gets back: the pool counts it (and stops the run on drift or a refused bot
user), the fleet's queue tries the job again after the decision's wait (`RetryLater`).
What the failure means, whether the item is tried again and when, is decided once, by
`bots._outcomes.decide`, and recorded once, here: neither engine decides or records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger
from playwright.sync_api import Error as PlaywrightError

from bots._evidence import Evidence
from bots._outcomes import AttemptEnd, Decision, Outcome, decide
from bots._session import Credentials
from bots._steps import StepContext, process_booking, process_quote
from bots._worker import BrowserWorker
from bots.portals import load_map
from schemas import PricingRules, load_rules
from schemas.engagement import Engagement
from schemas.selector_map import SelectorMap
from schemas.settings import Backoff, Settings
from schemas.work import FailureKind, ItemState, RunKind, WorkItem, run_count_key
from store import LeaseLost, Store

if TYPE_CHECKING:
    from loguru import Logger


@dataclass(frozen=True)
class Kit:
    """What every attempt of an engagement needs, built once per run (pool) or per slot and
    engagement (fleet): the selector map, the pricing rules, the credentials, the evidence
    folder, the settings and the one backoff policy."""

    engagement: Engagement
    settings: Settings
    map: SelectorMap
    rules: PricingRules
    credentials: Credentials
    evidence: Evidence
    backoff: Backoff

    @classmethod
    def load(
        cls, engagement: Engagement, settings: Settings, *, first_wait_s: float | None = None
    ) -> Kit:
        """Read the engagement's files and secrets; `first_wait_s` overrides the backoff's
        first wait (`RunOptions.backoff_s`)."""
        backoff = settings.backoff
        if first_wait_s is not None:
            backoff = backoff.model_copy(update={"first_wait_s": first_wait_s})
        return cls(
            engagement,
            settings,
            load_map(engagement.flavour, engagement.selectors),
            load_rules(engagement.rules),
            Credentials.from_env(
                engagement.username_env,
                engagement.password_env,
                engagement.totp_env,
                secrets_file=settings.secrets_file,
            ),
            Evidence(settings.home / "evidence", engagement.name),
            backoff,
        )

    def decide(self, exc: BaseException, attempts_made: int) -> Decision:
        """`bots._outcomes.decide` with this engagement's attempts and backoff."""
        return decide(exc, attempts_made, self.engagement.max_attempts, self.backoff)


@dataclass(frozen=True)
class Ending:
    """How one attempt ended: the key the run counts it under and, after a failure, the
    one decision taken for it (already recorded on the item)."""

    key: str
    decision: Decision | None = None
    error: Exception | None = None

    @property
    def retry_in_s(self) -> float | None:
        return None if self.decision is None else self.decision.retry_in_s

    @property
    def stops_run(self) -> bool:
        """Drift or a refused bot user: the engagement's run stops, the item untouched."""
        return self.decision is not None and self.decision.failure.outcome in (
            Outcome.DRIFT,
            Outcome.ENGAGEMENT,
        )


class RetryLater(Exception):
    """Raised by a fleet job whose attempt failed and is to be tried again: carries the
    decision, whose wait the queue's retry strategy applies as it is."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.failure.reason)
        self.decision = decision


@dataclass
class Attempt:
    """One attempt at one item: its steps, its evidence, and the decision of how it ended,
    recorded on the item once (`store.fail` or `store.retry_later`)."""

    kit: Kit
    worker: BrowserWorker
    store: Store
    run_id: int
    kind: RunKind
    item: WorkItem
    today: date
    number: int | None = None
    """Which attempt this is (the fleet: the job's); None: the item's own count, read after
    the failure (the pool: a step may have begun a fresh count half-way)."""
    grace_s: float | None = None
    """The reconcile grace; default: the setting `QUOTEBOT_RECONCILE_GRACE_S`."""
    holder_seen: Callable[[int], datetime | None] | None = None

    def run(self) -> Ending:
        """Work the item as far as it goes; never raises for a failure of the item."""
        worker, item = self.worker, self.item
        try:
            worker.begin_item(item.reference)
            grace = self.kit.settings.reconcile_grace_s if self.grace_s is None else self.grace_s
            ctx = StepContext(
                worker.bot,
                self.store,
                self.kit.rules,
                self.run_id,
                worker.name,
                self.today,
                grace,
                sampling=self.kit.engagement.sampling,
                holder_seen=self.holder_seen,
            )
            if self.kind is RunKind.QUOTE:
                done: WorkItem | None = process_quote(ctx, item)
            else:
                done = process_booking(ctx, item)
        except LeaseLost:
            self._log().warning("lease lost: another worker has the item")
            return Ending(AttemptEnd.RETRY)
        except Exception as exc:
            return self._failed(exc)
        if done is not None and done.state is ItemState.FLAGGED:
            # The auditor deciding a flagged quote sees the portal page it was read from.
            self._keep_evidence()
        else:
            worker.discard_evidence()
        return Ending(AttemptEnd.NO_PO_YET if done is None else done.state.value)

    def _failed(self, exc: Exception) -> Ending:
        number = self.number
        if number is None:
            number = self.store.item(self.item.id).attempts + 1
        decision = self.kit.decide(exc, number)
        found = decision.failure
        log = self._log()
        if found.outcome is Outcome.ENGAGEMENT:
            self.worker.discard_evidence()  # never the item's fault: nothing of it to keep
            key: str = AttemptEnd.REFUSED
        elif found.outcome is Outcome.DRIFT:
            self._keep_evidence()
            key = AttemptEnd.DRIFT
        elif decision.retry_in_s is not None:
            if not found.expected:
                log.opt(exception=exc).error("unexpected error: {}", found.reason)
            self.worker.discard_evidence()
            self.store.retry_later(
                self.item.id,
                code=found.code,
                reason=found.reason,
                delay=timedelta(seconds=decision.retry_in_s),
                run_id=self.run_id,
                worker=self.worker.name,
            )
            log.info("retry in {:.0f}s: {}", decision.retry_in_s, found.reason)
            key = AttemptEnd.RETRY
        else:
            if not found.expected:
                log.opt(exception=exc).error("unexpected error: {}", found.reason)
            failed = (
                FailureKind.BUSINESS if found.outcome is Outcome.BUSINESS else FailureKind.SYSTEM
            )
            self._keep_evidence()
            self.store.fail(
                self.item.id,
                failed,
                found.reason,
                code=found.code,
                run_id=self.run_id,
                worker=self.worker.name,
            )
            if failed is FailureKind.BUSINESS:
                log.warning("to review: {}", found.reason)  # the reason starts with its code
            else:
                log.error("failed after {} attempts: {}", number, found.reason)
            key = run_count_key(ItemState.FAILED, failed)
        if not self.worker.healthy() or isinstance(exc, PlaywrightError):
            self.worker.close_browser()  # a crashed browser, or a page in an unknown state
        return Ending(key, decision, exc)

    def _keep_evidence(self) -> None:
        self.worker.keep_evidence(self.store, self.item.id, self.run_id)

    def _log(self) -> Logger:
        return logger.bind(
            engagement=self.kit.engagement.name, run=self.run_id, item=self.item.reference
        )
