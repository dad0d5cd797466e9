"""A run of one engagement: discover the due renewals, then N workers work the items.

One item never fails a run: business errors send it to review, system errors are retried
with backoff and then fail the item. Selector drift stops the run for the engagement,
because every further item would meet the same broken page.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from loguru import logger
from playwright.sync_api import Error as PlaywrightError
from pydantic import ValidationError
from tqdm import tqdm

from bots._errors import BusinessError, PortalError, SelectorDrift
from bots._evidence import Evidence
from bots._session import Credentials
from bots._steps import BOOKING_STATES, QUOTE_STATES, StepContext, process_booking, process_quote
from bots._worker import Worker
from schemas import PricingRules, load_rules
from schemas.engagement import Engagement
from schemas.errors import first_line
from schemas.selector_map import SelectorMap, load_selector_map
from schemas.settings import Settings
from schemas.work import FailureKind, IntentStatus, ItemState, Run, RunKind, RunStatus, WorkItem
from store import LeaseLost, Store

if TYPE_CHECKING:
    from loguru import Logger

T = TypeVar("T")
HEARTBEAT_S = 10.0
STALE_AFTER = timedelta(seconds=60)


@dataclass
class RunOptions:
    """How a run behaves; the defaults are what operations staff get."""

    workers: int | None = None
    """Parallel browsers; default: the engagement's setting."""
    today: date | None = None
    progress: bool = True
    lease_seconds: float = 120.0
    backoff_s: float = 2.0
    """First retry after this, doubling per attempt (capped at a minute)."""
    reconcile_grace_s: float | None = None
    """Default: the setting `QUOTEBOT_RECONCILE_GRACE_S`."""
    stop: threading.Event = field(default_factory=threading.Event)
    """Set it (e.g. on SIGTERM) to stop after the items in hand."""


@dataclass
class RunResult:
    run: Run
    counts: Counter[str]
    drift: SelectorDrift | None = None


def run_engagement(
    engagement: Engagement,
    kind: RunKind | str,
    store: Store,
    *,
    settings: Settings,
    options: RunOptions | None = None,
) -> RunResult:
    """Quote (or book) every due renewal of an engagement; the run's counts and outcome."""
    kind = RunKind(kind)
    options = options or RunOptions()
    today = options.today or date.today()
    log = logger.bind(engagement=engagement.name, kind=kind.value)
    store.ensure_engagement(engagement.name, engagement.flavour, engagement.url)
    store.abandon_stale_runs(STALE_AFTER)
    _release_dead_local(store, engagement.name)
    run = store.start_run(engagement.name, kind)
    log = log.bind(run=run.id)
    beat = _Heartbeat(store, run.id)
    beat.start()
    counts: Counter[str] = Counter()
    drift: SelectorDrift | None = None
    try:
        credentials = Credentials.from_env(
            engagement.username_env,
            engagement.password_env,
            engagement.totp_env,
            secrets_file=settings.secrets_file,
        )
        selector_map = load_selector_map(engagement.selectors)
        rules = load_rules(engagement.rules)
        evidence = Evidence(settings.home / "evidence", engagement.name)
        pool = _Pool(
            engagement,
            kind,
            store,
            settings,
            options,
            today,
            run,
            rules,
            selector_map,
            credentials,
            evidence,
        )
        counts, drift = pool.work()
    except BusinessError as exc:
        beat.stop()
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=exc.message)
        log.error("run failed: {}", exc.message)
        raise
    except BaseException as exc:
        beat.stop()
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=first_line(exc))
        raise
    beat.stop()
    if drift is not None:
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=str(drift))
        log.error("{}", drift)
    else:
        run = store.finish_run(run.id, RunStatus.SUCCEEDED, counts)
        log.info("run finished: {}", dict(counts))
    return RunResult(run, counts, drift)


class _Pool:
    """The workers of one run, and what they share: the item queue's end and the verdict."""

    def __init__(
        self,
        engagement: Engagement,
        kind: RunKind,
        store: Store,
        settings: Settings,
        options: RunOptions,
        today: date,
        run: Run,
        rules: PricingRules,
        selector_map: SelectorMap,
        credentials: Credentials,
        evidence: Evidence,
    ) -> None:
        self.engagement = engagement
        self.kind = kind
        self.store = store
        self.settings = settings
        self.options = options
        self.today = today
        self.run = run
        self.rules = rules
        self.map = selector_map
        self.credentials = credentials
        self.evidence = evidence
        self.states = QUOTE_STATES if kind is RunKind.QUOTE else BOOKING_STATES
        self.left_alone: set[int] = set()
        self.lock = threading.Lock()
        self.discovered = threading.Event()
        self.drift: SelectorDrift | None = None
        self.errors: list[BaseException] = []
        self.outcomes: queue.Queue[str] = queue.Queue()
        self.log = logger.bind(engagement=engagement.name, run=run.id)

    def work(self) -> tuple[Counter[str], SelectorDrift | None]:
        n = self.options.workers or self.engagement.workers
        threads = [
            threading.Thread(target=self._guarded, args=(i,), name=f"worker-{i}", daemon=True)
            for i in range(n)
        ]
        for thread in threads:
            thread.start()
        counts: Counter[str] = Counter()
        self.discovered.wait()
        total = len(self._todo())
        with tqdm(
            total=total,
            desc=f"{self.engagement.name} {self.kind.value}",
            unit="item",
            disable=not self.options.progress,
            dynamic_ncols=True,
        ) as bar:
            while any(t.is_alive() for t in threads) or not self.outcomes.empty():
                try:
                    outcome = self.outcomes.get(timeout=0.2)
                except queue.Empty:
                    continue
                counts[outcome] += 1
                if outcome != "retry":
                    bar.update(1)
                    bar.set_postfix({k: v for k, v in counts.items() if k != "retry"})
        for thread in threads:
            thread.join()
        if self.errors:
            raise self.errors[0]
        return counts, self.drift

    def _todo(self) -> list[WorkItem]:
        items = [i for s in self.states for i in self.store.items(self.engagement.name, state=s)]
        return [i for i in items if i.id not in self.left_alone]

    def _guarded(self, index: int) -> None:
        try:
            self._worker(index)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.log.exception("worker {} stopped", index)
            self.errors.append(exc)
            self.options.stop.set()
        finally:
            if index == 0:
                self.discovered.set()

    def _worker(self, index: int) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}:w{index}"
        with Worker(
            name, self.engagement, self.map, self.credentials, self.evidence, self.settings
        ) as worker:
            if index == 0:
                self._discover(worker)
                self.discovered.set()
            else:
                self._warm_up(worker)
            self.discovered.wait()
            while not self.options.stop.is_set() and self.drift is None:
                with self.lock:
                    exclude = set(self.left_alone)
                item = self.store.claim(
                    self.engagement.name,
                    self.states,
                    name,
                    self.options.lease_seconds,
                    exclude=exclude,
                )
                if item is None:
                    wait = self._next_retry_in(exclude)
                    if wait is None:
                        return
                    time.sleep(min(wait, 1.0))
                    continue
                outcome = self._one(worker, item)
                self.outcomes.put(outcome)
                if outcome == "retry" and self.options.stop.is_set():
                    self._settle(worker, item.id)

    def _settle(self, worker: Worker, item_id: int) -> None:
        """Stopping, an item whose submit's outcome is unknown (an open intent after a system
        error) is worked until the outcome is known, so a stop never leaves a half-entered
        quote in the portal. Its other retries wait for the next run."""
        for _ in range(self.engagement.max_attempts):
            if not any(i.status is IntentStatus.OPEN for i in self.store.intents(item_id)):
                return
            item = self.store.item(item_id)
            if item.next_attempt_at is not None:
                time.sleep(max(0.0, (item.next_attempt_at - datetime.now(UTC)).total_seconds()))
            others = {i.id for i in self._todo()} - {item_id}
            claimed = self.store.claim(
                self.engagement.name,
                self.states,
                worker.name,
                self.options.lease_seconds,
                exclude=others,
            )
            if claimed is None:
                return  # finished elsewhere, or no longer in a state this run works
            self.outcomes.put(self._one(worker, claimed))

    def _warm_up(self, worker: Worker) -> None:
        """Start the browser and log in while worker 0 lists the renewals: a run's start-up
        costs one login's time, not two. A failure here is left to the first item, which
        meets it again and handles it like any other."""
        try:
            worker.bot  # noqa: B018 - opens the browser and logs in
        except (BusinessError, SelectorDrift, PortalError, PlaywrightError, TimeoutError) as exc:
            self.log.debug("{}: log-in before the first item failed: {}", worker.name, exc)
            worker.close_browser()

    def _discover(self, worker: Worker) -> None:
        """List the renewals due in the window and make sure each has a work item."""
        if self.kind is not RunKind.QUOTE:
            return
        window = self.engagement.window
        start = self.today + timedelta(days=window.days_from)
        end = self.today + timedelta(days=window.days_to)
        due = _with_retries(lambda: worker.bot.due_opportunities(start, end), self.log)
        for opportunity in due:
            self.store.ensure_item(
                self.engagement.name,
                opportunity.opportunity_id,
                contract_end=opportunity.contract_end,
                account_name=opportunity.account_name,
                data={},
            )
        self.log.info("{} renewals due between {} and {}", len(due), start, end)

    def _next_retry_in(self, exclude: set[int]) -> float | None:
        """Seconds until the next item waiting for a retry is due; None when nothing waits."""
        now = datetime.now(UTC)
        waits = [
            max(0.0, (i.next_attempt_at - now).total_seconds()) if i.next_attempt_at else 0.0
            for i in self._todo()
            if i.id not in exclude and i.claimed_by is None
        ]
        return min(waits) if waits else None

    def _one(self, worker: Worker, item: WorkItem) -> str:
        try:
            return self._attempt(worker, item)
        finally:
            self.store.release(item.id, worker=worker.name)  # no-op when already let go

    def _attempt(self, worker: Worker, item: WorkItem) -> str:
        log = self.log.bind(item=item.reference)
        try:
            worker.begin_item(item.reference)
            grace = self.options.reconcile_grace_s
            if grace is None:
                grace = self.settings.reconcile_grace_s
            ctx = StepContext(
                worker.bot, self.store, self.rules, self.run.id, worker.name, self.today, grace
            )
            if self.kind is RunKind.QUOTE:
                done: WorkItem | None = process_quote(ctx, item)
            else:
                done = process_booking(ctx, item)
            if done is not None and done.state is ItemState.FLAGGED:
                # The auditor deciding a flagged quote sees the portal page it was read from.
                self._keep_evidence(worker, item)
            else:
                self.evidence.discard_item(worker.context)
            if done is None:
                with self.lock:
                    self.left_alone.add(item.id)
                return "no_po_yet"
            return done.state.value
        except BusinessError as exc:
            self._keep_evidence(worker, item)
            self.store.fail(
                item.id,
                FailureKind.BUSINESS,
                exc.message,
                code=exc.code,
                run_id=self.run.id,
                worker=worker.name,
            )
            log.warning("to review: {}", exc)
            return "to_review"
        except SelectorDrift as drift:
            self._keep_evidence(worker, item)
            self.drift = drift
            return "drift"
        except ValidationError as exc:
            self._keep_evidence(worker, item)
            reason = f"the portal page held unexpected content: {first_line(exc)}"
            self.store.fail(
                item.id,
                FailureKind.BUSINESS,
                reason,
                code="unreadable_page",
                run_id=self.run.id,
                worker=worker.name,
            )
            return "to_review"
        except LeaseLost:
            log.warning("lease lost: another worker has the item")
            return "retry"
        except (PortalError, PlaywrightError, TimeoutError) as exc:
            return self._system_error(worker, item, exc)

    def _system_error(self, worker: Worker, item: WorkItem, exc: Exception) -> str:
        code = exc.code if isinstance(exc, PortalError) else "browser_error"
        reason = exc.message if isinstance(exc, PortalError) else first_line(exc)
        log = self.log.bind(item=item.reference)
        fresh = self.store.item(item.id)
        if fresh.attempts + 1 >= self.engagement.max_attempts:
            self._keep_evidence(worker, item)
            self.store.fail(
                item.id,
                FailureKind.SYSTEM,
                reason,
                code=code,
                run_id=self.run.id,
                worker=worker.name,
            )
            log.error("failed after {} attempts: {}", fresh.attempts + 1, reason)
            outcome = "failed"
        else:
            if worker.healthy():
                self.evidence.discard_item(worker.context)
            delay = min(60.0, self.options.backoff_s * 2**fresh.attempts)
            self.store.retry_later(
                item.id,
                code=code,
                reason=reason,
                delay=timedelta(seconds=delay),
                run_id=self.run.id,
                worker=worker.name,
            )
            log.info("retry in {:.0f}s: {}", delay, reason)
            outcome = "retry"
        if not worker.healthy():
            worker.close_browser()
        return outcome

    def _keep_evidence(self, worker: Worker, item: WorkItem) -> None:
        if not worker.healthy():
            return
        for kind, path in self.evidence.keep_item(worker.context, worker.page, item.id):
            self.store.add_evidence(item.id, kind, str(path), run_id=self.run.id)


def _with_retries(read: Callable[[], list[T]], log: Logger, attempts: int = 3) -> list[T]:
    for attempt in range(attempts):
        try:
            return read()
        except PortalError as exc:
            if attempt == attempts - 1:
                raise
            log.info("retrying the renewal list: {}", exc.message)
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _release_dead_local(store: Store, engagement: str) -> None:
    """Runs and items held by a process of this machine that no longer exists are let go.

    Heartbeats and leases free them anyway after a while; this is what makes a restart
    after a crash or a kill continue at once.
    """
    for run in store.runs(engagement, status=RunStatus.RUNNING):
        if _dead_local(run.worker):
            store.finish_run(
                run.id, RunStatus.ABANDONED, run.counts, error=f"its process ({run.worker}) is gone"
            )
    for item in store.items(engagement):
        if item.claimed_by and _dead_local(item.claimed_by):
            store.release(item.id, worker=item.claimed_by)


def _dead_local(worker: str) -> bool:
    host, _, rest = worker.partition(":")
    pid = rest.split(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Heartbeat(threading.Thread):
    def __init__(self, store: Store, run_id: int) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.store = store
        self.run_id = run_id
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(HEARTBEAT_S):
            try:
                self.store.heartbeat(self.run_id)
            except Exception as exc:  # noqa: BLE001 - a missed beat is not fatal
                logger.bind(run=self.run_id).warning("heartbeat failed: {}", exc)

    def stop(self) -> None:
        self._stop_event.set()
