"""Runs engagements on their schedules (APScheduler 3, persistent job store).

One job per engagement and kind (`quote:acme`, `booking:acme`), kept in the
`apscheduler_jobs` table of quotebot's own database: jobs, pauses and next run times
survive a restart. Missed run times are coalesced into one run when the scheduler comes
back within the grace time. An engagement never has two runs at once: `max_instances=1`
in this process and the store's one-running-run rule across processes. A job's failure is
recorded on its run and logged; the scheduler carries on. SIGTERM stops every run after
the item in hand, never in the middle of a submission.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from loguru import logger

import audit.schedule
from alerts import Alerting, reachable
from audit.schedule import cron_trigger
from schemas.engagement import Engagement, EngagementError
from schemas.errors import first_line
from schemas.settings import Settings
from schemas.work import RunKind, RunStatus
from store import RunAlreadyRunning, Store, open_store

GRACE_S = 15 * 60
"""A run time missed by up to this much (scheduler down) still runs, once, on restart."""
POLL_S = 5.0
"""How often a running scheduler looks for jobs other processes added, paused or ran now."""
JOB_FUNCTION = "scheduler:run_job"
CHECK_FUNCTION = "scheduler:run_check"
CHECK = "check"
"""The kind of the morning canary's job (`check:acme`): a selector check, not a run."""

STOP = threading.Event()
"""Set by `stop_runs()` (on SIGTERM): no run of this process starts any more."""

# One stop event per run in progress: a run's own workers set theirs when they give up,
# which must not stop the runs of other engagements.
_running: set[threading.Event] = set()
_running_lock = threading.Lock()

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()
_settings: Settings | None = None
"""This process's settings, given once by the entry point to `make_scheduler`: the jobs
that run here (APScheduler calls `run_job` by name) take them from here."""


def job_id(engagement: str, kind: RunKind | str) -> str:
    """The id of an engagement's scheduled runs of one kind (`quote:acme`)."""
    return f"{RunKind(kind).value}:{engagement}"


def load_engagements(path: Path) -> list[Engagement]:
    """The engagements file, every part checked, every schedule's values too
    (`audit.schedule.load_checked`): a bad one names the file, line and key."""
    return audit.schedule.load_checked(path)


def process_store(settings: Settings) -> Store:
    """This process's one store (the jobs run in threads and share it)."""
    url = settings.effective_database_url
    with _stores_lock:
        if url not in _stores:
            _stores[url] = open_store(url)
        return _stores[url]


def make_scheduler(
    settings: Settings, *, threads: int = 4, grace_s: float = GRACE_S
) -> BackgroundScheduler:
    """A scheduler whose jobs live in the store's database, and run here; not started."""
    global _settings
    _settings = settings
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.configure(**_config(process_store(settings), threads=threads, grace_s=grace_s))
    return scheduler


def _config(store: Store, *, threads: int, grace_s: float) -> dict[str, Any]:
    return {
        "jobstores": {"default": store.scheduler_jobstore(), "memory": MemoryJobStore()},
        "executors": {"default": ThreadPoolExecutor(threads)},
        "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": int(grace_s)},
    }


class _Editor(BaseScheduler):
    """A scheduler that never runs anything: it only reads and writes the job store."""

    def wakeup(self) -> None:
        pass  # no loop to wake: a running scheduler elsewhere sees the changes when it polls

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


@contextmanager
def job_editor(settings: Settings) -> Iterator[BaseScheduler]:
    """The job store, to list and change jobs from the command line or another process."""
    editor = _Editor(timezone=UTC)
    editor.configure(**_config(process_store(settings), threads=1, grace_s=GRACE_S))
    editor.start(paused=True)
    try:
        yield editor
    finally:
        editor.shutdown(wait=False)


def schedule_engagement(
    scheduler: BaseScheduler,
    engagement: Engagement,
    engagements_path: Path,
    store: Store,
    kinds: tuple[str, ...] | None = None,
    **job_kwargs: object,
) -> list[Job]:
    """Add (or bring up to date) the engagement's jobs from its schedules; pauses are kept.

    A job's arguments are its engagement, run kind and engagements file, in that order
    (`store.scheduled_runs()` reads the first two).
    """
    # Registered now, so that a run that cannot even begin can be recorded as failed.
    store.ensure_engagement(engagement.name, engagement.flavour, engagement.url)
    jobs = []
    for kind in kinds or tuple(k.value for k in RunKind):
        ident = job_id(engagement.name, kind)
        existing = scheduler.get_job(ident, jobstore="default")
        cron = getattr(engagement.schedules, kind)
        if cron is None:
            if existing is not None:
                existing.remove()
            continue
        job = scheduler.add_job(
            JOB_FUNCTION,
            cron_trigger(cron, engagement.timezone),
            id=ident,
            name=f"{engagement.name} {kind}",
            jobstore="default",
            replace_existing=True,
            args=[engagement.name, kind, str(Path(engagements_path).resolve())],
            kwargs=job_kwargs,
        )
        if existing is not None and existing.next_run_time is None:
            scheduler.pause_job(ident, jobstore="default")
        jobs.append(scheduler.get_job(ident, jobstore="default") or job)
    ident = f"{CHECK}:{engagement.name}"
    if engagement.schedules.check is None:
        if scheduler.get_job(ident, jobstore="default") is not None:
            scheduler.remove_job(ident, jobstore="default")
        return jobs
    jobs.append(
        scheduler.add_job(
            CHECK_FUNCTION,
            cron_trigger(engagement.schedules.check, engagement.timezone),
            id=ident,
            name=f"{engagement.name} {CHECK}",
            jobstore="default",
            replace_existing=True,
            args=[engagement.name, CHECK, str(Path(engagements_path).resolve())],
        )
    )
    return jobs


def run_check(engagement_name: str, kind: str, engagements_path: str) -> None:
    """The morning canary: a read-only selector check whose drift the alert rules raise
    before the day's runs. Never raises: the outcome is in the store and the log."""
    from bots import check_selectors

    log = logger.bind(engagement=engagement_name, kind=kind)
    if _settings is None:
        raise RuntimeError("run_check runs in a scheduler made by make_scheduler(settings)")
    store = process_store(_settings)
    try:
        found = {e.name: e for e in load_engagements(Path(engagements_path))}
        if engagement_name not in found:
            raise EngagementError(Path(engagements_path), "engagements", f"no '{engagement_name}'")
        report = check_selectors(found[engagement_name], _settings, date.today(), tickets=store)
    except Exception as exc:  # noqa: BLE001 - recorded; the scheduler carries on
        store.record_selector_check(engagement_name, [], error=first_line(exc))
        log.warning("selector check could not look: {}", first_line(exc))
        return
    drifts = [str(d) for d in report.drifts]
    store.record_selector_check(engagement_name, drifts)
    log.info("selector check: {} of {} selectors match nothing", len(drifts), report.selectors)


def run_job(
    engagement_name: str,
    kind: str,
    engagements_path: str,
    *,
    today: str | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> None:
    """One scheduled run. Never raises: the outcome is on the run row and in the log."""
    from bots import RunOptions, run_engagement

    log = logger.bind(engagement=engagement_name, kind=kind)
    if STOP.is_set():
        log.info("stopping: {} run not started", kind)
        return
    if _settings is None:
        raise RuntimeError("run_job runs in a scheduler made by make_scheduler(settings)")
    settings = _settings
    store = process_store(settings)
    try:
        found = {e.name: e for e in load_engagements(Path(engagements_path))}
        if engagement_name not in found:
            raise EngagementError(Path(engagements_path), "engagements", f"no '{engagement_name}'")
    except EngagementError as exc:
        _record_failure(store, engagement_name, kind, str(exc))
        return
    if settings.fleet:
        _defer_to_fleet(store, found[engagement_name], kind, today)
        return
    options = RunOptions(
        workers=workers, progress=progress, today=date.fromisoformat(today) if today else None
    )
    with _running_lock:
        if STOP.is_set():
            return
        _running.add(options.stop)
    try:
        result = run_engagement(
            found[engagement_name], kind, store, settings=settings, options=options
        )
    except RunAlreadyRunning as exc:
        log.warning("{} run not started: {}", kind, exc)
        return
    except Exception as exc:  # noqa: BLE001 - already on the run row; keep the scheduler up
        log.error("{} run failed: {}", kind, first_line(exc))
        return
    finally:
        with _running_lock:
            _running.discard(options.stop)
    log.info("{} run {} {}: {}", kind, result.run.id, result.run.status.value, dict(result.counts))


def _defer_to_fleet(store: Store, engagement: Engagement, kind: str, today: str | None) -> None:
    """The fleet runs it; two schedulers firing the same time make one run."""
    from bots import defer_scheduled_run

    log = logger.bind(engagement=engagement.name, kind=kind)
    fire = last_fire_time(engagement, RunKind(kind), datetime.now(UTC))
    day = date.fromisoformat(today) if today else fire.date()
    job = defer_scheduled_run(store, engagement, kind, fire, day)
    if job is None:
        log.info("{} run of {} already handed to the fleet", kind, fire.isoformat())
    else:
        log.info("{} run of {} handed to the fleet as job {}", kind, fire.isoformat(), job)


def last_fire_time(engagement: Engagement, kind: RunKind, now: datetime) -> datetime:
    """The schedule's latest fire time at or before `now` (what a coalesced run is for)."""
    cron = getattr(engagement.schedules, kind.value)
    trigger = cron_trigger(cron, engagement.timezone)
    last = fire = trigger.get_next_fire_time(None, now - timedelta(seconds=GRACE_S))
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return last or now


def stop_runs() -> None:
    """Stop every run of this process after the items in hand; start no more."""
    with _running_lock:
        STOP.set()
        for stop in _running:
            stop.set()


def _record_failure(store: Store, engagement: str, kind: str, error: str) -> None:
    """A run that could not begin (bad engagements file) still shows up as a failed run."""
    logger.bind(engagement=engagement, kind=kind).error("{} run not possible: {}", kind, error)
    if engagement not in {e.name for e in store.engagements()}:
        return
    try:
        run = store.start_run(engagement, RunKind(kind))
    except RunAlreadyRunning:
        return
    store.finish_run(run.id, RunStatus.FAILED, {}, error=error)


def serve(
    engagements_path: Path,
    settings: Settings,
    *,
    grace_s: float = GRACE_S,
    poll_s: float = POLL_S,
    threads: int = 4,
    announce: Callable[[str], object] = logger.info,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
) -> None:
    """Run the scheduled jobs until SIGTERM or SIGINT, then stop after the items in hand;
    with `metrics_port`, Prometheus metrics there (`bots.MetricsPortTaken` if it is taken)."""
    engagements = load_engagements(engagements_path)  # a bad file stops us before anything
    alerting = Alerting(process_store(settings), settings)  # so does a bad alerts setting
    reachable(settings.alerts)  # and a mail server that does not answer
    scheduler = make_scheduler(settings, threads=threads, grace_s=grace_s)
    # Wakes the scheduler so that it sees jobs other processes added, paused or ran now,
    # and applies what operations asked for on the web pages.
    controls = Controls(
        scheduler, process_store(settings), grace_s=grace_s, engagements_path=engagements_path
    )
    scheduler.add_job(
        controls.apply,
        "interval",
        seconds=poll_s,
        id="poll",
        jobstore="memory",
        misfire_grace_time=None,
    )
    scheduler.add_job(
        evaluate_alerts,
        "interval",
        args=[alerting],
        seconds=settings.alerts.evaluate_every_s,
        id="alerts",
        jobstore="memory",
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    if metrics_port is not None:
        from bots import Metrics

        names = [e.name for e in engagements]
        metrics = Metrics(controls.store, names, heartbeat_age=controls.beat_age)
        metrics.serve(metrics_port, metrics_host)
    quit_now = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.warning("{}: stopping after the items in hand", signal.Signals(signum).name)
        quit_now.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _report_missed(settings, grace_s, announce)
    scheduler.start()
    for job in scheduler.get_jobs(jobstore="default"):
        announce(f"{job.id}: next run {when(job)}")
    quit_now.wait()
    stop_runs()
    scheduler.shutdown(wait=True)
    announce("scheduler stopped")


def evaluate_alerts(alerting: Alerting) -> None:
    """The alert rules over the store's state, and the outbox sent; never raises (the next
    evaluation tries again, and the notices wait in the outbox)."""
    try:
        alerting.evaluate()
    except Exception as exc:  # noqa: BLE001 - keep the scheduler up
        logger.warning("alerts not evaluated: {}", first_line(exc))


def _report_missed(settings: Settings, grace_s: float, announce: Callable[[str], object]) -> None:
    """Say which run times passed while no scheduler ran, and what happens to them."""
    now = datetime.now(UTC)
    with job_editor(settings) as editor:
        for job in editor.get_jobs(jobstore="default"):
            missed, when, last = 0, job.next_run_time, None
            while when is not None and when <= now and missed < 10_000:
                missed, last = missed + 1, when
                when = job.trigger.get_next_fire_time(when, now)
            if last is None:
                continue
            # Coalesced: one run for the latest missed time, if it is within the grace time.
            on_time = (now - last).total_seconds() <= grace_s
            verdict = "they run once now (coalesced)" if on_time else "too late: skipped"
            announce(f"{job.id}: {missed} run time(s) missed while stopped; {verdict}")


class Controls:
    """Operations' pause, resume and run-now from the web pages (`store.schedule_controls()`)
    and `quotebot schedule`, applied to the job store: each change once, in order."""

    def __init__(
        self,
        scheduler: BaseScheduler,
        store: Store,
        *,
        grace_s: float,
        engagements_path: Path | None = None,
    ) -> None:
        self.scheduler, self.store, self.grace_s = scheduler, store, grace_s
        self.engagements_path = engagements_path
        """With it, a changed control first brings its schedule up to date from the file
        (a schedule added or edited on the web pages is in the file, and starts here)."""
        self.seen: datetime | None = None
        self.beat_at: float | None = None

    def beat_age(self) -> float | None:
        """Seconds since this scheduler's heartbeat was last written (None: not yet)."""
        return None if self.beat_at is None else time.monotonic() - self.beat_at

    def apply(self) -> None:
        now = datetime.now(UTC)
        try:
            # The heartbeat the schedule page reads: a scheduler is alive to honour run-now.
            self.store.scheduler_beat(f"{socket.gethostname()}:{os.getpid()}")
            self.beat_at = time.monotonic()
            controls = self.store.schedule_controls()
        except Exception as exc:  # noqa: BLE001 - the next poll tries again
            logger.warning("schedule controls unreadable: {}", first_line(exc))
            return
        # A run asked for while no scheduler ran still starts, within the grace time.
        since = self.seen or now - timedelta(seconds=self.grace_s)
        for control in controls:
            if self.seen is not None and control.changed_at <= self.seen:
                continue
            ident = job_id(control.engagement, control.kind)
            _sync_from_file(self, control.engagement, control.kind)
            job = self.scheduler.get_job(ident, jobstore="default")
            if job is None:
                continue
            if control.paused and job.next_run_time is not None:
                self.scheduler.pause_job(ident, jobstore="default")
            elif not control.paused and job.next_run_time is None:
                self.scheduler.resume_job(ident, jobstore="default")
            asked = control.run_requested_at
            if not control.paused and asked is not None and asked > since:
                self.scheduler.modify_job(ident, jobstore="default", next_run_time=now)
            logger.bind(engagement=control.engagement, kind=control.kind).info(
                "{} by {}", "paused" if control.paused else "scheduled", control.changed_by
            )
        self.seen = max([c.changed_at for c in controls] + [self.seen or since])


def _sync_from_file(controls: Controls, engagement: str, kind: str) -> None:
    """The schedule of `engagement` and `kind` as the engagements file says now (pauses
    kept); a file that became invalid changes nothing, and says why in the log."""
    path = controls.engagements_path
    if path is None:
        return
    try:
        found = [e for e in load_engagements(path) if e.name == engagement]
    except EngagementError as exc:
        logger.warning("{}: schedules not read again: {}", path, first_line(exc))
        return
    cron = getattr(found[0].schedules, kind, None) if found else None
    if cron is None:
        return
    existing = controls.scheduler.get_job(job_id(engagement, kind), jobstore="default")
    trigger = cron_trigger(cron, found[0].timezone)
    if existing is not None and repr(existing.trigger) == repr(trigger):
        return  # the job store already agrees with the file: nothing to change
    kwargs = dict(existing.kwargs) if existing is not None else {}
    schedule_engagement(controls.scheduler, found[0], path, controls.store, kinds=(kind,), **kwargs)


def when(job: Job) -> str:
    """A job's next run time, or 'paused'."""
    next_run: datetime | None = job.next_run_time
    return next_run.isoformat(timespec="seconds") if next_run else "paused"
