"""`quotebot demo --fleet`: the demo's quoting and booking worked by three `quotebot worker`
processes through the task queue on the PostgreSQL at `QUOTEBOT_DATABASE_URL`.

The demo's tables (ours and the queue's) go into a schema of their own, `quotebot_demo`,
emptied on each run as `var/demo/` is; nothing else in that database is touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bots import start_fleet_run, tasks
from schemas.engagement import Engagement
from schemas.errors import first_line
from schemas.settings import Settings
from schemas.work import Run, RunKind, RunStatus, counts_text
from store import Store, fresh_schema

WORKERS = 3
SCHEMA = "quotebot_demo"
STOP_WAIT_S = 120


def fleet_database(settings: Settings) -> str:
    """The URL of the demo's own schema in the PostgreSQL at `QUOTEBOT_DATABASE_URL`,
    emptied; a clear `ClickException` when that is unset, not PostgreSQL or unreachable."""
    url = settings.database_url
    if not url:
        raise click.ClickException(
            "quotebot demo --fleet needs QUOTEBOT_DATABASE_URL, the PostgreSQL the fleet"
            " shares, e.g. postgresql+psycopg://quotebot@127.0.0.1:5432/quotebot"
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise click.ClickException(
            "QUOTEBOT_DATABASE_URL is not a database URL: the fleet needs "
            "postgresql+psycopg://USER@HOST:PORT/DATABASE"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() != "postgresql":
        raise click.ClickException(
            f"QUOTEBOT_DATABASE_URL is {shown}: the fleet needs PostgreSQL"
            " (postgresql+psycopg://...); the demo without --fleet needs no database"
        )
    try:
        return fresh_schema(url, SCHEMA)
    except DBAPIError as exc:
        reason = first_line(exc.orig or exc)
        raise click.ClickException(f"cannot reach PostgreSQL at {shown}: {reason}") from None


def where(settings: Settings) -> str:
    """The demo's schema and database, for people (no password)."""
    parsed = make_url(str(settings.database_url))
    database = parsed.set(query={}).render_as_string(hide_password=True)
    return f"schema {SCHEMA} of {database}"


def start_workers(settings: Settings, engagements: Path) -> list[subprocess.Popen[str]]:
    """`WORKERS` processes of `quotebot worker`, one browser slot each, their output in
    `home/workers/`."""
    folder = settings.home / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "QUOTEBOT_HOME": str(settings.home),
        "QUOTEBOT_DATABASE_URL": str(settings.database_url),
        "QUOTEBOT_SECRETS_FILE": str(settings.secrets_file),
        "QUOTEBOT_FLEET": "true",
    }
    started = []
    for n in range(WORKERS):
        log = (folder / f"worker-{n + 1}.log").open("w", encoding="utf-8")
        command = [sys.executable, "-m", "quotebot", "worker", "--slots", "1"]
        started.append(
            subprocess.Popen(
                [*command, "--engagements", str(engagements)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
        )
        log.close()  # the child has its own copy
    return started


def stop_workers(settings: Settings, workers: list[subprocess.Popen[str]]) -> list[str]:
    """SIGTERM each worker (it finishes the item in hand) and wait; what each said it did."""
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    said = []
    for n, worker in enumerate(workers):
        try:
            worker.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        lines = (settings.home / "workers" / f"worker-{n + 1}.log").read_text().splitlines()
        stopped = [line for line in lines if line.startswith("worker ")]
        said.append(stopped[-1] if stopped else f"worker {n + 1} exited {worker.returncode}")
    return said


def run_on_fleet(
    store: Store,
    settings: Settings,
    engagements: list[Engagement],
    kind: RunKind,
    today: date,
    workers: list[subprocess.Popen[str]],
    echo: Callable[[str], object],
) -> list[Run]:
    """Each engagement's `kind` run, deferred to the fleet at once, waited for together."""
    app = store.task_queue(tasks)
    with app.open():
        runs = [start_fleet_run(store, app, e, kind, today, settings) for e in engagements]
    while any(r.status is RunStatus.RUNNING for r in runs):
        if all(w.poll() is not None for w in workers):
            raise click.ClickException(
                f"every worker exited before the {kind} runs ended: see {settings.home / 'workers'}"
            )
        time.sleep(0.5)
        runs = [store.run(r.id) for r in runs]
    for run in runs:
        counts = counts_text(run.counts, "nothing")
        echo(f"  {run.engagement} {kind} run {run.id}: {run.status}; {counts}")
    return runs
