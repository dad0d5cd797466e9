"""The fleet: work items as procrastinate jobs, worked by `quotebot worker` processes.

A run defers one discovery job; it lists the due renewals and defers one job per work item
(a queueing lock per item, a per-item lock, priority by days left to the 120-day line).
Item jobs run the same step functions as the in-process pool; the intents and the
look-up-before-create stay the exactly-once guarantee, because no queue delivers exactly
once. A finishing job closes the run when every item job has ended.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loguru import logger
from procrastinate import App, Blueprint, JobContext, RetryDecision
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Job
from procrastinate.retry import BaseRetryStrategy

from bots._attempt import RetryLater
from bots._fleet_process import FleetProcess
from bots._outcomes import AttemptEnd, decide
from bots._steps import BOOKING_STATES, QUOTE_STATES
from schemas.engagement import Engagement
from schemas.settings import Settings
from schemas.work import Run, RunKind, RunStatus, run_count_key
from store import RunAlreadyRunning, RunNotRunning, Store

DEADLINE_DAYS = 120
"""Renewals are to be quoted at least this many days before the contract ends."""


class _RunNotDone(Exception):
    """Raised by the finishing job while item jobs of its run are still waiting or running."""


class _Strategy(BaseRetryStrategy):
    """The queue's side of `bots._outcomes.decide`: a job whose attempt ended with a decision
    to try again (`RetryLater`, raised by an item or discovery job) is tried again after
    that decision's wait, as it is; the finishing job: again every second until its run's
    items have ended. Anything else is not retried: the attempt already recorded its end."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, _RunNotDone):
            return RetryDecision(retry_in={"seconds": 1})
        if isinstance(exception, RetryLater) and exception.decision.retry_in_s is not None:
            wait = timedelta(seconds=exception.decision.retry_in_s)
            return RetryDecision(retry_at=datetime.now(UTC) + wait)
        return None


_RETRY = _Strategy()
"""The one retry strategy of the fleet's tasks."""

tasks = Blueprint()


def _fleet(context: JobContext) -> FleetProcess:
    fleet = context.additional_context["fleet"]
    assert isinstance(fleet, FleetProcess)
    return fleet


@tasks.task(name="discover", pass_context=True, retry=_RETRY)
async def discover(
    context: JobContext, *, engagement: str, kind: str, run_id: int, today: str
) -> int:
    """List the due renewals (or the verified quotes, for booking) and defer their jobs."""
    fleet = _fleet(context)
    eng = fleet.engagements[engagement]
    try:
        found: list[dict[str, Any]] = await fleet.in_slot("discover", engagement, kind, today)
    except Exception as exc:
        attempts = context.job.attempts + 1
        decision = decide(exc, attempts, eng.max_attempts, fleet.settings.backoff)
        if not decision.gives_up:
            logger.bind(engagement=engagement, run=run_id).info(
                "listing the renewals failed, again in {:.0f} s: {}",
                decision.retry_in_s,
                decision.failure.reason,
            )
            raise RetryLater(decision) from exc  # the queue waits as decided, then lists again
        reason = decision.failure.reason
        try:
            fleet.store.finish_run(run_id, RunStatus.FAILED, {}, error=reason)
        except RunNotRunning:
            pass
        logger.bind(engagement=engagement, run=run_id).error("run stopped: {}", reason)
        return 0
    app = context.app
    assert app is not None
    deferred = 0
    for item in found:
        job = {
            "engagement": engagement,
            "kind": kind,
            "run_id": run_id,
            "item_id": item["id"],
            "today": today,
            "max_attempts": eng.max_attempts,
        }
        queueing_lock = f"{kind}:{engagement}:{item['opportunity_id']}"
        task = app.configure_task(
            "quotebot:work_item",
            queue=engagement,
            lock=f"item:{engagement}:{item['opportunity_id']}",
            queueing_lock=queueing_lock,
            priority=_priority(item["contract_end"], date.fromisoformat(today)),
        )
        try:
            await task.defer_async(**job)
        except AlreadyEnqueued:
            # A job of the item waits already. One of an ended run would only see its run
            # ended and leave the item unworked: it makes way for this run's.
            if not await _make_way(app, fleet.store, queueing_lock, run_id):
                continue  # one of a run still going: the item is worked once, by it
            await task.defer_async(**job)
        deferred += 1
    await app.configure_task(
        "quotebot:finish_run", queue=engagement, schedule_in={"seconds": 1}
    ).defer_async(run_id=run_id)
    logger.bind(engagement=engagement, run=run_id).info("{} item jobs deferred", deferred)
    return deferred


async def _make_way(app: App, store: Store, queueing_lock: str, run_id: int) -> bool:
    """Cancel the waiting item job holding `queueing_lock` when its run has ended (a stopped
    or abandoned run's job, still queued as the next run starts); True when it is gone."""
    cancelled = False
    for job in await app.job_manager.list_jobs_async(queueing_lock=queueing_lock, status="todo"):
        old_run = int(job.task_kwargs["run_id"])  # type: ignore[arg-type]
        if old_run == run_id:
            continue
        run = await asyncio.to_thread(store.run, old_run)
        if run.status is RunStatus.RUNNING or job.id is None:
            continue
        cancelled |= await app.job_manager.cancel_job_by_id_async(job.id)
    return cancelled


def _priority(contract_end: str | None, today: date) -> int:
    """Fewer days left before the 120-day line: higher priority (procrastinate takes the
    highest first)."""
    if contract_end is None:
        return -10_000
    days_left = (date.fromisoformat(contract_end) - timedelta(days=DEADLINE_DAYS) - today).days
    return -days_left


@tasks.task(name="work_item", pass_context=True, retry=_RETRY)
async def work_item(
    context: JobContext,
    *,
    engagement: str,
    kind: str,
    run_id: int,
    item_id: int,
    today: str,
    max_attempts: int,
) -> str:
    """One work item through the step functions, in a slot of this worker process."""
    fleet = _fleet(context)
    # `max_attempts` came with the job; the engagement's own decides (`Kit.decide`).
    attempt = context.job.attempts + 1
    outcome: str = await fleet.in_slot(
        "work", engagement, RunKind(kind), run_id, item_id, date.fromisoformat(today), attempt
    )
    fleet.counts[outcome] += 1
    return outcome


@tasks.task(name="finish_run", pass_context=True, retry=_RETRY)
def finish_run(context: JobContext, *, run_id: int) -> str:
    """Close a run once every item job of it has ended; its counts are its items' ends."""
    store = _fleet(context).store
    run = store.run(run_id)
    if run.status is not RunStatus.RUNNING:
        return run.status.value
    jobs = store.run_jobs(run_id)
    if any(job["status"] in ("todo", "doing") for job in jobs):
        try:
            store.heartbeat(run_id)
        except RunNotRunning:
            return "ended elsewhere"
        raise _RunNotDone(run_id)
    return close_run(store, run, jobs).status.value


def close_run(store: Store, run: Run, jobs: list[dict[str, Any]]) -> Run:
    states = QUOTE_STATES if run.kind is RunKind.QUOTE else BOOKING_STATES
    counts: Counter[str] = Counter()
    for job in jobs:
        item = store.item(job["item_id"])
        counts[
            AttemptEnd.LEFT_OPEN
            if item.state in states
            else run_count_key(item.state, item.failure_kind)
        ] += 1
    error = run.error
    status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
    return store.finish_run(run.id, status, counts, error=error)


def start_fleet_run(
    store: Store,
    app: App,
    engagement: Engagement,
    kind: RunKind | str,
    today: date,
    settings: Settings,
) -> Run:
    """Begin a run of the fleet: the run record, and its discovery job."""
    run = _begin_run(store, engagement, RunKind(kind), settings)
    app.configure_task("quotebot:discover", queue=engagement.name).defer(
        engagement=engagement.name, kind=run.kind.value, run_id=run.id, today=today.isoformat()
    )
    return run


def _begin_run(store: Store, engagement: Engagement, kind: RunKind, settings: Settings) -> Run:
    """The run record; `RunAlreadyRunning` while the engagement has one in progress."""
    store.ensure_engagement(engagement.name, engagement.flavour, engagement.url)
    silent = timedelta(seconds=settings.fleet_timings.run_abandoned_after_s)
    store.abandon_stale_runs(silent)
    return store.start_run(engagement.name, kind, worker="fleet")


def defer_scheduled_run(
    store: Store, engagement: Engagement, kind: RunKind | str, fire_time: datetime, today: date
) -> int | None:
    """Hand a schedule's fire time to the fleet; None when another scheduler already did.

    procrastinate's periodic-defer table is unique per task, key and timestamp: however
    many schedulers fire, one job per fire time, and so one run.
    """
    kind = RunKind(kind)
    stamp = int(fire_time.timestamp())
    job = Job(
        queue=engagement.name,
        lock=None,
        queueing_lock=None,
        task_name="quotebot:scheduled_run",
        task_kwargs={
            "timestamp": stamp,
            "engagement": engagement.name,
            "kind": kind.value,
            "today": today.isoformat(),
        },
    )
    app = store.task_queue(tasks)

    async def defer() -> int | None:
        async with app.open_async():
            key = f"{engagement.name}:{kind.value}"
            return await app.job_manager.defer_periodic_job(job, key, stamp)

    return asyncio.run(defer())


@tasks.task(name="scheduled_run", pass_context=True)
async def scheduled_run(
    context: JobContext, *, timestamp: int, engagement: str, kind: str, today: str
) -> int | None:
    """A schedule's fire time: the run record and its discovery job (none while the
    engagement's previous run is still going, as in-process: `max_instances=1`)."""
    fleet = _fleet(context)
    log = logger.bind(engagement=engagement, kind=kind)
    try:
        run = await asyncio.to_thread(
            _begin_run, fleet.store, fleet.engagements[engagement], RunKind(kind), fleet.settings
        )
    except RunAlreadyRunning as exc:
        log.warning("scheduled {} run of {} not started: {}", kind, timestamp, exc)
        return None
    assert context.app is not None
    await context.app.configure_task("quotebot:discover", queue=engagement).defer_async(
        engagement=engagement, kind=kind, run_id=run.id, today=today
    )
    return run.id


async def rescue_stalled(app: App, store: Store, every_s: float, timeout_s: float) -> None:
    """Jobs of workers whose heartbeat stopped (killed, machine gone) go back to the queue;
    the intents then decide whether the portal already has what they were entering.

    The queue's own heartbeat stops as a worker begins to shut down, while it still
    finishes the items in hand: an item that a worker alive by its own heartbeat (the
    store's `fleet_workers`) holds is never taken from it."""
    while True:
        await asyncio.sleep(every_s)
        stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=timeout_s)
        if not stalled:
            continue
        held = await asyncio.to_thread(_held_by_live_workers, store, timeout_s)
        for job in stalled:
            item_id = job.task_kwargs.get("item_id")
            if item_id in held:
                continue
            logger.bind(item=item_id).warning(
                "job {} of a dead worker goes back to the queue", job.id
            )
            await app.job_manager.retry_job(job, retry_at=datetime.now(UTC))


def _held_by_live_workers(store: Store, timeout_s: float) -> set[object]:
    now = store.now()
    return {
        hand.item_id
        for worker in store.fleet_workers()
        if worker.alive(now, timeout_s)
        for hand in worker.in_hand
    }


def run_worker(
    fleet: FleetProcess, *, queues: list[str] | None = None, until_idle: bool = False
) -> None:
    """Work the fleet's jobs (of `queues`, one per engagement; default all) until SIGTERM or
    SIGINT, which finish the items in hand first; with `until_idle`, until none is left."""
    app = fleet.store.task_queue(tasks)
    asyncio.run(_serve(fleet, app, queues, until_idle))


async def _serve(fleet: FleetProcess, app: App, queues: list[str] | None, until_idle: bool) -> None:
    async with app.open_async():
        slots = fleet.open_slots()
        timings = fleet.settings.fleet_timings
        await asyncio.to_thread(fleet.register)
        beating = asyncio.create_task(fleet.beat(timings.heartbeat_s))
        rescue = asyncio.create_task(
            rescue_stalled(app, fleet.store, timings.heartbeat_s, timings.stalled_after_s)
        )
        signing_out = asyncio.create_task(fleet.sign_out_idle(slots, timings.idle_sign_out_s))
        try:
            await app.run_worker_async(
                queues=queues,  # type: ignore[arg-type]  # None: every queue
                concurrency=fleet.slots,
                name=fleet.name,
                wait=not until_idle,
                additional_context={"fleet": fleet},
                update_heartbeat_interval=timings.heartbeat_s,
                fetch_job_polling_interval=timings.poll_s,
                stalled_worker_timeout=timings.stalled_after_s,
                install_signal_handlers=True,
            )
        finally:
            beating.cancel()
            rescue.cancel()
            signing_out.cancel()
            for slot in slots:
                await asyncio.to_thread(slot.close)
            await asyncio.to_thread(fleet.store.unregister_worker, fleet.name)


from bots import _fleet_alerts  # noqa: E402, F401  (the alerts' periodic task, on `tasks`)
