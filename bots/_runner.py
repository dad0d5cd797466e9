"""A run of one engagement: discover the due renewals, then N workers work the items.

One item never fails a run: business errors send it to review, system errors are retried
with backoff and then fail the item. Selector drift stops the run for the engagement,
because every further item would meet the same broken page; a portal that refuses the bot
user stops it too, before any item is touched. What an exception means is decided by
`bots._outcomes`, never here.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from loguru import logger
from tqdm import tqdm

from bots._attempt import Attempt, Kit
from bots._errors import EngagementRefused, SelectorDrift
from bots._outcomes import AttemptEnd, Outcome, failure
from bots._repair import open_ticket
from bots._steps import (
    BOOKING_STATES,
    QUOTE_STATES,
    record_discovery,
)
from bots._worker import BrowserWorker
from schemas.engagement import Engagement
from schemas.settings import Settings
from schemas.work import (
    IntentStatus,
    Run,
    RunKind,
    RunStatus,
    WorkItem,
)
from store import Store

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
    backoff_s: float | None = None
    """First retry after this, doubling per attempt; default: `Settings.backoff`."""
    reconcile_grace_s: float | None = None
    """Default: the setting `QUOTEBOT_RECONCILE_GRACE_S`."""
    stop: threading.Event = field(default_factory=threading.Event)
    """Set it (e.g. on SIGTERM) to stop after the items in hand."""


@dataclass
class RunResult:
    run: Run
    counts: Counter[str]
    drift: SelectorDrift | None = None
    refused: EngagementRefused | None = None
    """The portal refused the bot user (or its credentials are missing): no item touched."""


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
    refused: EngagementRefused | None = None
    try:
        kit = Kit.load(engagement, settings, first_wait_s=options.backoff_s)
        counts, drift, refused = _Pool(kit, kind, store, options, today, run).work()
    except EngagementRefused as exc:
        refused = exc
    except BaseException as exc:
        beat.stop()
        reason = failure(exc).reason
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=reason)
        log.error("run failed: {}", reason)
        raise
    beat.stop()
    if refused is not None:
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=refused.message)
        log.error(
            "run stopped, the portal refuses the bot user: {} ({})", refused.message, refused.code
        )
    elif drift is not None:
        open_ticket(store, run.id, engagement, drift)  # a drift ticket, for a person to approve
        run = store.finish_run(run.id, RunStatus.FAILED, counts, error=str(drift))
        log.error("{}", drift)
    else:
        run = store.finish_run(run.id, RunStatus.SUCCEEDED, counts)
        log.info("run finished: {}", dict(counts))
    return RunResult(run, counts, drift, refused)


class _Pool:
    """The workers of one run, and what they share: the item queue's end and the verdict."""

    def __init__(
        self, kit: Kit, kind: RunKind, store: Store, options: RunOptions, today: date, run: Run
    ) -> None:
        self.kit = kit
        self.engagement = kit.engagement
        self.kind = kind
        self.store = store
        self.options = options
        self.today = today
        self.run = run
        self.states = QUOTE_STATES if kind is RunKind.QUOTE else BOOKING_STATES
        self.left_alone: set[int] = set()
        self.lock = threading.Lock()
        self.discovered = threading.Event()
        self.drift: SelectorDrift | None = None
        self.refused: EngagementRefused | None = None
        self.errors: list[BaseException] = []
        self.counts: Counter[str] = Counter()
        self.bar: tqdm[None] | None = None
        self.log = logger.bind(engagement=self.engagement.name, run=run.id)

    def work(self) -> tuple[Counter[str], SelectorDrift | None, EngagementRefused | None]:
        """Run the workers on a thread pool and wait for them all; each outcome is counted
        (and shown) by the thread that had it, as it happens."""
        n = self.options.workers or self.engagement.workers
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="worker") as pool:
            workers = [pool.submit(self._guarded, i) for i in range(n)]
            try:
                self._show_progress(workers)
            except BaseException:
                self.options.stop.set()  # interrupted: each worker finishes its item in hand
                raise
        if self.errors:
            raise self.errors[0]
        return self.counts, self.drift, self.refused

    def _show_progress(self, workers: list[Future[None]]) -> None:
        self.discovered.wait()
        with tqdm(
            total=len(self._todo()),
            desc=f"{self.engagement.name} {self.kind.value}",
            unit="item",
            disable=not self.options.progress,
            dynamic_ncols=True,
        ) as bar:
            self.bar = bar
            wait(workers)

    def _count(self, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1
            if self.bar is not None and outcome not in (AttemptEnd.RETRY, AttemptEnd.REFUSED):
                self.bar.update(1)
                shown = {k: v for k, v in self.counts.items() if k != AttemptEnd.RETRY}
                self.bar.set_postfix(shown)

    def _todo(self) -> list[WorkItem]:
        items = [i for s in self.states for i in self.store.items(self.engagement.name, state=s)]
        return [i for i in items if i.id not in self.left_alone]

    def _guarded(self, index: int) -> None:
        try:
            self._worker(index)
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            outcome = failure(exc).outcome
            if outcome is Outcome.ENGAGEMENT:
                assert isinstance(exc, EngagementRefused)
                self.refused = exc
            elif outcome is Outcome.DRIFT:
                assert isinstance(exc, SelectorDrift)
                self.drift = exc
            else:
                self.log.exception("worker {} stopped", index)
                self.errors.append(exc)
                self.options.stop.set()
        except BaseException as exc:
            self.errors.append(exc)
            self.options.stop.set()
        finally:
            if index == 0:
                self.discovered.set()

    def _worker(self, index: int) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}:w{index}"
        with BrowserWorker(name, self.kit) as worker:
            self._log_in(worker)
            if index == 0:
                if self.kind is RunKind.QUOTE:
                    self._discover(worker)
                self.discovered.set()
            self.discovered.wait()
            while not self._stopping():
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
                self._count(outcome)
                if outcome == AttemptEnd.RETRY and self.options.stop.is_set():
                    self._settle(worker, item.id)

    def _settle(self, worker: BrowserWorker, item_id: int) -> None:
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
            self._count(self._one(worker, claimed))

    def _stopping(self) -> bool:
        return self.options.stop.is_set() or self.drift is not None or self.refused is not None

    def _log_in(self, worker: BrowserWorker) -> None:
        """Every worker logs in before it claims an item, in parallel with worker 0's listing:
        a portal refusing the bot user stops the run here, with no item touched. Any other
        failure is left to the first item, which meets it again and handles it like any
        other."""
        try:
            worker.bot  # noqa: B018 - opens the browser and logs in
        except Exception as exc:
            if failure(exc).outcome is Outcome.ENGAGEMENT:
                raise
            self.log.debug("{}: log-in before the first item failed: {}", worker.name, exc)
            worker.close_browser()

    def _discover(self, worker: BrowserWorker) -> None:
        """List the renewals due in the window and make sure each has a work item.

        Each page of the list is retried in place; a listing that fails all the same (a
        system failure) is attempted again with the items' backoff, up to the engagement's
        attempts, as the fleet's queue does with its discovery job."""
        window = self.engagement.window
        start = self.today + timedelta(days=window.days_from)
        end = self.today + timedelta(days=window.days_to)
        ahead = self.today + timedelta(
            days=max(window.days_to, self.engagement.forecast.read_ahead_days)
        )
        attempt = 0
        while True:
            try:
                due = worker.bot.due_opportunities(min(start, self.today), ahead)
                break
            except Exception as exc:
                attempt += 1
                decision = self.kit.decide(exc, attempt)
                if decision.retry_in_s is None:
                    raise
                self.log.info(
                    "listing the renewals failed, again in {:.0f}s: {}",
                    decision.retry_in_s,
                    decision.failure.reason,
                )
                if not worker.healthy():
                    worker.close_browser()
                time.sleep(decision.retry_in_s)
        in_window = record_discovery(self.store, self.engagement, due, self.today)
        self.log.info(
            "{} renewals due between {} and {} ({} read ahead to {})",
            len(in_window),
            start,
            end,
            len(due),
            ahead,
        )

    def _next_retry_in(self, exclude: set[int]) -> float | None:
        """Seconds until the next item waiting for a retry is due; None when nothing waits."""
        now = datetime.now(UTC)
        waits = [
            max(0.0, (i.next_attempt_at - now).total_seconds()) if i.next_attempt_at else 0.0
            for i in self._todo()
            if i.id not in exclude and i.claimed_by is None
        ]
        return min(waits) if waits else None

    def _one(self, worker: BrowserWorker, item: WorkItem) -> str:
        """One attempt at the item; the pool acts only on what stops the run, the attempt has
        recorded the rest (the item's retry or failure) through the store."""
        attempt = Attempt(
            self.kit,
            worker,
            self.store,
            self.run.id,
            self.kind,
            item,
            self.today,
            grace_s=self.options.reconcile_grace_s,
        )
        try:
            ending = attempt.run()
        finally:
            self.store.release(item.id, worker=worker.name)  # no-op when already let go
        if ending.key == AttemptEnd.NO_PO_YET:
            with self.lock:
                self.left_alone.add(item.id)
        if ending.stops_run:
            if isinstance(ending.error, SelectorDrift):
                self.drift = ending.error
            elif isinstance(ending.error, EngagementRefused):
                self.refused = ending.error  # the item is let go untouched
        return ending.key


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
