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

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from loguru import logger

from schemas.engagement import Engagement, EngagementError, cron_trigger, load_engagements
from schemas.settings import Settings
from schemas.work import RunKind, RunStatus
from store import RunAlreadyRunning, Store, open_store
from store._engine import writer

JOBS_TABLE = "apscheduler_jobs"
KINDS = ("quote", "booking")
GRACE_S = 15 * 60
"""A run time missed by up to this much (scheduler down) still runs, once, on restart."""
POLL_S = 5.0
"""How often a running scheduler looks for jobs other processes added, paused or ran now."""
JOB_FUNCTION = "scheduler:run_job"

STOP = threading.Event()
"""Set by `stop_runs()` (on SIGTERM): no run of this process starts any more."""

# One stop event per run in progress: a run's own workers set theirs when they give up,
# which must not stop the runs of other engagements.
_running: set[threading.Event] = set()
_running_lock = threading.Lock()

_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def job_id(engagement: str, kind: str) -> str:
    return f"{kind}:{engagement}"


def process_store(settings: Settings | None = None) -> Store:
    """This process's one store (the jobs run in threads and share it)."""
    url = (settings or Settings()).effective_database_url
    with _stores_lock:
        if url not in _stores:
            _stores[url] = open_store(url)
        return _stores[url]


def make_scheduler(
    store: Store, *, threads: int = 4, grace_s: float = GRACE_S
) -> BackgroundScheduler:
    """A scheduler whose jobs live in the store's database; not started."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.configure(**_config(store, threads=threads, grace_s=grace_s))
    return scheduler


def _config(store: Store, *, threads: int, grace_s: float) -> dict[str, Any]:
    # The store's engine: SQLite writes take the lock up front and wait on busy_timeout.
    jobstore = SQLAlchemyJobStore(engine=writer(store.engine), tablename=JOBS_TABLE)
    return {
        "jobstores": {"default": jobstore, "memory": MemoryJobStore()},
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
def job_editor(settings: Settings | None = None) -> Iterator[BaseScheduler]:
    """The job store, to list and change jobs from the command line or another process."""
    editor = _Editor(timezone=UTC)
    editor.configure(**_config(process_store(settings), threads=1, grace_s=GRACE_S))
    editor.start(paused=True)
    try:
        yield editor
    finally:
        editor.shutdown(wait=False)


def schedule_engagement(
    scheduler: BaseScheduler, engagement: Engagement, engagements_path: Path,
    **job_kwargs: object,
) -> list[Job]:  # fmt: skip
    """Add (or bring up to date) the engagement's jobs from its schedules; pauses are kept."""
    # Registered now, so that a run that cannot even begin can be recorded as failed.
    process_store().ensure_engagement(engagement.name, engagement.flavour, engagement.url)
    jobs = []
    for kind in KINDS:
        ident = job_id(engagement.name, kind)
        existing = scheduler.get_job(ident, jobstore="default")
        cron = getattr(engagement.schedules, kind)
        if cron is None:
            if existing is not None:
                existing.remove()
            continue
        job = scheduler.add_job(
            JOB_FUNCTION, cron_trigger(cron, engagement.timezone), id=ident,
            name=f"{engagement.name} {kind}", jobstore="default", replace_existing=True,
            args=[engagement.name, kind, str(Path(engagements_path).resolve())],
            kwargs=job_kwargs,
        )  # fmt: skip
        if existing is not None and existing.next_run_time is None:
            scheduler.pause_job(ident, jobstore="default")
        jobs.append(scheduler.get_job(ident, jobstore="default") or job)
    return jobs


def run_job(
    engagement_name: str, kind: str, engagements_path: str, *,
    today: str | None = None, progress: bool = False, workers: int | None = None,
) -> None:  # fmt: skip
    """One scheduled run. Never raises: the outcome is on the run row and in the log."""
    from bots import RunOptions, run_engagement

    log = logger.bind(engagement=engagement_name, kind=kind)
    if STOP.is_set():
        log.info("stopping: {} run not started", kind)
        return
    settings = Settings()
    store = process_store(settings)
    try:
        found = {e.name: e for e in load_engagements(Path(engagements_path))}
        if engagement_name not in found:
            raise EngagementError(Path(engagements_path), "engagements", f"no '{engagement_name}'")
    except EngagementError as exc:
        _record_failure(store, engagement_name, kind, str(exc))
        return
    options = RunOptions(workers=workers, progress=progress,
                         today=date.fromisoformat(today) if today else None)  # fmt: skip
    with _running_lock:
        if STOP.is_set():
            return
        _running.add(options.stop)
    try:
        result = run_engagement(found[engagement_name], kind, store, settings=settings,
                                options=options)  # fmt: skip
    except RunAlreadyRunning as exc:
        log.warning("{} run not started: {}", kind, exc)
        return
    except Exception as exc:  # noqa: BLE001 - already on the run row; keep the scheduler up
        log.error("{} run failed: {}", kind, _first_line(exc))
        return
    finally:
        with _running_lock:
            _running.discard(options.stop)
    log.info("{} run {} {}: {}", kind, result.run.id, result.run.status.value, dict(result.counts))


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
    engagements_path: Path, *, grace_s: float = GRACE_S, poll_s: float = POLL_S,
    threads: int = 4, announce: Callable[[str], object] = click.echo,
) -> None:  # fmt: skip
    """Run the scheduled jobs until SIGTERM or SIGINT, then stop after the items in hand."""
    load_engagements(engagements_path)  # a bad file stops us before anything runs
    scheduler = make_scheduler(process_store(), threads=threads, grace_s=grace_s)
    # Wakes the scheduler so that it sees jobs other processes added, paused or ran now.
    scheduler.add_job(_poll, "interval", seconds=poll_s, id="poll", jobstore="memory",
                      misfire_grace_time=None)  # fmt: skip
    quit_now = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.warning("{}: stopping after the items in hand", signal.Signals(signum).name)
        quit_now.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _report_missed(grace_s, announce)
    scheduler.start()
    for job in scheduler.get_jobs(jobstore="default"):
        announce(f"{job.id}: next run {_when(job)}")
    quit_now.wait()
    stop_runs()
    scheduler.shutdown(wait=True)
    announce("scheduler stopped")


def _report_missed(grace_s: float, announce: Callable[[str], object]) -> None:
    """Say which run times passed while no scheduler ran, and what happens to them."""
    now = datetime.now(UTC)
    with job_editor() as editor:
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


def _poll() -> None:
    """Nothing to do: waking up is the point."""


def _when(job: Job) -> str:
    next_run: datetime | None = job.next_run_time
    return next_run.isoformat(timespec="seconds") if next_run else "paused"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- the command line: `quotebot schedule …` and `quotebot scheduler start` ---------------

_engagements_option = click.option(
    "--engagements", "engagements_path", type=click.Path(path_type=Path), default=None,
    help="The engagements file (default: $QUOTEBOT_ENGAGEMENTS or ./engagements.yaml).",
)  # fmt: skip
_kind_option = click.option(
    "--kind", type=click.Choice([*KINDS, "both"]), default="both", show_default=True,
    help="Quoting runs, booking runs, or both.",
)  # fmt: skip


def _load(path: Path | None) -> tuple[Path, list[Engagement]]:
    path = path or Settings().engagements
    try:
        return path, load_engagements(path)
    except EngagementError as exc:
        raise click.ClickException(f"{exc}\nnothing was scheduled") from None


def _pick_jobs(scheduler: BaseScheduler, engagement: str, kind: str) -> list[Job]:
    kinds = KINDS if kind == "both" else (kind,)
    jobs = [scheduler.get_job(job_id(engagement, k), jobstore="default") for k in kinds]
    found = [job for job in jobs if job is not None]
    if not found:
        raise click.ClickException(
            f"no {'' if kind == 'both' else kind + ' '}schedule for '{engagement}' "
            "(see `quotebot schedule list`; add one with `quotebot schedule add`)"
        )
    return found


@click.group("schedule")
def schedule_group() -> None:
    """See and change when each engagement runs (quoting and booking schedules)."""


@schedule_group.command("list")
def schedule_list() -> None:
    """List every scheduled job: engagement, kind, schedule and next run (UTC)."""
    with job_editor() as scheduler:
        jobs = scheduler.get_jobs(jobstore="default")
        if not jobs:
            click.echo("nothing scheduled (add with `quotebot schedule add ENGAGEMENT`)")
        for job in sorted(jobs, key=lambda j: (j.args[0], j.args[1] != "quote")):
            engagement, kind = job.args[0], job.args[1]
            click.echo(f"{engagement:<20} {kind:<8} {_when(job):<26} {job.trigger}")


@schedule_group.command("add")
@click.argument("engagement", required=False)
@click.option("--all", "add_all", is_flag=True, help="Schedule every engagement of the file.")
@_engagements_option
def schedule_add(engagement: str | None, add_all: bool, engagements_path: Path | None) -> None:
    """Schedule an engagement's runs from its `schedules` in the engagements file.

    Run it again after editing the file to bring the schedule up to date (a paused
    schedule stays paused). A bad engagements, selectors or rules file schedules nothing.
    """
    path, engagements = _load(engagements_path)
    if add_all == (engagement is not None):
        raise click.UsageError("name one ENGAGEMENT, or give --all")
    chosen = engagements if add_all else [e for e in engagements if e.name == engagement]
    if not chosen:
        known = ", ".join(e.name for e in engagements) or "none"
        raise click.ClickException(f"{path}: no engagement '{engagement}' (known: {known})")
    with job_editor() as scheduler:
        for one in chosen:
            jobs = schedule_engagement(scheduler, one, path)
            for job in jobs:
                click.echo(f"scheduled {job.name}: next run {_when(job)}")
            if not jobs:
                click.echo(f"{one.name}: no schedules in {path}, nothing scheduled")


def _change(action: str, engagement: str, kind: str) -> None:
    with job_editor() as scheduler:
        for job in _pick_jobs(scheduler, engagement, kind):
            if action == "remove":
                job.remove()
                click.echo(f"removed {job.name}")
                continue
            if action == "run-now":
                job.modify(next_run_time=datetime.now(UTC))
            else:
                job.pause() if action == "pause" else job.resume()
            # Job's methods return the object as it was: read back what the store holds.
            stored = scheduler.get_job(job.id, jobstore="default")
            click.echo(f"{job.name}: next run {_when(stored) if stored else 'removed'}")
    if action == "run-now":
        click.echo(f"a running scheduler starts it within {POLL_S:.0f} s "
                   "(`quotebot scheduler start`)")  # fmt: skip


@schedule_group.command("pause")
@click.argument("engagement")
@_kind_option
def schedule_pause(engagement: str, kind: str) -> None:
    """Stop scheduling an engagement's runs until resumed (a run in progress carries on)."""
    _change("pause", engagement, kind)


@schedule_group.command("resume")
@click.argument("engagement")
@_kind_option
def schedule_resume(engagement: str, kind: str) -> None:
    """Schedule a paused engagement again, from its next regular time."""
    _change("resume", engagement, kind)


@schedule_group.command("remove")
@click.argument("engagement")
@_kind_option
def schedule_remove(engagement: str, kind: str) -> None:
    """Take an engagement off the schedule (its runs and work items are kept)."""
    _change("remove", engagement, kind)


@schedule_group.command("run-now")
@click.argument("engagement")
@click.option("--kind", type=click.Choice(KINDS), default="quote", show_default=True,
              help="Which scheduled run to start.")  # fmt: skip
def schedule_run_now(engagement: str, kind: str) -> None:
    """Ask the running scheduler to start an engagement's scheduled run now.

    To run in this terminal instead, with a progress bar, use `quotebot run ENGAGEMENT`.
    """
    _change("run-now", engagement, kind)


@click.group("scheduler")
def scheduler_group() -> None:
    """The scheduler service that starts engagements' runs on time."""


@scheduler_group.command("start")
@_engagements_option
@click.option("--grace", "grace_s", type=click.FloatRange(1), default=GRACE_S, show_default=True,
              help="Seconds a missed run may be late and still run (once) on restart.")  # fmt: skip
@click.option("--threads", type=click.IntRange(1, 32), default=4, show_default=True,
              help="Engagements that may run at the same time.")  # fmt: skip
def scheduler_start(engagements_path: Path | None, grace_s: float, threads: int) -> None:
    """Start the scheduler in the foreground; it runs engagements on their schedules.

    Stop it with Ctrl-C or SIGTERM: runs stop after the items in hand, nothing is left
    half-entered, and the schedules carry on from where they were at the next start.
    """
    path, _ = _load(engagements_path)
    Settings().home.mkdir(parents=True, exist_ok=True)
    serve(path, grace_s=grace_s, threads=threads, announce=click.echo)
