"""`quotebot worker`: a fleet process on any machine that can reach the database; and the
fleet's side of `quotebot run` (the run's jobs deferred, then waited for)."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path

import click

from quotebot._options import (
    engagements_option,
    load_engagements,
    metrics_options,
    named_engagements,
)
from schemas.engagement import Engagement
from schemas.settings import Settings
from schemas.work import RunKind, RunStatus, counts_text


@click.command("worker")
@click.option(
    "--engagement",
    "chosen",
    multiple=True,
    help="Work only this engagement's jobs (repeatable; default: every engagement).",
)
@click.option(
    "--slots",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Browsers of this process: one logged-in context per engagement each.",
)
@click.option("--until-idle", is_flag=True, help="Stop once no job is waiting (benchmarks).")
@engagements_option
@metrics_options
@click.pass_obj
def worker_command(
    settings: Settings,
    chosen: tuple[str, ...],
    slots: int,
    until_idle: bool,
    engagements_path: Path | None,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Work the fleet's jobs until SIGTERM or Ctrl-C, which finish the items in hand first."""
    from bots import FleetProcess, Metrics, MetricsPortTaken, run_worker
    from store import NeedsPostgres, open_store

    path, engagements = load_engagements(settings, engagements_path)
    named_engagements(path, engagements, chosen)
    known = {e.name: e for e in engagements}
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.effective_database_url)
    fleet = FleetProcess(settings, store, known, slots, chosen=chosen)
    if metrics_port is not None:
        fleet.metrics = Metrics(
            store,
            list(chosen or known),
            heartbeat_age=fleet.heartbeat_age,
            sessions=fleet.open_sessions,
        )
        try:
            fleet.metrics.serve(metrics_port, metrics_host)
        except MetricsPortTaken as exc:
            store.close()
            raise click.ClickException(str(exc)) from None
    try:
        run_worker(fleet, queues=list(chosen) or None, until_idle=until_idle)
    except NeedsPostgres as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    done = counts_text(fleet.counts, "no items")
    click.echo(f"worker {fleet.name} stopped: {done}")


def fleet_run(
    settings: Settings, engagement: Engagement, kinds: list[RunKind], today: datetime | None
) -> int:
    """Start each run on the fleet and wait for the fleet to finish it; the exit status."""
    from bots import start_fleet_run, tasks
    from store import NeedsPostgres, RunAlreadyRunning, open_store

    store = open_store(settings.effective_database_url)
    try:
        app = store.task_queue(tasks)
        with app.open():
            for kind in kinds:
                run = start_fleet_run(
                    store, app, engagement, kind, today.date() if today else date.today(), settings
                )
                click.echo(f"{engagement.name} {kind} run {run.id}: deferred to the fleet")
                while run.status is RunStatus.RUNNING:
                    time.sleep(1.0)
                    run = store.run(run.id)
                counts = counts_text(run.counts)
                click.echo(f"{engagement.name} {kind} run {run.id}: {run.status}; {counts}")
                if run.status is not RunStatus.SUCCEEDED:
                    if run.error:
                        click.echo(f"{engagement.name} {kind} run {run.id}: {run.error}", err=True)
                    return 1
    except (NeedsPostgres, RunAlreadyRunning) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    return 0


@click.command("workers")
@click.pass_obj
def workers_command(settings: Settings) -> None:
    """List the fleet's worker processes: host, process, engagements, slots, the items in
    hand and the last heartbeat. A worker silent past the stalled-worker time-out
    (QUOTEBOT_FLEET_TIMINGS__STALLED_AFTER_S) is shown dead: its jobs go to the others."""
    from store import open_store

    store = open_store(settings.effective_database_url)
    try:
        if store.dialect != "postgresql":
            click.echo(
                "no fleet: the store is the embedded SQLite file, where runs work their items"
                " in-process; a fleet needs a PostgreSQL QUOTEBOT_DATABASE_URL"
            )
            return
        workers = store.fleet_workers()
        now = store.now()
    finally:
        store.close()
    if not workers:
        click.echo("no workers registered: start some with `quotebot worker`")
        return
    stalled = settings.fleet_timings.stalled_after_s
    rows = [("host", "process", "state", "engagements", "slots", "heartbeat", "in hand")]
    for worker in workers:
        in_hand = "; ".join(
            f"{i.engagement} {i.kind.value} item {i.item_id} {i.opportunity_id}"
            f" (run {i.run_id}, {(now - i.since).total_seconds():.0f} s)"
            for i in worker.in_hand
        )
        rows.append(
            (
                worker.host,
                str(worker.pid),
                "alive" if worker.alive(now, stalled) else "dead",
                ",".join(worker.engagements) or "all",
                str(worker.slots),
                f"{worker.age_s(now):.1f} s ago",
                in_hand or "-",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())
    alive = sum(w.alive(now, stalled) for w in workers)
    click.echo(f"{alive} alive, {len(workers) - alive} dead (silent over {stalled:g} s)")
