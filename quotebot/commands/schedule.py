"""`quotebot schedule …` and `quotebot scheduler start`: schedules as operations staff see them."""

from __future__ import annotations

import getpass
from datetime import UTC
from pathlib import Path

import click
from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler

from quotebot._options import (
    RUN_KINDS,
    chosen_kinds,
    engagements_option,
    kind_option,
    load_engagements,
    metrics_options,
    named_engagements,
)
from scheduler import (
    GRACE_S,
    POLL_S,
    job_editor,
    job_id,
    process_store,
    schedule_engagement,
    serve,
)
from schemas.settings import Settings
from schemas.words import cron_words, kind_words

_kind_option = kind_option(both=True, default="both", help="Quoting runs, booking runs, or both.")
NOTHING = "nothing was scheduled"


def _pick_jobs(scheduler: BaseScheduler, engagement: str, kind: str) -> list[Job]:
    kinds = chosen_kinds(kind)
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
@click.pass_obj
def schedule_list(settings: Settings) -> None:
    """List every scheduled job: engagement, kind, schedule and next run (UTC)."""
    with job_editor(settings) as scheduler:
        jobs = scheduler.get_jobs(jobstore="default")
        if not jobs:
            click.echo("nothing scheduled (add with `quotebot schedule add ENGAGEMENT`)")
            return
        click.echo(f"{'ENGAGEMENT':<20} {'RUNS':<8} {'NEXT RUN (UTC)':<19}  WHEN")
        for job in sorted(jobs, key=lambda j: (j.args[0], j.args[1] != "quote")):
            engagement, kind = job.args[0], job.args[1]
            click.echo(f"{engagement:<20} {kind_words(kind):<8} {_next(job):<19}  {_when(job)}")


def _next(job: Job) -> str:
    """A job's next run time, UTC to the minute, or 'paused'."""
    moment = job.next_run_time
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "paused"


def _next_said(job: Job) -> str:
    moment = job.next_run_time
    return f"next run {_next(job)} UTC" if moment else "paused, no run until resumed"


def _when(job: Job) -> str:
    """A job's schedule in words ("06:00, Monday to Friday, America/New_York"), else as
    its cron expression."""
    fields = {f.name: str(f) for f in job.trigger.fields}
    order = ("second", "minute", "hour", "day", "month", "day_of_week")
    expression = " ".join(fields.get(name, "*") for name in order)
    said = cron_words(expression) or f"cron {expression.removeprefix('0 ')}"
    return f"{said}, {job.trigger.timezone}"


@schedule_group.command("add")
@click.argument("engagement", required=False)
@click.option("--all", "add_all", is_flag=True, help="Schedule every engagement of the file.")
@engagements_option
@click.pass_obj
def schedule_add(
    settings: Settings, engagement: str | None, add_all: bool, engagements_path: Path | None
) -> None:
    """Schedule an engagement's runs from its `schedules` in the engagements file.

    Run it again after editing the file to bring the schedule up to date (a paused
    schedule stays paused). A bad engagements, selectors or rules file schedules nothing.
    """
    path, engagements = load_engagements(settings, engagements_path, then=NOTHING)
    if add_all == (engagement is not None):
        raise click.UsageError("name one ENGAGEMENT, or give --all")
    chosen = engagements if add_all else named_engagements(path, engagements, [str(engagement)])
    with job_editor(settings) as scheduler:
        for one in chosen:
            jobs = schedule_engagement(scheduler, one, path, process_store(settings))
            for job in jobs:
                # Read back: a schedule paused before stays paused, and says so.
                stored = scheduler.get_job(job.id, jobstore="default") or job
                click.echo(f"scheduled {job.name}: {_next_said(stored)} ({_when(stored)})")
            if not jobs:
                click.echo(f"{one.name}: no schedules in {path}, nothing scheduled")


def _change(settings: Settings, action: str, engagement: str, kind: str) -> None:
    with job_editor(settings) as scheduler:
        for job in _pick_jobs(scheduler, engagement, kind):
            if action == "remove":
                job.remove()
                click.echo(f"removed {job.name}")
                continue
            if action != "run-now":  # a run now goes through the scheduler's controls only
                job.pause() if action == "pause" else job.resume()
            # The same control the web pages write: the trail says who, and a running
            # scheduler applying the web's controls agrees with the command line.
            process_store(settings).control_schedule(
                job.args[0],
                job.args[1],
                f"cli:{getpass.getuser()}",
                paused=None if action == "run-now" else action == "pause",
                run_now=action == "run-now",
            )
            # Job's methods return the object as it was: read back what the store holds.
            stored = scheduler.get_job(job.id, jobstore="default")
            if action == "run-now":
                click.echo(f"{job.name}: run asked for now")
            else:
                click.echo(f"{job.name}: {_next_said(stored) if stored else 'removed'}")
    if action == "run-now":
        click.echo(
            f"a running scheduler starts it within {POLL_S:.0f} s (`quotebot scheduler start`)"
        )


@schedule_group.command("pause")
@click.argument("engagement")
@_kind_option
@click.pass_obj
def schedule_pause(settings: Settings, engagement: str, kind: str) -> None:
    """Stop scheduling an engagement's runs until resumed (a run in progress carries on)."""
    _change(settings, "pause", engagement, kind)


@schedule_group.command("resume")
@click.argument("engagement")
@_kind_option
@click.pass_obj
def schedule_resume(settings: Settings, engagement: str, kind: str) -> None:
    """Schedule a paused engagement again, from its next regular time."""
    _change(settings, "resume", engagement, kind)


@schedule_group.command("remove")
@click.argument("engagement")
@_kind_option
@click.pass_obj
def schedule_remove(settings: Settings, engagement: str, kind: str) -> None:
    """Take an engagement off the schedule (its runs and work items are kept)."""
    _change(settings, "remove", engagement, kind)


@schedule_group.command("run-now")
@click.argument("engagement")
@click.option(
    "--kind",
    type=click.Choice(RUN_KINDS),
    default="quote",
    show_default=True,
    help="Which scheduled run to start.",
)
@click.pass_obj
def schedule_run_now(settings: Settings, engagement: str, kind: str) -> None:
    """Ask the running scheduler to start an engagement's scheduled run now.

    To run in this terminal instead, with a progress bar, use `quotebot run ENGAGEMENT`.
    """
    _change(settings, "run-now", engagement, kind)


@click.group("scheduler")
def scheduler_group() -> None:
    """The scheduler service that starts engagements' runs on time."""


@scheduler_group.command("start")
@engagements_option
@click.option(
    "--grace",
    "grace_s",
    type=click.FloatRange(1),
    default=GRACE_S,
    show_default=True,
    help="Seconds a missed run may be late and still run (once) on restart.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 32),
    default=4,
    show_default=True,
    help="Engagements that may run at the same time.",
)
@metrics_options
@click.pass_obj
def scheduler_start(
    settings: Settings,
    engagements_path: Path | None,
    grace_s: float,
    threads: int,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Start the scheduler in the foreground; it runs engagements on their schedules.

    Stop it with Ctrl-C or SIGTERM: runs stop after the items in hand, nothing is left
    half-entered, and the schedules carry on from where they were at the next start.
    """
    path, _ = load_engagements(settings, engagements_path, then=NOTHING)
    settings.home.mkdir(parents=True, exist_ok=True)
    from alerts import AlertConfigError
    from bots import MetricsPortTaken

    try:
        serve(
            path,
            settings,
            grace_s=grace_s,
            threads=threads,
            announce=click.echo,
            metrics_port=metrics_port,
            metrics_host=metrics_host,
        )
    except (MetricsPortTaken, AlertConfigError) as exc:
        raise click.ClickException(str(exc)) from None
